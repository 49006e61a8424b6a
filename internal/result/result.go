// Package result holds what agegender reports for each input: the faces found
// and their estimates, or the reason the input failed. It has no dependencies,
// so the writers and the HTTP layer can be tested without ONNX Runtime.
package result

import "fmt"

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
	Gender    string  `json:"gender"`
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
