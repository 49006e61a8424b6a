package preprocess

import (
	"image"
	"image/color"
	"strings"
	"testing"
)

// A valid 100000x1 PNG fits the pixel limit but once made the detector's
// padded copy ask for 38 GB: the aspect limit refuses it from the header.
func TestReadHeaderRefusesStrips(t *testing.T) {
	for _, c := range []struct {
		w, h int
		ok   bool
	}{
		{100000, 1, false}, {1, 20000, false}, {2100, 100, false},
		{2000, 100, true}, {6000, 1000, true}, {1, 1, true},
	} {
		data := encodePNG(t, uniform(c.w, c.h, color.NRGBA{A: 255}))
		_, err := ReadHeader(data, "strip.png", Limits{})
		if c.ok && err != nil {
			t.Errorf("%dx%d refused: %v", c.w, c.h, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "strip.png") || !strings.Contains(err.Error(), "20:1 limit")) {
			t.Errorf("%dx%d: got %v, want an aspect-ratio error naming the file", c.w, c.h, err)
		}
		if _, derr := Decode(strings.NewReader(string(data)), "strip.png", Limits{}); (derr == nil) != c.ok {
			t.Errorf("%dx%d: Decode gave %v, ReadHeader %v", c.w, c.h, derr, err)
		}
	}
}

// Cost charges what the decoder allocates for the header's colour model,
// plus the NRGBA copy and the encoded bytes; a header-only file declaring
// 10000x10000 is charged for its pixels, not for its 60 bytes.
func TestHeaderCost(t *testing.T) {
	data := pngHeader(10000, 10000)
	h, err := ReadHeader(data, "bomb.png", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(data)) + 10000*10000*8; h.Cost() != want { // RGBA header: 4 + NRGBA 4
		t.Errorf("cost %d, want %d", h.Cost(), want)
	}
	gray := encodePNG(t, image.NewGray(image.Rect(0, 0, 100, 50)))
	if h, err := ReadHeader(gray, "g.png", Limits{}); err != nil || h.Cost() != int64(len(gray))+100*50*5 {
		t.Errorf("gray: cost %d, err %v", h.Cost(), err)
	}
}

// A progressive JPEG keeps every coefficient until its last scan, 4 bytes
// per sample of each component's plane more than a baseline one (here 4:2:0,
// MCU-padded to 208x112 luma samples); the budget must charge them. An APP
// segment before the frame header must not hide it.
func TestProgressiveJPEGCostsMore(t *testing.T) {
	// The JFIF segment lets DecodeConfig stop at the frame header.
	jfif := []byte("\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	frame := func(sof byte) []byte {
		return append(append([]byte{0xFF, 0xD8}, jfif...), append(app1([]byte("Exif\x00\x00padding")),
			0xFF, sof, 0, 17, 8, 0, 100, 0, 200, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)...)
	}
	base, err := ReadHeader(frame(0xC0), "base.jpg", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := ReadHeader(frame(0xC2), "prog.jpg", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(4 * (208*112 + 2*104*56)); prog.Cost()-base.Cost() != want {
		t.Errorf("progressive costs %d more, want %d", prog.Cost()-base.Cost(), want)
	}
}
