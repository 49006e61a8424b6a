package preprocess

import (
	"fmt"
	"image"

	"github.com/disintegration/imaging"
)

// Spec is a model's input contract, as its ONNX metadata states it. Training
// (training/data.py) and this package implement the same steps: 8-bit RGB,
// optional ITU-R 601 gray, an antialiased bilinear resize of the whole crop
// rounded to 8 bits, then value = pixel*Scale + Offset, planar NCHW.
type Spec struct {
	Width, Height int
	Gray          bool
	Scale, Offset float32
}

// Validate rejects a contract this package cannot honour.
func (s Spec) Validate() error {
	if s.Width <= 0 || s.Height <= 0 || s.Width > 4096 || s.Height > 4096 {
		return fmt.Errorf("input size %dx%d out of range", s.Width, s.Height)
	}
	if s.Scale == 0 {
		return fmt.Errorf("input scale is 0")
	}
	return nil
}

// Channels is 1 for gray and 3 for RGB.
func (s Spec) Channels() int {
	if s.Gray {
		return 1
	}
	return 3
}

// Len is the number of float32 values of one face's tensor.
func (s Spec) Len() int { return s.Channels() * s.Width * s.Height }

// NRGBA returns img as *image.NRGBA, converting only when needed; every
// sampling step below reads this one layout. imaging's converter has fast
// paths for the decoders' own types (YCbCr above all), where draw.Draw into
// NRGBA falls back to a per-pixel interface call, 2 ms for a 200x200 JPEG.
func NRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	return imaging.Clone(img)
}

// Pixels resizes the whole image to the spec's size and returns its 8-bit
// planar pixels (C x H x W), the values the parity test compares with training.
func (s Spec) Pixels(img *image.NRGBA) []uint8 {
	src := img
	if s.Gray {
		src = toGray(img)
	}
	return resizePlanar(src, s.Width, s.Height, s.Channels())
}

// Tensor writes the whole image, resized and normalised, into dst (len s.Len()).
func (s Spec) Tensor(img *image.NRGBA, dst []float32) {
	for i, p := range s.Pixels(img) {
		dst[i] = float32(p)*s.Scale + s.Offset
	}
}

// toGray converts with ITU-R 601 luma, rounded, into all three channels.
func toGray(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		in := img.Pix[y*img.Stride:]
		o := out.Pix[y*out.Stride:]
		for x := 0; x < b.Dx(); x++ {
			r, g, bl := int(in[4*x]), int(in[4*x+1]), int(in[4*x+2])
			l := uint8((299*r + 587*g + 114*bl + 500) / 1000)
			o[4*x], o[4*x+1], o[4*x+2], o[4*x+3] = l, l, l, 255
		}
	}
	return out
}
