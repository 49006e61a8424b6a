package predict

import (
	"math"
	"testing"
)

// round never gives -0, which JSON writes as "-0" (the server's replies and
// every output): a box edge a hair left of the image rounds to a plain 0.
func TestRoundHasNoNegativeZero(t *testing.T) {
	for _, v := range []float64{-0.04, -0.0001, math.Copysign(0, -1)} {
		if r := round(v, 1); r != 0 || math.Signbit(r) {
			t.Errorf("round(%v, 1) = %v (sign bit %v), want 0", v, r, math.Signbit(r))
		}
	}
	if r := round(-0.06, 1); r != -0.1 {
		t.Errorf("round(-0.06, 1) = %v", r)
	}
}
