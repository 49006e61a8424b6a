package preprocess

import (
	"image"
	"testing"
)

// A wide white image fills the square's width and is centred vertically on
// the 0 (mid-grey) border.
func TestLetterbox(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 400, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	data, scale, ox, oy := Letterbox(img, img.Rect, 64)
	if len(data) != 64*64*3 || scale != 0.16 || ox != 0 || oy != 16 {
		t.Fatalf("len %d, scale %v, offset %d,%d; want %d, 0.16, 0,16", len(data), scale, ox, oy, 64*64*3)
	}
	at := func(x, y int) float32 { return data[(y*64+x)*3] }
	if at(10, 5) != 0 || at(10, 60) != 0 {
		t.Errorf("border is %v / %v, want 0", at(10, 5), at(10, 60))
	}
	if v := at(32, 32); v < 0.99 {
		t.Errorf("image pixel is %v, want 1", v)
	}
}
