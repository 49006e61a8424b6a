package predict

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"testing"
)

// The padded copy is charged on its long side, capped at paddedMaxSide
// before the margins: 1.6 times the side, squared, four bytes a pixel.
func TestPaddedCost(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want int64
	}{
		{200, 200, 4 * 320 * 320},
		{1000, 10, 4 * 1600 * 1600},
		{100000, 1, 10737418}, // 1638.4 px a side
		{3000, 4000, 10737418},
	} {
		if got := paddedCost(c.w, c.h); got != c.want {
			t.Errorf("paddedCost(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}

// padGrey gives the pixels image/draw gave for the padded copy: the
// source, opaque, in the middle of a mid-grey margin, from a sub-image too.
func TestPadGreyIsTheDrawnCopy(t *testing.T) {
	full := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	for i := range full.Pix {
		full.Pix[i] = uint8(i * 7)
	}
	for i := 3; i < len(full.Pix); i += 4 {
		full.Pix[i] = 255
	}
	src := full.SubImage(image.Rect(5, 2, 30, 21)).(*image.NRGBA)
	const pad = 6
	sb := src.Bounds()
	want := image.NewNRGBA(image.Rect(0, 0, sb.Dx()+2*pad, sb.Dy()+2*pad))
	draw.Draw(want, want.Rect, image.NewUniform(color.NRGBA{R: 128, G: 128, B: 128, A: 255}), image.Point{}, draw.Src)
	draw.Draw(want, image.Rect(pad, pad, pad+sb.Dx(), pad+sb.Dy()), src, sb.Min, draw.Src)
	got := padGrey(src, pad)
	if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("padGrey differs from the drawn copy (%v against %v)", got.Rect, want.Rect)
	}
}
