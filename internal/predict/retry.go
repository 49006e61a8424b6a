package predict

import (
	"context"
	"image"
	"math"

	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

// The detector's padded retry. Tight face crops (like UTKFace's) leave the
// detector no margin, so in mode auto a miss is retried on a copy of the
// image with a grey margin of cropPadding of its long side on every side.
// Measured: bare 200x200 crops 180/200 found, padded 198/200.
const cropPadding = 0.3

// paddedMaxSide bounds the padded retry: a larger image is shrunk to this
// long side before its margin is added, so the copy stays under 11 MB
// however large the photo (a 100000x1 strip once asked for 38 GB). The
// retry is for tight face crops, which are far smaller than this.
const paddedMaxSide = 1024

// resizeBytes is the detector's working memory for its whole-image and
// tile passes, which each resize one region to 128 px.
const resizeBytes = 1 << 20

// paddedGeometry is the size a w x h image is shrunk to before the retry
// pads it, and the margin added on every side.
func paddedGeometry(w, h int) (sw, sh, pad int) {
	if long := max(w, h); long > paddedMaxSide {
		w, h = max(1, w*paddedMaxSide/long), max(1, h*paddedMaxSide/long)
	}
	return w, h, int(math.Round(cropPadding * float64(max(w, h))))
}

// paddedSize is the size of the copy detectPadded makes of a w x h image.
func paddedSize(w, h int) image.Point {
	sw, sh, pad := paddedGeometry(w, h)
	return image.Point{sw + 2*pad, sh + 2*pad}
}

// paddedCost is what the padded copy of a w x h image takes, in bytes,
// charged as an NRGBA square on its long side, which the copy never
// exceeds.
func paddedCost(w, h int) int64 {
	side := (1 + 2*cropPadding) * float64(min(max(w, h), paddedMaxSide))
	return int64(4 * side * side)
}

// detectPadded runs the detector on img with a grey margin and maps the
// detections back to img's pixels.
func (e *Engine) detectPadded(ctx context.Context, img *image.NRGBA) ([]detect.Detection, error) {
	b := img.Bounds()
	w, h, pad := paddedGeometry(b.Dx(), b.Dy())
	src := img
	if w != b.Dx() || h != b.Dy() {
		src = preprocess.Downscale(img, b, w, h)
	}
	sx, sy := float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy()) // src pixels per img pixel
	padded := padGrey(src, pad)
	dets, err := e.detector.DetectContext(ctx, padded, e.opts.Detect)
	if err != nil {
		return nil, err
	}
	shift := detect.Transform{ScaleX: 1 / sx, ScaleY: 1 / sy,
		OffsetX: float64(b.Min.X) - float64(pad)/sx, OffsetY: float64(b.Min.Y) - float64(pad)/sy}
	for i := range dets {
		dets[i] = shift.Apply(dets[i])
	}
	return dets, nil
}

// padGrey is src on a mid-grey margin of pad pixels a side. It writes the
// pixels itself: image/draw has no fast path for an NRGBA destination, and
// drew this copy a pixel at a time through colour conversions.
func padGrey(src *image.NRGBA, pad int) *image.NRGBA {
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w+2*pad, h+2*pad))
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = 128, 128, 128, 255
	}
	for y := range h {
		row := src.Pix[src.PixOffset(sb.Min.X, sb.Min.Y+y):][:4*w]
		copy(out.Pix[out.PixOffset(pad, pad+y):], row)
	}
	return out
}
