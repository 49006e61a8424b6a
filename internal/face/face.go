// Package face is agegender's domain: the faces found in an image and their
// estimates, the reason an input failed, the detection mode, and the
// Estimator port that the inference engine implements. It imports no ONNX
// Runtime, so the pipeline, the writers, the HTTP layer and the commands can
// be built without cgo and tested with a fake estimator.
package face

import (
	"context"
	"errors"
	"fmt"
	"image"
)

// Estimator finds the faces in decoded images and estimates their age and
// gender. internal/predict's Engine is the real one; tests use fakes.
type Estimator interface {
	// FacesContext returns each image's faces, or errs[i] when image i
	// failed; it stops once ctx is done, failing the unfinished images.
	FacesContext(ctx context.Context, imgs []*image.NRGBA) (faces [][]Face, errs []error)
	// Mode is the detection mode the estimator runs in.
	Mode() Mode
}

// EngineInfo describes a loaded engine, for `version`, eval's summary and
// /health.
type EngineInfo struct {
	// Preset is the embedded preset in use ("accurate", "fast"), or ""
	// for a model file.
	Preset       string
	Model        string
	ModelVersion string
	ORTVersion   string
	Mode         Mode
	// Input is the model's input, e.g. "64x64 RGB".
	Input    string
	Detector string
	// IntervalLevel is the share of each age distribution the age
	// interval holds, or 0 for a model that gives no distribution.
	IntervalLevel float64
}

// Describe names the model in a line: "agegender-v4 2026-12-07+1a2b3c4d
// (preset accurate, input 160x160 RGB)"; a model file has no preset.
func (i EngineInfo) Describe() string {
	what := "input " + i.Input
	if i.Preset != "" {
		what = "preset " + i.Preset + ", " + what
	}
	return fmt.Sprintf("%s %s (%s)", i.Model, i.ModelVersion, what)
}

// Fields describe the engine as version --json and GET /health report it.
func (i EngineInfo) Fields() map[string]any {
	out := map[string]any{
		"model": i.Model, "model_version": i.ModelVersion, "ort_version": i.ORTVersion,
		"detect": string(i.Mode), "input": i.Input, "detector": i.Detector,
	}
	if i.Preset != "" {
		out["preset"] = i.Preset
	}
	if i.IntervalLevel > 0 {
		out["age_interval"] = i.IntervalLevel
	}
	return out
}

// ErrNoFace is the per-image error in mode "on" when nothing was detected.
var ErrNoFace = errors.New("no face found")

// Largest returns the index of the face with the biggest box, the first on a
// tie: the one that is the prediction for a photo of one person with
// bystanders. It returns -1 for no faces.
func Largest(faces []Face) int {
	best, bestArea := -1, -1.0
	for i, f := range faces {
		if a := f.Box.W * f.Box.H; a > bestArea {
			best, bestArea = i, a
		}
	}
	return best
}

// Mode says how faces are found in an image.
type Mode string

const (
	// DetectAuto detects faces; when none is found on an image that is itself
	// a tight face crop, the whole image is used and marked Detected=false.
	DetectAuto Mode = "auto"
	// DetectOn detects faces; an image without one is an error ("no face found").
	DetectOn Mode = "on"
	// DetectOff takes the whole image as one face, as the reference system does.
	DetectOff Mode = "off"
)

// ParseMode checks a --detect value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case DetectAuto, DetectOn, DetectOff:
		return m, nil
	}
	return "", fmt.Errorf("invalid detection mode %q: want auto, on or off", s)
}

// Gender labels, as the reference API spells them.
const (
	Male   = "Male"
	Female = "Female"
)

// Box is an axis-aligned rectangle in original image pixels.
type Box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Point is a position in original image pixels.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Face is one face and its estimates.
type Face struct {
	Index int     `json:"index"`
	Box   Box     `json:"box"`
	Score float64 `json:"score"` // detector confidence; 0 when not detected
	// Keypoints are the detector's right eye, left eye, nose, mouth, right ear
	// and left ear (the subject's sides); empty when not detected.
	Keypoints []Point `json:"keypoints,omitempty"`
	Age       float64 `json:"age"`
	// AgeLow and AgeHigh bound the central interval of the model's age
	// distribution that holds the engine's interval level of it (80% unless
	// asked otherwise), calibrated so that it holds the true age as often;
	// nil for a model that gives no distribution.
	AgeLow  *float64 `json:"age_low,omitempty"`
	AgeHigh *float64 `json:"age_high,omitempty"`
	Gender  string   `json:"gender"`
	// GenderProbability is the model's probability of Gender (always >= 0.5).
	GenderProbability float64 `json:"gender_probability"`
	// Detected is false when the whole image was taken as the face.
	Detected bool `json:"detected"`
}

// Image is the outcome for one input.
type Image struct {
	Input  string `json:"input"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	Detect Mode   `json:"detect"`
	Faces  []Face `json:"faces"`
	// Err is set when the input could not be processed; Faces is then empty.
	Err error `json:"-"`
}

// Failed reports whether the input counts as a failure for the exit code.
func (im Image) Failed() bool { return im.Err != nil }

// ErrorText is Err as text, or "" when the input succeeded.
func (im Image) ErrorText() string {
	if im.Err == nil {
		return ""
	}
	return im.Err.Error()
}

// GenderFromFemale turns the model's female probability into a label and the
// probability of that label.
func GenderFromFemale(pFemale float64) (string, float64) {
	if pFemale >= 0.5 {
		return Female, pFemale
	}
	return Male, 1 - pFemale
}
