package face

import (
	"math"
	"testing"
)

func TestDetectParamsValidate(t *testing.T) {
	if err := DefaultDetectParams().Validate(); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
	nan := math.NaN()
	for _, p := range []DetectParams{{MinScore: -0.1}, {MinScore: 1.1}, {MinScore: nan}, {MaxFaces: -1}, {MinSize: -1},
		{MinSize: nan}, {MinSize: math.Inf(1)}, {InputSize: -1}, {InputSize: 32}, {InputSize: 1 << 30}, {SecondSide: 63}, {SecondSide: MaxSide + 1}, {NMSThreshold: nan}} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
