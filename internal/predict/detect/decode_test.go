package detect

import (
	"math"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

const eps = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// yunetLevel is an all-zero stride-s level of a w x h input with one cell
// set: cls and obj scores and raw box/keypoint regressions.
func yunetLevel(s, w, h, cell int, cls, obj float32, box [4]float32, kps [10]float32) level {
	n := (w / s) * (h / s)
	l := level{Stride: s, Cols: w / s, Rows: h / s, Anchors: 1,
		Score: make([]float32, n), Obj: make([]float32, n), Box: make([]float32, 4*n), Kps: make([]float32, 10*n)}
	l.Score[cell], l.Obj[cell] = cls, obj
	copy(l.Box[4*cell:], box[:])
	copy(l.Kps[10*cell:], kps[:])
	return l
}

func TestDecodeYuNet(t *testing.T) {
	// Stride 16 on a 64x48 input: 4 columns, 3 rows; cell 6 is column 2, row 1.
	kps := [10]float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	l := yunetLevel(16, 64, 48, 6, 0.81, 0.64, [4]float32{0.5, -0.25, float32(math.Log(2)), 0}, kps)
	dets := decodeYuNet([]level{l}, 0.5)
	if len(dets) != 1 {
		t.Fatalf("got %d detections, want 1", len(dets))
	}
	d := dets[0]
	if !near(d.Score, 0.72) { // sqrt(0.81 * 0.64)
		t.Errorf("score %v, want sqrt(cls*obj) = 0.72", d.Score)
	}
	// Centre ((2+0.5)*16, (1-0.25)*16) = (40, 12); size (2*16, 1*16).
	want := face.Box{X: 40 - 16, Y: 12 - 8, W: 32, H: 16}
	if !near(d.Box.X, want.X) || !near(d.Box.Y, want.Y) || !near(d.Box.W, want.W) || !near(d.Box.H, want.H) {
		t.Errorf("box %+v, want %+v", d.Box, want)
	}
	for j := range NumKeypoints {
		wx, wy := (float64(kps[2*j])+2)*16, (float64(kps[2*j+1])+1)*16
		if !near(d.Keypoints[j].X, float64(float32(wx))) && !near(d.Keypoints[j].X, wx) || !near(d.Keypoints[j].Y, wy) {
			t.Errorf("keypoint %d at %+v, want (%v, %v)", j, d.Keypoints[j], wx, wy)
		}
	}
	if got := decodeYuNet([]level{l}, 0.73); len(got) != 0 {
		t.Errorf("threshold above the score kept %d detections", len(got))
	}
}

func TestDecodeYuNetRejectsBrokenValues(t *testing.T) {
	nan := float32(math.NaN())
	for name, l := range map[string]level{
		"NaN score":       yunetLevel(8, 32, 32, 3, nan, 1, [4]float32{}, [10]float32{}),
		"score above one": yunetLevel(8, 32, 32, 3, 7, 0, [4]float32{}, [10]float32{}),
		"infinite size":   yunetLevel(8, 32, 32, 3, 1, 1, [4]float32{0, 0, 1000, 0}, [10]float32{}),
	} {
		if got := decodeYuNet([]level{l}, 0.5); len(got) != 0 {
			t.Errorf("%s: decoded %+v", name, got)
		}
	}
	short := yunetLevel(8, 32, 32, 3, 1, 1, [4]float32{}, [10]float32{})
	short.Kps = short.Kps[:5]
	if got := decodeYuNet([]level{short}, 0.5); len(got) != 0 {
		t.Errorf("a level with missing keypoints decoded %d detections", len(got))
	}
}

func TestDecodeSCRFD(t *testing.T) {
	// Stride 8 on 32x16: 4x2 cells, 2 anchors each; anchor 11 is cell 5
	// (column 1, row 1), so its point is (8, 8).
	n := 4 * 2 * 2
	l := level{Stride: 8, Cols: 4, Rows: 2, Anchors: 2,
		Score: make([]float32, n), Box: make([]float32, 4*n), Kps: make([]float32, 10*n)}
	l.Score[11] = 0.9
	copy(l.Box[44:], []float32{0.5, 1, 1.5, 2})
	copy(l.Kps[110:], []float32{1, -1, 0, 0, 0, 0, 0, 0, 0, 0})
	dets := decodeSCRFD([]level{l}, 0.5)
	if len(dets) != 1 {
		t.Fatalf("got %d detections, want 1", len(dets))
	}
	d := dets[0]
	want := face.Box{X: 8 - 4, Y: 8 - 8, W: 4 + 12, H: 8 + 16}
	if d.Box != want || !near(d.Score, 0.9) {
		t.Errorf("got %+v score %v, want %+v score 0.9", d.Box, d.Score, want)
	}
	if d.Keypoints[RightEye] != (face.Point{X: 16, Y: 0}) || d.Keypoints[nose] != (face.Point{X: 8, Y: 8}) {
		t.Errorf("keypoints %+v", d.Keypoints)
	}
}

func TestLevelsCheckOutputLengths(t *testing.T) {
	yunet := families[0]
	w, h := 64, 32
	var outs [][]float32
	for _, s := range strides {
		cells := (w / s) * (h / s)
		outs = append(outs, make([]float32, cells), make([]float32, cells), make([]float32, 4*cells), make([]float32, 10*cells))
	}
	levels, err := yunet.levels(outs, w, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) != 3 || levels[2].Cols != 2 || levels[2].Rows != 1 || len(levels[0].Kps) != 10*32 {
		t.Errorf("levels %+v", levels)
	}
	outs[5] = outs[5][:1] // obj_16
	if _, err := yunet.levels(outs, w, h); err == nil || !strings.Contains(err.Error(), "obj_16") {
		t.Errorf("a short output: got %v, want an error naming obj_16", err)
	}
	if _, err := yunet.levels(outs[:4], w, h); err == nil {
		t.Error("missing outputs accepted")
	}
}

func TestRecognise(t *testing.T) {
	for _, f := range families {
		got, err := recognise([]string{f.input}, append([]string{"extra"}, f.outputNames()...))
		if err != nil || got.name != f.name {
			t.Errorf("%s: got %q, %v", f.name, got.name, err)
		}
	}
	// BlazeFace's tensors, or a classifier's, are not a detector we decode.
	_, err := recognise([]string{"input:0"}, []string{"Identity:0", "Identity_1:0"})
	if err == nil || !strings.Contains(err.Error(), "input:0") {
		t.Errorf("unknown model: got %v, want an error listing its tensors", err)
	}
	yunet := families[0]
	if _, err := recognise([]string{"input"}, yunet.outputNames()[1:]); err == nil {
		t.Error("a YuNet missing an output was accepted")
	}
}

func TestTensorLayout(t *testing.T) {
	img := image2x1()
	yunet, scrfd := families[0], families[1]
	// YuNet: BGR planes of raw values, padded with 0 to 4x2.
	got := yunet.tensor(img, 4, 2)
	want := []float32{
		30, 60, 0, 0, 0, 0, 0, 0, // B
		20, 50, 0, 0, 0, 0, 0, 0, // G
		10, 40, 0, 0, 0, 0, 0, 0, // R
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("YuNet tensor %v, want %v", got, want)
		}
	}
	// SCRFD: RGB, (v - 127.5) / 128, padding black.
	got = scrfd.tensor(img, 4, 2)
	if !near(float64(got[0]), (10-127.5)/128) || !near(float64(got[8+1]), (50-127.5)/128) || !near(float64(got[3]), -127.5/128) {
		t.Errorf("SCRFD tensor %v", got)
	}
}

func TestIoU(t *testing.T) {
	a := face.Box{X: 0, Y: 0, W: 10, H: 10}
	if v := IoU(a, a); !near(v, 1) {
		t.Errorf("IoU(a, a) = %v", v)
	}
	if v := IoU(a, face.Box{X: 5, Y: 0, W: 10, H: 10}); !near(v, 50.0/150) {
		t.Errorf("half overlap = %v, want 1/3", v)
	}
	if v := IoU(a, face.Box{X: 10, Y: 0, W: 10, H: 10}); v != 0 {
		t.Errorf("touching boxes = %v, want 0", v)
	}
}

func det(x, y, w, h, score float64) Detection {
	return Detection{Box: face.Box{X: x, Y: y, W: w, H: h}, Score: score}
}

func TestNMS(t *testing.T) {
	dets := []Detection{
		det(0, 0, 10, 10, 0.6),
		det(1, 0, 10, 10, 0.9),   // overlaps the first at IoU 0.82: the better one stays
		det(100, 0, 10, 10, 0.7), // apart
		det(5, 0, 10, 10, 0.8),   // IoU 0.43 with the best: kept at 0.5, dropped at 0.3
	}
	got := nms(dets, 0.5)
	if len(got) != 3 || got[0].Score != 0.9 || got[1].Score != 0.8 || got[2].Score != 0.7 {
		t.Errorf("NMS at 0.5: %+v", got)
	}
	if got := nms(dets, 0.3); len(got) != 2 {
		t.Errorf("NMS at 0.3 kept %d, want 2", len(got))
	}
	if got := nms(nil, 0.3); len(got) != 0 {
		t.Errorf("NMS of nothing: %+v", got)
	}
	// Zero-area boxes overlap nothing and must not stop the loop.
	if got := nms([]Detection{det(0, 0, 0, 0, 1), det(0, 0, 0, 0, 1)}, 0); len(got) != 2 {
		t.Errorf("zero-area boxes: %+v", got)
	}
}

func TestTransformApply(t *testing.T) {
	d := det(1, 2, 3, 4, 0.5)
	d.Keypoints[nose] = face.Point{X: 2, Y: 3}
	got := Transform{ScaleX: 2, ScaleY: 3, OffsetX: 10, OffsetY: 20}.Apply(d)
	if got.Box != (face.Box{X: 12, Y: 26, W: 6, H: 12}) || got.Keypoints[nose] != (face.Point{X: 14, Y: 29}) {
		t.Errorf("got %+v", got)
	}
}

func TestPointNamesAndMouthCentre(t *testing.T) {
	var d Detection
	d.Keypoints[MouthRight] = face.Point{X: 10, Y: 20}
	d.Keypoints[MouthLeft] = face.Point{X: 30, Y: 24}
	if p, ok := d.Point("mouth"); !ok || p != (face.Point{X: 20, Y: 22}) {
		t.Errorf("mouth = %+v, %v; want the corners' centre", p, ok)
	}
	if p, ok := d.Point("mouth_left"); !ok || p != d.Keypoints[MouthLeft] {
		t.Errorf("mouth_left = %+v, %v", p, ok)
	}
	if _, ok := d.Point("right_ear"); ok {
		t.Error("a BlazeFace-only point was found")
	}
	if KeypointName(NumKeypoints) != "" || KeypointName(-1) != "" {
		t.Error("out-of-range keypoint has a name")
	}
}

func TestPassSides(t *testing.T) {
	for _, tc := range []struct {
		long, size, second int
		want               []int
	}{
		{1280, 640, 0, []int{640}},
		{200, 640, 0, []int{200}}, // never enlarged
		{1280, 0, 0, []int{640}},  // default size
		{1280, 640, 1024, []int{640, 1024}},
		{900, 640, 1024, []int{640, 900}},
		{600, 640, 1024, []int{600}}, // no second pass below the input size
		{1280, 640, 480, []int{640}}, // a second size under the first is none
	} {
		got := passSides(tc.long, face.DetectParams{InputSize: tc.size, SecondSide: tc.second})
		if len(got) != len(tc.want) || got[0] != tc.want[0] || (len(got) > 1 && got[1] != tc.want[1]) {
			t.Errorf("long %d, size %d, second %d: %v, want %v", tc.long, tc.size, tc.second, got, tc.want)
		}
	}
}
