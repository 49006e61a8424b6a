// Package detect finds faces with the BlazeFace back (256x256) model: it
// letterboxes an image (and, for small faces, tiles of it), decodes the
// anchor regressions into boxes and six keypoints, and merges overlapping
// boxes with weighted non-maximum suppression. Decoding and NMS are pure
// functions over slices, so they are tested without ONNX Runtime.
package detect

import (
	"math"
	"sort"

	"github.com/agegender/agegender/internal/face"
)

// Keypoint indices, the subject's sides (the right eye is on the image's left
// for a face looking at the camera).
const (
	RightEye = iota
	LeftEye
	Nose
	Mouth
	RightEar
	LeftEar
	NumKeypoints
)

// KeypointName is the name a keypoint index goes by in model metadata.
func KeypointName(k int) string {
	switch k {
	case RightEye:
		return "right_eye"
	case LeftEye:
		return "left_eye"
	case Nose:
		return "nose"
	case Mouth:
		return "mouth"
	case RightEar:
		return "right_ear"
	case LeftEar:
		return "left_ear"
	}
	return ""
}

// Detection is one face: its box, score and keypoints. Coordinates are in
// whatever frame the caller is working in (unit square, pixels).
type Detection struct {
	Box       face.Box
	Score     float64
	Keypoints [NumKeypoints]face.Point
}

// Anchor is an anchor centre in the unit square of the model input.
type Anchor struct{ X, Y float64 }

// Anchors returns BlazeFace's 896 anchors: a 16x16 grid with 2 anchors per
// cell, then an 8x8 grid with 6 per cell, in the order of the model outputs.
func Anchors() []Anchor {
	out := make([]Anchor, 0, 896)
	for _, g := range []struct{ cells, n int }{{16, 2}, {8, 6}} {
		for y := 0; y < g.cells; y++ {
			for x := 0; x < g.cells; x++ {
				for a := 0; a < g.n; a++ {
					out = append(out, Anchor{(float64(x) + 0.5) / float64(g.cells), (float64(y) + 0.5) / float64(g.cells)})
				}
			}
		}
	}
	return out
}

// DecodeRaw turns raw model outputs into detections whose score is at least
// minScore. scores holds one logit per anchor and regs 16 values per anchor;
// size is the model's input side. Coordinates come out in the unit square.
func DecodeRaw(scores, regs []float32, anchors []Anchor, size int, minScore float64) []Detection {
	s := float64(size)
	var out []Detection
	for i, a := range anchors {
		if i >= len(scores) || 16*i+16 > len(regs) {
			break
		}
		score := sigmoid(float64(scores[i]))
		if score < minScore {
			continue
		}
		b := regs[16*i : 16*i+16]
		cx, cy := a.X+float64(b[0])/s, a.Y+float64(b[1])/s
		w, h := float64(b[2])/s, float64(b[3])/s
		if w <= 0 || h <= 0 {
			continue
		}
		d := Detection{Box: face.Box{X: cx - w/2, Y: cy - h/2, W: w, H: h}, Score: score}
		for k := 0; k < NumKeypoints; k++ {
			d.Keypoints[k] = face.Point{X: a.X + float64(b[4+2*k])/s, Y: a.Y + float64(b[5+2*k])/s}
		}
		out = append(out, d)
	}
	return out
}

func sigmoid(x float64) float64 {
	// Clamp like MediaPipe does, so extreme logits don't overflow.
	x = math.Max(-100, math.Min(100, x))
	return 1 / (1 + math.Exp(-x))
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

// WeightedNMS merges overlapping detections: the best remaining one and every
// detection overlapping it at IoU >= iou are averaged, weighted by score, and
// keep the best score. BlazeFace fires several neighbouring anchors per face,
// and averaging them is steadier than keeping one. Output is sorted by score.
func WeightedNMS(dets []Detection, iou float64) []Detection {
	rest := append([]Detection(nil), dets...)
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Score > rest[j].Score })
	var out []Detection
	for len(rest) > 0 {
		top := rest[0]
		var merged Detection
		var wsum float64
		keep := rest[:0]
		for i, d := range rest {
			// top always merges with itself, even where IoU cannot say so (a
			// zero-area box, a threshold above 1, rounding at exactly 1):
			// otherwise rest never shrinks and the loop never ends.
			if i > 0 && IoU(top.Box, d.Box) < iou {
				keep = append(keep, d)
				continue
			}
			w := d.Score
			wsum += w
			merged.Box.X += w * d.Box.X
			merged.Box.Y += w * d.Box.Y
			merged.Box.W += w * d.Box.W
			merged.Box.H += w * d.Box.H
			for k := range merged.Keypoints {
				merged.Keypoints[k].X += w * d.Keypoints[k].X
				merged.Keypoints[k].Y += w * d.Keypoints[k].Y
			}
		}
		merged.Box = face.Box{X: merged.Box.X / wsum, Y: merged.Box.Y / wsum, W: merged.Box.W / wsum, H: merged.Box.H / wsum}
		for k := range merged.Keypoints {
			merged.Keypoints[k].X /= wsum
			merged.Keypoints[k].Y /= wsum
		}
		merged.Score = top.Score
		out = append(out, merged)
		rest = keep
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
