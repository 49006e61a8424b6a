//go:build cgo

// The end-to-end tests run the built binary with ONNX Runtime, so they
// build only where cgo is on.

package main_test

import (
	"encoding/json"
	"testing"
)

// TestFirstRunAstronaut runs the README's first command on the photo shipped
// in testdata/, so that a clone with no ../shared beside it still has a face
// to predict on, and checks the answer is the astronaut's face.
//
// The photo (512x512) is Eileen Collins, born 1956 and in her late thirties
// or forties in it. Her gender is near chance for our models: v2 said Female
// at 0.571, v3 says 29.1 years and Male at 0.586. The test records that
// rather than hides it: a wrong gender must come with low confidence. The age range is loose on purpose (an
// adult's, not her age), so a retrained model that is better on her still
// passes, while a crop of the wrong region (a child's or an old man's
// answer, a box off the face) fails.
func TestFirstRunAstronaut(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	r := agegender(t, nil, "predict", "--json", "../../testdata/astronaut.png")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var objs []struct {
		Width, Height int
		Faces         []struct {
			Box struct {
				X, Y, W, H float64
			}
			Detected          bool
			Age               float64
			AgeLow            *float64 `json:"age_low"`
			AgeHigh           *float64 `json:"age_high"`
			Gender            string
			GenderProbability float64 `json:"gender_probability"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || len(objs) != 1 {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	o := objs[0]
	if o.Width != 512 || o.Height != 512 {
		t.Errorf("size %dx%d, want 512x512", o.Width, o.Height)
	}
	if len(o.Faces) != 1 {
		t.Fatalf("found %d faces, want 1: %+v", len(o.Faces), o.Faces)
	}
	f := o.Faces[0]
	if !f.Detected {
		t.Errorf("face not detected (the whole image was used)")
	}
	// Her face spans about x 175-275, y 55-185 of the photo.
	cx, cy := f.Box.X+f.Box.W/2, f.Box.Y+f.Box.H/2
	if cx < 195 || cx > 255 || cy < 85 || cy > 155 || f.Box.W < 60 || f.Box.W > 160 {
		t.Errorf("box %+v (centre %.0f,%.0f) is not on her face", f.Box, cx, cy)
	}
	if f.Gender != "Female" && f.GenderProbability > 0.7 {
		t.Errorf("gender %q at %.3f: want Female, or a wrong answer under 0.7", f.Gender, f.GenderProbability)
	}
	if f.Age < 20 || f.Age > 60 {
		t.Errorf("age %.1f, want an adult's (20-60)", f.Age)
	}
	// The default preset gives each face its age interval, around the age.
	if f.AgeLow == nil || f.AgeHigh == nil || *f.AgeLow > f.Age || f.Age > *f.AgeHigh || *f.AgeLow >= *f.AgeHigh {
		t.Errorf("age %.1f with interval %v..%v: want low < age < high", f.Age, f.AgeLow, f.AgeHigh)
	}
}
