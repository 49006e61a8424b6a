package detect

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
)

const eps = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) < eps }

// The anchor order must match the model's output order exactly, or every
// regression is decoded against the wrong centre.
func TestAnchors(t *testing.T) {
	a := Anchors()
	if len(a) != 896 {
		t.Fatalf("%d anchors, want 896", len(a))
	}
	checks := []struct {
		i    int
		want Anchor
	}{
		{0, Anchor{1.0 / 32, 1.0 / 32}},
		{1, Anchor{1.0 / 32, 1.0 / 32}},
		{2, Anchor{3.0 / 32, 1.0 / 32}},  // x varies fastest
		{32, Anchor{1.0 / 32, 3.0 / 32}}, // next row of the 16x16 grid
		{511, Anchor{31.0 / 32, 31.0 / 32}},
		{512, Anchor{1.0 / 16, 1.0 / 16}}, // the 8x8 grid starts
		{517, Anchor{1.0 / 16, 1.0 / 16}}, // six per cell
		{518, Anchor{3.0 / 16, 1.0 / 16}},
		{895, Anchor{15.0 / 16, 15.0 / 16}},
	}
	for _, c := range checks {
		if !near(a[c.i].X, c.want.X) || !near(a[c.i].Y, c.want.Y) {
			t.Errorf("anchor %d = %+v, want %+v", c.i, a[c.i], c.want)
		}
	}
}

func TestDecodeRaw(t *testing.T) {
	const size = 128
	anchors := []Anchor{{0.25, 0.5}, {0.75, 0.5}, {0.5, 0.5}}
	scores := []float32{2, -3, 1}
	regs := make([]float32, 16*len(anchors))
	fill := func(i int, b ...float32) { copy(regs[16*i:], b) }
	// centre offset (+12.8, -6.4), size 32x64 px, keypoint k at (1.28k, -2.56k).
	fill(0, 12.8, -6.4, 32, 64, 0, 0, 1.28, -2.56, 2.56, -5.12, 3.84, -7.68, 5.12, -10.24, 6.4, -12.8)
	fill(1, 0, 0, 10, 10)
	// Above threshold but zero width: not a box.
	fill(2, 0, 0, 0, 10)

	dets := DecodeRaw(scores, regs, anchors, size, 0.5)
	if len(dets) != 1 {
		t.Fatalf("%d detections, want 1: %+v", len(dets), dets)
	}
	d := dets[0]
	if want := 1 / (1 + math.Exp(-2)); !near(d.Score, want) {
		t.Errorf("score %v, want sigmoid(2) = %v", d.Score, want)
	}
	cx, cy := 0.25+12.8/size, 0.5-6.4/size
	w, h := 32.0/size, 64.0/size
	want := face.Box{X: cx - w/2, Y: cy - h/2, W: w, H: h}
	if !boxNear(d.Box, want, 1e-6) {
		t.Errorf("box %+v, want %+v", d.Box, want)
	}
	for k := 0; k < NumKeypoints; k++ {
		p := d.Keypoints[k]
		wx, wy := 0.25+1.28*float64(k)/size, 0.5-2.56*float64(k)/size
		if math.Abs(p.X-wx) > 1e-6 || math.Abs(p.Y-wy) > 1e-6 {
			t.Errorf("keypoint %d = %+v, want (%v, %v)", k, p, wx, wy)
		}
	}

	// The second anchor decodes against its own centre once it passes.
	scores[1] = 0
	dets = DecodeRaw(scores, regs, anchors, size, 0.5)
	if len(dets) != 2 || !near(dets[1].Score, 0.5) {
		t.Fatalf("with score 0.5 at threshold 0.5: %+v", dets)
	}
	if b := dets[1].Box; !boxNear(b, face.Box{X: 0.75 - 5.0/size, Y: 0.5 - 5.0/size, W: 10.0 / size, H: 10.0 / size}, 1e-9) {
		t.Errorf("second box %+v", b)
	}
}

// Output lengths come from ONNX Runtime; a short buffer must end decoding,
// not index out of range.
func TestDecodeRawShortOutputs(t *testing.T) {
	anchors := Anchors()
	regs := make([]float32, 16*10+5)
	scores := make([]float32, 896)
	for i := range regs {
		regs[i] = 4
	}
	if got := len(DecodeRaw(scores, regs, anchors, 256, 0)); got != 10 {
		t.Errorf("%d detections from 10 complete regressions", got)
	}
	if got := len(DecodeRaw(scores[:3], make([]float32, 16*896), anchors, 256, 0)); got != 0 {
		t.Errorf("%d detections from zero-size boxes", got)
	}
}

// Logits from a float model can be huge; the score must stay a probability.
func TestSigmoidExtremes(t *testing.T) {
	for _, x := range []float64{-1e30, -1000, 0, 1000, 1e30, math.Inf(1), math.Inf(-1)} {
		s := sigmoid(x)
		if math.IsNaN(s) || s < 0 || s > 1 {
			t.Errorf("sigmoid(%v) = %v", x, s)
		}
	}
	if !near(sigmoid(0), 0.5) || sigmoid(1000) < 0.999 || sigmoid(-1000) > 1e-40 {
		t.Error("sigmoid lost its shape at the clamp")
	}
}

func TestIoU(t *testing.T) {
	a := face.Box{X: 0, Y: 0, W: 2, H: 2}
	cases := []struct {
		name string
		b    face.Box
		want float64
	}{
		{"identical", a, 1},
		{"disjoint", face.Box{X: 5, Y: 5, W: 2, H: 2}, 0},
		{"touching edges", face.Box{X: 2, Y: 0, W: 2, H: 2}, 0},
		{"half overlap", face.Box{X: 1, Y: 0, W: 2, H: 2}, 2.0 / 6}, // inter 2, union 6
		{"contained", face.Box{X: 0.5, Y: 0.5, W: 1, H: 1}, 0.25},
	}
	for _, c := range cases {
		if got := IoU(a, c.b); !near(got, c.want) {
			t.Errorf("%s: IoU = %v, want %v", c.name, got, c.want)
		}
		if got := IoU(c.b, a); !near(got, c.want) {
			t.Errorf("%s: IoU not symmetric: %v", c.name, got)
		}
	}
}

func det(x, y, w, h, score float64) Detection {
	d := Detection{Box: face.Box{X: x, Y: y, W: w, H: h}, Score: score}
	for k := range d.Keypoints {
		d.Keypoints[k] = face.Point{X: x + float64(k), Y: y + 2*float64(k)}
	}
	return d
}

func TestWeightedNMS(t *testing.T) {
	a := det(0, 0, 10, 10, 0.9)
	b := det(1, 0, 10, 10, 0.6) // IoU with a: 90/110
	far := det(50, 50, 10, 10, 0.95)
	in := []Detection{a, far, b}
	orig := append([]Detection(nil), in...)

	out := WeightedNMS(in, 0.3)
	if !reflect.DeepEqual(in, orig) {
		t.Error("input slice was modified")
	}
	if len(out) != 2 {
		t.Fatalf("%d detections, want 2: %+v", len(out), out)
	}
	if !reflect.DeepEqual(out[0], far) {
		t.Errorf("first = %+v, want the distant box unchanged (highest score)", out[0])
	}
	m := out[1]
	if m.Score != 0.9 {
		t.Errorf("merged score %v, want the max 0.9", m.Score)
	}
	// Weighted by score: (0.9*0 + 0.6*1) / 1.5 = 0.4.
	if !boxNear(m.Box, face.Box{X: 0.4, Y: 0, W: 10, H: 10}, 1e-9) {
		t.Errorf("merged box %+v", m.Box)
	}
	for k, p := range m.Keypoints {
		if !near(p.X, 0.4+float64(k)) || !near(p.Y, 2*float64(k)) {
			t.Errorf("merged keypoint %d = %+v", k, p)
		}
	}
	for i := 1; i < len(out); i++ {
		if out[i].Score > out[i-1].Score {
			t.Errorf("output not sorted by score: %v then %v", out[i-1].Score, out[i].Score)
		}
	}

	// Below the threshold nothing merges.
	if got := WeightedNMS([]Detection{a, b}, 0.95); len(got) != 2 || got[0].Box != a.Box || got[1].Box != b.Box {
		t.Errorf("threshold 0.95: %+v", got)
	}
	if got := WeightedNMS(nil, 0.3); len(got) != 0 {
		t.Errorf("nil input: %+v", got)
	}
}

// IoU of a box with itself can fall short of the threshold (zero area, a
// threshold of 1 or more); each round must still consume its top box. This
// hung forever before the fix, so the test fails on a deadline instead.
func TestWeightedNMSTerminates(t *testing.T) {
	cases := map[string]struct {
		dets []Detection
		iou  float64
		want int
	}{
		"zero-area box": {[]Detection{det(1, 1, 0, 5, 0.9), det(1, 1, 0, 5, 0.8)}, 0.3, 2},
		// (0.3+0.6)-0.3 < 0.6 in float64, so IoU with itself is 0.999...
		"threshold 1":     {[]Detection{det(0.3, 0.3, 0.6, 0.6, 0.9), det(5, 5, 1, 1, 0.8)}, 1, 2},
		"threshold above": {[]Detection{det(0, 0, 1, 1, 0.9), det(0, 0, 1, 1, 0.8)}, 1.5, 2},
	}
	for name, c := range cases {
		done := make(chan []Detection, 1)
		go func() { done <- WeightedNMS(c.dets, c.iou) }()
		select {
		case got := <-done:
			if len(got) != c.want {
				t.Errorf("%s: %d detections, want %d", name, len(got), c.want)
			}
			if !boxNear(got[0].Box, c.dets[0].Box, 1e-9) {
				t.Errorf("%s: top box changed to %+v", name, got[0].Box)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: WeightedNMS did not return", name)
		}
	}
}

func TestTransformApply(t *testing.T) {
	d := det(0.1, 0.2, 0.3, 0.4, 0.77)
	tr := Transform{ScaleX: 100, ScaleY: 50, OffsetX: 10, OffsetY: -5}
	got := tr.Apply(d)
	if !boxNear(got.Box, face.Box{X: 20, Y: 5, W: 30, H: 20}, 1e-9) {
		t.Errorf("box %+v", got.Box)
	}
	for k, p := range got.Keypoints {
		wx, wy := d.Keypoints[k].X*100+10, d.Keypoints[k].Y*50-5
		if !near(p.X, wx) || !near(p.Y, wy) {
			t.Errorf("keypoint %d = %+v, want (%v, %v)", k, p, wx, wy)
		}
	}
	if got.Score != 0.77 {
		t.Errorf("score changed to %v", got.Score)
	}
	if d.Box.X != 0.1 || d.Keypoints[5].X != 5.1 {
		t.Error("Apply modified its argument")
	}
}

func boxNear(a, b face.Box, tol float64) bool {
	return math.Abs(a.X-b.X) < tol && math.Abs(a.Y-b.Y) < tol && math.Abs(a.W-b.W) < tol && math.Abs(a.H-b.H) < tol
}
