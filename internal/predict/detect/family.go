package detect

import (
	"fmt"
	"image"
	"slices"
	"strings"
)

// family describes one detector format: its tensor names, input encoding,
// score scale and decoding. A model file is recognised by its input and
// output names, so a user can point the tool at any file of a known format.
type family struct {
	name  string
	input string
	// outputs per stride, in the order levels are filled from: score, obj
	// (YuNet only), box, keypoints.
	score, obj, box, kps string
	anchors              int
	// The input is (channel value - mean) * scale, channels in BGR order when
	// bgr; padding takes the value black becomes.
	bgr         bool
	mean, scale float32
	decode      func([]level, float64) []Detection
	// DefaultMinScore keeps false boxes at or under 0.4 a photo on the WIDER
	// FACE sample at the default input size (go run ./bench/widerface).
	defaultMinScore float64
	nmsIoU          float64
	// scoreScale says what the score is, for --min-score's help and Info.
	scoreScale string
	// runtimeBytesPerPixel is what ONNX Runtime holds per input pixel
	// during a pass (memory.go).
	runtimeBytesPerPixel int64
}

var strides = []int{8, 16, 32}

var families = []family{
	{
		name: "YuNet", input: "input",
		score: "cls_%d", obj: "obj_%d", box: "bbox_%d", kps: "kps_%d", anchors: 1,
		bgr: true, mean: 0, scale: 1,
		decode: decodeYuNet, defaultMinScore: 0.7, nmsIoU: 0.3,
		scoreScale: "sqrt(cls*obj), 0..1",
		// Measured (memory.go): 76 bytes a pixel at most, less the tensor.
		runtimeBytesPerPixel: 64,
	},
	{
		name: "SCRFD", input: "input.1",
		score: "score_%d", box: "bbox_%d", kps: "kps_%d", anchors: 2,
		bgr: false, mean: 127.5, scale: 1 / 128.0,
		decode: decodeSCRFD, defaultMinScore: 0.45, nmsIoU: 0.4,
		// Not measured: twice YuNet's, since SCRFD's first layers are wider.
		runtimeBytesPerPixel: 128,
		scoreScale:           "sigmoid, 0..1",
	},
}

// outputNames lists the family's outputs: per stride, score, obj, box, kps.
func (f family) outputNames() []string {
	var names []string
	for _, s := range strides {
		for _, pattern := range []string{f.score, f.obj, f.box, f.kps} {
			if pattern != "" {
				names = append(names, fmt.Sprintf(pattern, s))
			}
		}
	}
	return names
}

// recognise picks the family whose input and outputs a model has.
func recognise(inputs, outputs []string) (family, error) {
	for _, f := range families {
		if !slices.Contains(inputs, f.input) {
			continue
		}
		missing := false
		for _, o := range f.outputNames() {
			if !slices.Contains(outputs, o) {
				missing = true
			}
		}
		if !missing {
			return f, nil
		}
	}
	return family{}, fmt.Errorf("not a face detector this tool knows: inputs %s, outputs %s; want YuNet (input \"input\", outputs cls_8 ... kps_32) or SCRFD with keypoints (input \"input.1\", outputs score_8 ... kps_32)",
		strings.Join(inputs, ", "), strings.Join(outputs, ", "))
}

// levels slices the model's outputs, in outputNames order, into strides for
// an input of w x h, after checking that each has the length it should.
func (f family) levels(outs [][]float32, w, h int) ([]level, error) {
	if err := f.outputLengths(outs, w, h); err != nil {
		return nil, err
	}
	per := 3
	if f.obj != "" {
		per = 4
	}
	levels := make([]level, 0, len(strides))
	for i, s := range strides {
		o := outs[i*per : (i+1)*per]
		l := level{Stride: s, Cols: w / s, Rows: h / s, Anchors: f.anchors, Score: o[0]}
		if f.obj != "" {
			l.Obj, o = o[1], o[1:]
		}
		l.Box, l.Kps = o[1], o[2]
		levels = append(levels, l)
	}
	return levels, nil
}

// tensor writes img (already at input scale) into a 1 x 3 x h x w input,
// padding right and bottom with black.
func (f family) tensor(img *image.NRGBA, w, h int) []float32 {
	data := make([]float32, 3*w*h)
	black := (0 - f.mean) * f.scale
	if black != 0 {
		for i := range data {
			data[i] = black
		}
	}
	order := [3]int{0, 1, 2}
	if f.bgr {
		order = [3]int{2, 1, 0}
	}
	b := img.Rect
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride:]
		for c, src := range order {
			plane := data[(c*h+y)*w:]
			for x := 0; x < b.Dx(); x++ {
				plane[x] = (float32(row[4*x+src]) - f.mean) * f.scale
			}
		}
	}
	return data
}

// outputLengths checks each output against what an input of w x h makes.
func (f family) outputLengths(outs [][]float32, w, h int) error {
	names := f.outputNames()
	if len(outs) != len(names) {
		return fmt.Errorf("face detector returned %d outputs, want %d", len(outs), len(names))
	}
	per := len(names) / len(strides)
	for i, name := range names {
		s := strides[i/per]
		cells := (w / s) * (h / s)
		want := cells * f.anchors
		switch i % per {
		case 0:
		case per - 2:
			want *= 4
		case per - 1:
			want *= 10
		default: // YuNet's objectness: one per cell
			want = cells
		}
		if len(outs[i]) != want {
			return fmt.Errorf("face detector output %s has %d values for a %dx%d input, want %d", name, len(outs[i]), w, h, want)
		}
	}
	return nil
}
