package preprocess

import (
	"image"
	"math"
)

// Crop is a square region of a source image, possibly rotated: the similarity
// transform that aligns a detected face with the training framing.
type Crop struct {
	CenterX, CenterY float64 // source pixels
	Side             float64 // source pixels
	Angle            float64 // radians: the crop's x axis in source coordinates
}

// maxCropSide is the resolution an aligned crop is sampled at before the final
// resize, the size of the UTKFace crops training resized from.
const maxCropSide = 200

// maxSupersample bounds the samples per output pixel and axis: faces up to
// 1600 px are sampled as before, larger ones at 8x8 per output pixel.
const maxSupersample = 8

// CropImage samples c out of src into an upright square image. Large faces
// are supersampled and small ones interpolated, so the result has about the
// detail a training crop had before its resize.
func CropImage(src *image.NRGBA, c Crop) *image.NRGBA {
	k := int(math.Round(c.Side))
	if k > maxCropSide {
		k = maxCropSide
	}
	if k < 16 {
		k = 16
	}
	n := int(math.Ceil(c.Side / float64(k)))
	if n < 1 {
		n = 1
	}
	// The samples grow with the square of the side: a 10000 px box would
	// take 10^8 of them. Past maxSupersample per axis the extra samples no
	// longer change a 200 px crop, only its time.
	n = min(n, maxSupersample)
	out := image.NewNRGBA(image.Rect(0, 0, k, k))
	cos, sin := math.Cos(c.Angle), math.Sin(c.Angle)
	step := c.Side / float64(k*n)
	var acc [3]float64
	for j := 0; j < k; j++ {
		for i := 0; i < k; i++ {
			acc = [3]float64{}
			for b := 0; b < n; b++ {
				dv := (float64(j*n+b)+0.5)*step - c.Side/2
				for a := 0; a < n; a++ {
					du := (float64(i*n+a)+0.5)*step - c.Side/2
					x := c.CenterX + du*cos - dv*sin
					y := c.CenterY + du*sin + dv*cos
					addBilinear(src, x, y, &acc)
				}
			}
			o := out.Pix[j*out.Stride+4*i:]
			nn := float64(n * n)
			for ch := 0; ch < 3; ch++ {
				o[ch] = uint8(math.Round(acc[ch] / nn))
			}
			o[3] = 255
		}
	}
	return out
}

// Bilinear returns the RGB colour at source position (x, y), pixel centres
// at +0.5, replicating the border outside the image.
func Bilinear(src *image.NRGBA, x, y float64) [3]float64 {
	var c [3]float64
	addBilinear(src, x, y, &c)
	return c
}

// addBilinear adds Bilinear's colour to acc. CropImage sums up to hundreds of
// thousands of samples per face through it: returning an array per sample
// made that loop about 25% slower.
func addBilinear(src *image.NRGBA, x, y float64, acc *[3]float64) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	x -= 0.5
	y -= 0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix0, iy0 := clamp(int(x0), w), clamp(int(y0), h)
	ix1, iy1 := clamp(int(x0)+1, w), clamp(int(y0)+1, h)
	p00 := src.Pix[iy0*src.Stride+4*ix0:]
	p10 := src.Pix[iy0*src.Stride+4*ix1:]
	p01 := src.Pix[iy1*src.Stride+4*ix0:]
	p11 := src.Pix[iy1*src.Stride+4*ix1:]
	for ch := range acc {
		top := float64(p00[ch])*(1-fx) + float64(p10[ch])*fx
		bot := float64(p01[ch])*(1-fx) + float64(p11[ch])*fx
		acc[ch] += top*(1-fy) + bot*fy
	}
}

func clamp(v, n int) int {
	if v < 0 {
		return 0
	}
	if v >= n {
		return n - 1
	}
	return v
}
