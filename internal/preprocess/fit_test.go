package preprocess

import (
	"math"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

func TestCropSourceMapsCornersAndCentre(t *testing.T) {
	c := Crop{CenterX: 50, CenterY: 40, Side: 20, Angle: math.Pi / 2}
	for _, tc := range []struct{ u, v, x, y float64 }{{0.5, 0.5, 50, 40}, {0, 0, 60, 30}, {1, 0, 60, 50}, {0, 1, 40, 30}} {
		if p := c.Source(tc.u, tc.v); math.Abs(p.X-tc.x) > 1e-9 || math.Abs(p.Y-tc.y) > 1e-9 {
			t.Errorf("Source(%g, %g) = %+v, want (%g, %g)", tc.u, tc.v, p, tc.x, tc.y)
		}
	}
}

func TestFitCropRecoversTheCrop(t *testing.T) {
	want := Crop{CenterX: 412.5, CenterY: 230, Side: 171, Angle: -0.31}
	template := []face.Point{{X: 0.29, Y: 0.30}, {X: 0.68, Y: 0.29}, {X: 0.49, Y: 0.72}}
	points := make([]face.Point, len(template))
	for i, p := range template {
		points[i] = want.Source(p.X, p.Y)
	}
	got, ok := FitCrop(template, points)
	if !ok {
		t.Fatal("FitCrop failed on three distinct points")
	}
	if math.Abs(got.CenterX-want.CenterX) > 1e-9 || math.Abs(got.CenterY-want.CenterY) > 1e-9 ||
		math.Abs(got.Side-want.Side) > 1e-9 || math.Abs(got.Angle-want.Angle) > 1e-12 {
		t.Errorf("FitCrop = %+v, want %+v", got, want)
	}
}

func TestFitCropSpreadsOneMisplacedPoint(t *testing.T) {
	want := Crop{CenterX: 100, CenterY: 100, Side: 100}
	template := []face.Point{{X: 0.3, Y: 0.3}, {X: 0.7, Y: 0.3}, {X: 0.5, Y: 0.75}}
	points := []face.Point{want.Source(0.3, 0.3), want.Source(0.7, 0.3), want.Source(0.5, 0.85)}
	got, ok := FitCrop(template, points)
	if !ok {
		t.Fatal("FitCrop failed")
	}
	// The mouth is 10 px low: least squares shares that out, so the crop
	// moves down and grows a little, by less than the 10 px.
	if d := got.CenterY - want.CenterY; d <= 0 || d >= 10 {
		t.Errorf("centre moved %.2f px down, want between 0 and 10", d)
	}
	if got.Side <= want.Side || got.Side >= want.Side*1.2 {
		t.Errorf("side %.2f, want a little over %.0f", got.Side, want.Side)
	}
}

func TestFitCropRefusesDegenerateInput(t *testing.T) {
	p := []face.Point{{X: 1, Y: 2}, {X: 3, Y: 4}}
	for name, c := range map[string][2][]face.Point{
		"one point":            {p[:1], p[:1]},
		"lengths differ":       {p, p[:1]},
		"template coincides":   {{{X: 0.5, Y: 0.5}, {X: 0.5, Y: 0.5}}, p},
		"image points are NaN": {p, {{X: math.NaN(), Y: 0}, {X: 1, Y: 1}}},
	} {
		if got, ok := FitCrop(c[0], c[1]); ok {
			t.Errorf("%s: FitCrop = %+v, want a refusal", name, got)
		}
	}
}
