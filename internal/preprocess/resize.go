package preprocess

import (
	"image"
	"math"
)

// resizePlanar resizes the first channels of img to w x h and returns 8-bit
// planar pixels (C x H x W). It computes what training's
// F.interpolate(mode="bilinear", antialias=True, align_corners=False) does:
// a triangle filter whose support widens with the downscale factor, both
// passes in floating point, rounded half to even only at the end. A resizer
// that rounds to 8 bits between its passes (imaging's) drifts by up to 1/255,
// enough to move a model's output past a 1e-3 parity bound.
func resizePlanar(img *image.NRGBA, w, h, channels int) []uint8 {
	sw, sh := img.Rect.Dx(), img.Rect.Dy()
	xs, ys := filterTaps(sw, w), filterTaps(sh, h)

	// Horizontal pass: each source row to w columns, per channel.
	tmp := make([]float64, channels*sh*w)
	for y := 0; y < sh; y++ {
		row := img.Pix[y*img.Stride:] // a sub-image's Pix starts at its own Rect.Min
		for x, t := range xs {
			for c := 0; c < channels; c++ {
				var v float64
				for j, wt := range t.weights {
					v += wt * float64(row[(t.first+j)*4+c])
				}
				tmp[(c*sh+y)*w+x] = v
			}
		}
	}
	// Vertical pass, then the one rounding.
	out := make([]uint8, channels*h*w)
	for c := 0; c < channels; c++ {
		plane := tmp[c*sh*w : (c+1)*sh*w]
		for y, t := range ys {
			for x := 0; x < w; x++ {
				var v float64
				for j, wt := range t.weights {
					v += wt * plane[(t.first+j)*w+x]
				}
				out[(c*h+y)*w+x] = uint8(min(255, max(0, math.RoundToEven(v))))
			}
		}
	}
	return out
}

// taps are the source samples that make one output sample.
type taps struct {
	first   int
	weights []float64
}

// filterTaps computes, for each of out samples along an axis of in samples,
// the normalised triangle-filter weights (PyTorch's antialiased bilinear,
// itself Pillow's): centre scale*(i+0.5), support scale when downscaling and
// 1 when upscaling.
func filterTaps(in, out int) []taps {
	scale := float64(in) / float64(out)
	support, invScale := 1.0, 1.0
	if scale >= 1 {
		support, invScale = scale, 1/scale
	}
	res := make([]taps, out)
	for i := range res {
		centre := scale * (float64(i) + 0.5)
		lo := max(int(centre-support+0.5), 0)
		hi := min(int(centre+support+0.5), in)
		ws := make([]float64, hi-lo)
		var total float64
		for j := range ws {
			d := math.Abs((float64(j+lo) - centre + 0.5) * invScale)
			if d < 1 {
				ws[j] = 1 - d
			}
			total += ws[j]
		}
		if total != 0 {
			for j := range ws {
				ws[j] /= total
			}
		}
		res[i] = taps{first: lo, weights: ws}
	}
	return res
}
