package predict

import (
	"encoding/json"
	"fmt"

	"github.com/agegender/agegender/internal/preprocess"
)

// metadataKey is the ONNX metadata_props key that holds the model contract.
const metadataKey = "agegender"

// contract is the part of a model's metadata the engine needs. training/
// pipeline.py (contract()) writes it; any model carrying it runs unchanged.
type contract struct {
	Schema  int    `json:"schema"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Input   struct {
		Name   string  `json:"name"`
		Layout string  `json:"layout"`
		Width  int     `json:"width"`
		Height int     `json:"height"`
		Color  string  `json:"color"`
		Resize string  `json:"resize"`
		Scale  float64 `json:"scale"`
		Offset float64 `json:"offset"`
	} `json:"input"`
	Crop    Framing `json:"crop"`
	Outputs struct {
		Age struct {
			Name string `json:"name"`
			Unit string `json:"unit"`
		} `json:"age"`
		Gender struct {
			Name     string `json:"name"`
			Positive string `json:"positive"`
		} `json:"gender"`
		// AgeDistribution is optional: models from v4 on give one, and
		// each face's age interval is read from it.
		AgeDistribution ageDistribution `json:"age_distribution"`
	} `json:"outputs"`
}

// Framing says where a face sits in the crops the model was trained on, as
// fractions of the crop side, measured by running the detector on UTKFace's
// aligned crops (see training/framing). Zero values mean "no framing measured".
type Framing struct {
	Style string `json:"style"`
	// Box is the detector's face box in the crop.
	BoxCenterX float64 `json:"box_center_x"`
	BoxCenterY float64 `json:"box_center_y"`
	BoxSide    float64 `json:"box_side"`
	// Eyes are the midpoint between the eyes and the distance between them.
	EyeCenterX  float64 `json:"eye_center_x"`
	EyeCenterY  float64 `json:"eye_center_y"`
	EyeDistance float64 `json:"eye_distance"`
	// Keypoints, when present, are where the detector's keypoints sit in the
	// crop, by name ("right_eye", "nose", ...): the crop is then fitted to all
	// of them rather than placed by the eyes alone.
	Keypoints map[string][2]float64 `json:"keypoints,omitempty"`
	// Margin scales the crop's side around its centre once it is placed:
	// 1.3 gives the model 30% more of the head and its surroundings than
	// the template holds. Zero means 1, the template as measured.
	Margin float64 `json:"margin,omitempty"`
}

// scale is the factor Margin asks for.
func (f Framing) scale() float64 {
	if f.Margin > 0 {
		return f.Margin
	}
	return 1
}

// Measured reports whether the framing can place a detected face.
func (f Framing) Measured() bool { return f.BoxSide > 0 && f.BoxCenterX > 0 && f.BoxCenterY > 0 }

// parseContract reads and checks the metadata JSON.
func parseContract(raw string) (contract, error) {
	var c contract
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("metadata %q is not valid JSON: %w", metadataKey, err)
	}
	if c.Schema != 1 {
		return c, fmt.Errorf("metadata schema %d is not supported (want 1)", c.Schema)
	}
	if c.Input.Layout != "NCHW" {
		return c, fmt.Errorf("input layout %q is not supported (want NCHW)", c.Input.Layout)
	}
	if c.Input.Color != "rgb" && c.Input.Color != "gray" {
		return c, fmt.Errorf("input color %q is not supported (want rgb or gray)", c.Input.Color)
	}
	if c.Input.Resize != "bilinear-antialias" {
		return c, fmt.Errorf("input resize %q is not supported (want bilinear-antialias)", c.Input.Resize)
	}
	if c.Input.Name == "" || c.Outputs.Age.Name == "" || c.Outputs.Gender.Name == "" {
		return c, fmt.Errorf("metadata lacks the input or output names")
	}
	if c.Outputs.Gender.Positive != "Female" && c.Outputs.Gender.Positive != "Male" {
		return c, fmt.Errorf("gender output's positive label %q is not Female or Male", c.Outputs.Gender.Positive)
	}
	if d := c.Outputs.AgeDistribution; d.Name != "" && (d.Bins < 2 || d.BinYears <= 0) {
		return c, fmt.Errorf("age distribution output %q needs bins >= 2 and bin_years > 0 (has %d and %g)", d.Name, d.Bins, d.BinYears)
	}
	if err := c.Spec().Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Spec is the preprocessing the contract asks for.
func (c contract) Spec() preprocess.Spec {
	return preprocess.Spec{
		Width: c.Input.Width, Height: c.Input.Height, Gray: c.Input.Color == "gray",
		Scale: float32(c.Input.Scale), Offset: float32(c.Input.Offset),
	}
}
