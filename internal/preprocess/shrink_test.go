package preprocess

import (
	"image"
	"image/color"
	"testing"
)

// pattern fills an image with values that differ per pixel and channel, so a
// block average that reads the wrong pixel or channel gives a wrong result.
func pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x*y + 3), uint8(200 + (x+y)%56)})
		}
	}
	return img
}

// naiveShrink is the definition shrink must match: the rounded mean of each
// f x f block of r.
func naiveShrink(src *image.NRGBA, r image.Rectangle, f int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx()/f, r.Dy()/f))
	for oy := 0; oy < out.Rect.Dy(); oy++ {
		for ox := 0; ox < out.Rect.Dx(); ox++ {
			var s [4]int
			for dy := 0; dy < f; dy++ {
				for dx := 0; dx < f; dx++ {
					c := src.NRGBAAt(r.Min.X+ox*f+dx, r.Min.Y+oy*f+dy)
					s[0], s[1], s[2], s[3] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B), s[3]+int(c.A)
				}
			}
			n := f * f
			out.SetNRGBA(ox, oy, color.NRGBA{uint8((s[0] + n/2) / n), uint8((s[1] + n/2) / n),
				uint8((s[2] + n/2) / n), uint8((s[3] + n/2) / n)})
		}
	}
	return out
}

func TestShrinkMatchesBlockMean(t *testing.T) {
	src := pattern(103, 77)
	sub := src.SubImage(image.Rect(5, 9, 100, 70)).(*image.NRGBA)
	for _, tc := range []struct {
		name string
		img  *image.NRGBA
		r    image.Rectangle
		f    int
	}{
		{"whole f2", src, src.Rect, 2},
		{"whole f5, partial edge blocks dropped", src, src.Rect, 5},
		{"region f3", src, image.Rect(10, 4, 90, 60), 3},
		{"region of a sub-image f4", sub, image.Rect(7, 11, 95, 66), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := shrink(tc.img, tc.r, tc.f), naiveShrink(tc.img, tc.r, tc.f)
			if got.Rect != want.Rect {
				t.Fatalf("size %v, want %v", got.Rect, want.Rect)
			}
			for y := 0; y < want.Rect.Dy(); y++ {
				for x := 0; x < want.Rect.Dx(); x++ {
					if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); g != w {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
}

func TestFitSizes(t *testing.T) {
	src := pattern(1280, 960)
	for _, tc := range []struct {
		r    image.Rectangle
		w, h int
	}{
		{src.Rect, 256, 192},                   // a whole-number ratio: block averaging alone
		{src.Rect, 200, 150},                   // blocks, then a resize for the rest
		{image.Rect(0, 0, 300, 300), 256, 256}, // less than 2x: a resize only
	} {
		if got := Downscale(src, tc.r, tc.w, tc.h).Rect; got.Dx() != tc.w || got.Dy() != tc.h {
			t.Errorf("Downscale(%v, %d, %d) is %v", tc.r, tc.w, tc.h, got)
		}
	}
}

// BenchmarkDownscale1280x960 is the detector's letterbox step for a 1280x960 photo.
func BenchmarkDownscale1280x960(b *testing.B) {
	src := pattern(1280, 960)
	for i := 0; i < b.N; i++ {
		Downscale(src, src.Rect, 256, 192)
	}
}
