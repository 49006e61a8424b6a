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
	// WorkingMemory is about the most memory, in bytes, that estimating
	// a decoded width x height image takes beyond its pixels: the
	// detector's passes and the copy of its padded retry. Memory budgets
	// add it to the image's decode cost (preprocess.Header.CostWith).
	WorkingMemory(width, height int) int64
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
