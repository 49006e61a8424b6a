package preprocess

import (
	"image"

	"github.com/disintegration/imaging"
)

// Downscale resizes the region r of src to w x h for the detector. A large
// downscale first averages f x f blocks (f the whole part of the ratio), which
// costs one read per source pixel, and leaves the antialiased resize only the
// last factor below 2: the same smoothing for a fraction of the time of a
// wide-support filter over every source pixel.
func Downscale(src *image.NRGBA, r image.Rectangle, w, h int) *image.NRGBA {
	r = r.Intersect(src.Rect)
	f := min(r.Dx()/w, r.Dy()/h)
	var img *image.NRGBA
	if f >= 2 {
		img = shrink(src, r, f)
	} else {
		img = src.SubImage(r).(*image.NRGBA)
	}
	if img.Rect.Dx() == w && img.Rect.Dy() == h {
		return img
	}
	return imaging.Resize(img, w, h, imaging.Linear)
}

// shrink averages f x f blocks of r; a partial block at the right or bottom
// edge is dropped (at most f-1 pixels).
func shrink(src *image.NRGBA, r image.Rectangle, f int) *image.NRGBA {
	ow, oh := r.Dx()/f, r.Dy()/f
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	sums := make([]uint32, ow*4)
	n := uint32(f * f)
	for oy := 0; oy < oh; oy++ {
		clear(sums)
		for dy := 0; dy < f; dy++ {
			row := src.Pix[(r.Min.Y-src.Rect.Min.Y+oy*f+dy)*src.Stride+(r.Min.X-src.Rect.Min.X)*4:]
			for ox := 0; ox < ow; ox++ {
				s := sums[ox*4 : ox*4+4]
				p := row[ox*f*4 : (ox+1)*f*4]
				for k := 0; k < len(p); k += 4 {
					s[0] += uint32(p[k])
					s[1] += uint32(p[k+1])
					s[2] += uint32(p[k+2])
					s[3] += uint32(p[k+3])
				}
			}
		}
		o := out.Pix[oy*out.Stride:]
		for i, s := range sums {
			o[i] = uint8((s + n/2) / n)
		}
	}
	return out
}
