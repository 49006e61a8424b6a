// Package eval scores agegender's estimates against known ages and genders:
// labels come from UTKFace file names or a CSV file, a scorer accumulates
// the results of a batch run, and the Summary it makes is printed as text or
// JSON and written as a report folder with plots.
//
// Every input ends up in exactly one of four places: scored, failed,
// unlabelled or no_face, so that an evaluation never silently drops inputs
// and its numbers say what they were computed on.
package eval

import "github.com/agegender/agegender/internal/face"

// Summary is the outcome of an evaluation: what `agegender eval --json`
// prints and what summary.json in the report folder holds.
type Summary struct {
	// Model, ModelVersion and Detect describe the engine that was evaluated.
	Model        string `json:"model,omitempty"`
	ModelVersion string `json:"model_version,omitempty"`
	Detect       string `json:"detect,omitempty"`
	// Engine is the whole description of the engine, as `version --json`
	// and GET /health give it (face.EngineInfo.Fields): preset, detector,
	// ONNX Runtime and the age interval's level besides the model.
	Engine map[string]any `json:"engine,omitempty"`
	// Split is all, val or train; Excluded counts the files it left out
	// before they were run (they are in none of the lists below).
	Split    string `json:"split,omitempty"`
	Excluded int    `json:"excluded_by_split"`
	Counts   Counts `json:"counts"`
	// Overall covers every scored input.
	Overall Metrics `json:"overall"`
	// ByAge has one group per true-age bucket (see Buckets), always all of
	// them, in order; an empty one has n 0.
	ByAge []Group `json:"by_age"`
	// ByRace has one group per UTKFace race present among the scored inputs;
	// it is absent when no label carried a race.
	ByRace []Group `json:"by_race,omitempty"`
	// AdultByRace is ByRace over the faces aged 20 or older (adultAge), and
	// AdultRaceMAESpread the largest minus the smallest age MAE among its
	// groups: how evenly the model serves adults of every race (children's
	// errors are smaller for everyone and would mask it).
	AdultByRace        []Group `json:"adult_by_race,omitempty"`
	AdultRaceMAESpread float64 `json:"adult_race_mae_spread"`
	// Worst are the scored inputs with the largest absolute age error.
	Worst []Point `json:"worst"`
	// Failed, Unlabelled and NoFace list every input of that kind, in input order.
	Failed     []Failure `json:"failed"`
	Unlabelled []string  `json:"unlabelled"`
	NoFace     []string  `json:"no_face"`
}

// Counts adds up as Inputs = Scored + Failed + Unlabelled + NoFace.
type Counts struct {
	Inputs     int `json:"inputs"`
	Scored     int `json:"scored"`
	Failed     int `json:"failed"`
	Unlabelled int `json:"unlabelled"`
	NoFace     int `json:"no_face"`
	// MultiFace counts scored inputs with more than one face, whose largest
	// face was taken as the prediction: many of them hint at false detections.
	MultiFace int `json:"multi_face"`
}

// Metrics are the scores of a set of inputs. With N 0 every score is 0.
type Metrics struct {
	N int `json:"n"`
	// AgeMAE is the mean absolute age error in years, AgeRMSE its root mean
	// square, AgeWithin5 the share (0..1) of errors of at most 5 years, and
	// AgeBias the mean signed error, predicted minus true (positive: too old).
	AgeMAE     float64 `json:"age_mae"`
	AgeRMSE    float64 `json:"age_rmse"`
	AgeWithin5 float64 `json:"age_within_5"`
	AgeBias    float64 `json:"age_bias"`
	// GenderAccuracy is the share (0..1) of correct genders.
	GenderAccuracy float64 `json:"gender_accuracy"`
	// GenderECE is the expected calibration error of gender_probability:
	// over 10 equal-width bins of the probability of the predicted gender,
	// the gap between that probability and the share that is right,
	// weighted by the bin's share of the faces. 0 means the probability
	// means exactly what it says.
	GenderECE       float64   `json:"gender_ece"`
	GenderConfusion Confusion `json:"gender_confusion"`
	// IntervalN counts the faces with an age interval (a model with an age
	// distribution gives every face one); IntervalCoverage is the share of
	// them whose true age lies inside it, and IntervalWidth its mean width
	// in years. An interval at level 0.8 that means what it says covers
	// 0.8 of true ages.
	IntervalN        int     `json:"age_interval_n,omitempty"`
	IntervalCoverage float64 `json:"age_interval_coverage,omitempty"`
	IntervalWidth    float64 `json:"age_interval_width,omitempty"`
}

// Confusion is the 2x2 gender confusion matrix, true gender first.
type Confusion struct {
	MaleAsMale     int `json:"male_as_male"`
	MaleAsFemale   int `json:"male_as_female"`
	FemaleAsMale   int `json:"female_as_male"`
	FemaleAsFemale int `json:"female_as_female"`
}

// Group is the metrics of one age bucket or race.
type Group struct {
	Name string `json:"name"`
	Metrics
}

// Failure is an input that could not be processed.
type Failure struct {
	Input string `json:"input"`
	Error string `json:"error"`
}

// Point is one scored input: its label and the largest face's estimates.
type Point struct {
	Input      string  `json:"input"`
	TrueAge    float64 `json:"true_age"`
	PredAge    float64 `json:"predicted_age"`
	TrueGender string  `json:"true_gender"`
	PredGender string  `json:"predicted_gender"`
	// GenderProbability is the model's probability of PredGender.
	GenderProbability float64 `json:"gender_probability"`
	// Race is the UTKFace race index, -1 when unknown.
	Race int `json:"race"`
	// Faces is how many faces the input had; the largest was scored.
	Faces int `json:"faces"`
	// AgeLow and AgeHigh are the face's age interval, when the model gives one.
	AgeLow  *float64 `json:"age_low,omitempty"`
	AgeHigh *float64 `json:"age_high,omitempty"`
}

// Covered reports whether p has an age interval and whether the true age
// lies inside it.
func (p Point) Covered() (has, inside bool) {
	if p.AgeLow == nil || p.AgeHigh == nil {
		return false, false
	}
	return true, *p.AgeLow <= p.TrueAge && p.TrueAge <= *p.AgeHigh
}

// AgeError is predicted minus true age.
func (p Point) AgeError() float64 { return p.PredAge - p.TrueAge }

// DescribeEngine names the engine that was evaluated, from the same
// description `version` and /health print.
func (s *Summary) DescribeEngine(info face.EngineInfo) {
	s.Model, s.ModelVersion, s.Detect = info.Model, info.ModelVersion, string(info.Mode)
	s.Engine = info.Fields()
}
