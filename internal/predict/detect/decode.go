// Package detect finds faces with a stride-8/16/32 anchor-free detector:
// YuNet, built in, or SCRFD when the user supplies its file. It resizes an
// image into the model input, decodes each stride's scores, boxes and five
// keypoints, and merges overlapping boxes with non-maximum suppression.
// Decoding and NMS are pure functions over slices, so they are tested
// without ONNX Runtime.
package detect

import (
	"math"
	"sort"

	"github.com/agegender/agegender/internal/face"
)

// Keypoint indices, in the order both detectors emit them. Sides are the
// subject's: the right eye is on the image's left for a face looking at the
// camera. Outside this package the nose is reached by its name (Point).
const (
	RightEye = iota
	LeftEye
	nose
	MouthRight
	MouthLeft
	NumKeypoints
)

// keypointNames are the names keypoints go by in model metadata.
var keypointNames = [NumKeypoints]string{"right_eye", "left_eye", "nose", "mouth_right", "mouth_left"}

// KeypointName is the name keypoint k goes by in model metadata.
func KeypointName(k int) string {
	if k < 0 || k >= NumKeypoints {
		return ""
	}
	return keypointNames[k]
}

// Detection is one face: its box, score and keypoints. Coordinates are in
// whatever frame the caller is working in (model input, source pixels).
type Detection struct {
	Box       face.Box
	Score     float64
	Keypoints [NumKeypoints]face.Point
}

// Point returns the keypoint a metadata name stands for. Besides the five
// detected points it knows "mouth", the centre of the mouth corners, which
// is what crop templates fitted to an earlier detector (BlazeFace, whose
// single mouth point sat there) name.
func (d Detection) Point(name string) (face.Point, bool) {
	if name == "mouth" {
		r, l := d.Keypoints[MouthRight], d.Keypoints[MouthLeft]
		return face.Point{X: (r.X + l.X) / 2, Y: (r.Y + l.Y) / 2}, true
	}
	for k, n := range keypointNames {
		if n == name {
			return d.Keypoints[k], true
		}
	}
	return face.Point{}, false
}

// level is one stride's outputs for a Cols x Rows grid of cells. Score holds
// Anchors values per cell; Obj, when the model has it (YuNet), one per cell;
// Box 4 and Kps 10 values per anchor.
type level struct {
	Stride, Cols, Rows, Anchors int
	Score, Obj, Box, Kps        []float32
}

// complete reports whether the level's slices hold what its grid needs, so
// that a model with unexpected output shapes fails closed, not out of range.
func (l level) complete() bool {
	n := l.Cols * l.Rows * l.Anchors
	return l.Stride > 0 && n > 0 && len(l.Score) >= n && len(l.Box) >= 4*n && len(l.Kps) >= 10*n &&
		(l.Obj == nil || len(l.Obj) >= l.Cols*l.Rows)
}

// decodeYuNet turns YuNet's outputs into detections scoring at least
// minScore, in model-input pixels. The score is OpenCV's sqrt(cls * obj);
// each cell has one prior at its top-left corner, boxes are a centre offset
// and log size in strides, keypoints offsets in strides.
func decodeYuNet(levels []level, minScore float64) []Detection {
	var out []Detection
	for _, l := range levels {
		if !l.complete() || l.Obj == nil {
			continue
		}
		s := float64(l.Stride)
		for i := 0; i < l.Cols*l.Rows; i++ {
			score := math.Sqrt(clamp01(float64(l.Score[i])) * clamp01(float64(l.Obj[i])))
			if score < minScore {
				continue
			}
			c, r := float64(i%l.Cols), float64(i/l.Cols)
			b := l.Box[4*i : 4*i+4]
			cx, cy := (c+float64(b[0]))*s, (r+float64(b[1]))*s
			w, h := math.Exp(float64(b[2]))*s, math.Exp(float64(b[3]))*s
			d := Detection{Box: face.Box{X: cx - w/2, Y: cy - h/2, W: w, H: h}, Score: score}
			k := l.Kps[10*i : 10*i+10]
			for j := range NumKeypoints {
				d.Keypoints[j] = face.Point{X: (float64(k[2*j]) + c) * s, Y: (float64(k[2*j+1]) + r) * s}
			}
			if usable(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// decodeSCRFD turns SCRFD's outputs into detections scoring at least
// minScore, in model-input pixels. Anchors per cell are stored one after
// another and share the cell's top-left corner; boxes are distances from it
// to each side, keypoints offsets from it, all in strides.
func decodeSCRFD(levels []level, minScore float64) []Detection {
	var out []Detection
	for _, l := range levels {
		if !l.complete() {
			continue
		}
		s := float64(l.Stride)
		for i := 0; i < l.Cols*l.Rows*l.Anchors; i++ {
			score := clamp01(float64(l.Score[i]))
			if score < minScore {
				continue
			}
			cell := i / l.Anchors
			px, py := float64(cell%l.Cols)*s, float64(cell/l.Cols)*s
			b := l.Box[4*i : 4*i+4]
			x1, y1 := px-float64(b[0])*s, py-float64(b[1])*s
			x2, y2 := px+float64(b[2])*s, py+float64(b[3])*s
			d := Detection{Box: face.Box{X: x1, Y: y1, W: x2 - x1, H: y2 - y1}, Score: score}
			k := l.Kps[10*i : 10*i+10]
			for j := range NumKeypoints {
				d.Keypoints[j] = face.Point{X: px + float64(k[2*j])*s, Y: py + float64(k[2*j+1])*s}
			}
			if usable(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// usable reports whether a decoded detection is a real box: positive size
// and every coordinate finite. A broken model output (NaN, overflow) must not
// reach the crop geometry.
func usable(d Detection) bool {
	b := d.Box
	ok := b.W > 0 && b.H > 0 && finite(b.X) && finite(b.Y) && finite(b.W) && finite(b.H)
	for _, p := range d.Keypoints {
		ok = ok && finite(p.X) && finite(p.Y)
	}
	return ok
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// clamp01 also maps NaN to 0, so a broken output scores nothing.
func clamp01(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return math.Min(v, 1)
}

// IoU is the intersection over union of two boxes.
func IoU(a, b face.Box) float64 {
	x0, y0 := math.Max(a.X, b.X), math.Max(a.Y, b.Y)
	x1, y1 := math.Min(a.X+a.W, b.X+b.W), math.Min(a.Y+a.H, b.Y+b.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	inter := (x1 - x0) * (y1 - y0)
	return inter / (a.W*a.H + b.W*b.H - inter)
}

// NMS keeps the best detection of every group overlapping at IoU above iou
// and drops the rest (hard NMS, as both detectors were trained to expect).
// Output is sorted by score, best first; ties keep their input order.
func nms(dets []Detection, iou float64) []Detection {
	sorted := append([]Detection(nil), dets...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Score > sorted[j].Score })
	var out []Detection
next:
	for _, d := range sorted {
		for _, kept := range out {
			if IoU(kept.Box, d.Box) > iou {
				continue next
			}
		}
		out = append(out, d)
	}
	return out
}

// Transform maps detection coordinates: p' = p*Scale + Offset, per axis.
type Transform struct {
	ScaleX, ScaleY, OffsetX, OffsetY float64
}

// Apply maps d's box and keypoints.
func (t Transform) Apply(d Detection) Detection {
	d.Box = face.Box{X: d.Box.X*t.ScaleX + t.OffsetX, Y: d.Box.Y*t.ScaleY + t.OffsetY,
		W: d.Box.W * t.ScaleX, H: d.Box.H * t.ScaleY}
	for k := range d.Keypoints {
		d.Keypoints[k] = face.Point{X: d.Keypoints[k].X*t.ScaleX + t.OffsetX, Y: d.Keypoints[k].Y*t.ScaleY + t.OffsetY}
	}
	return d
}
