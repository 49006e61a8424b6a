package preprocess

import (
	"bytes"
	"encoding/binary"
	"image"
	"testing"
)

// Phones store portrait photos landscape with an orientation tag; the model
// must see the face upright, as a viewer shows it. The stored image is 40x20
// with a red left half, so each orientation puts red on a different side.
func TestDecodeAppliesEXIFOrientation(t *testing.T) {
	jpg := encodeJPEG(t, halves(40, 20, red, blue))
	cases := []struct {
		o    uint16
		size image.Point
		// redAt and blueAt are points well inside each half once upright.
		redAt, blueAt image.Point
	}{
		{1, image.Pt(40, 20), image.Pt(5, 10), image.Pt(34, 10)},
		// 6: rotate 90° clockwise to display; the left edge becomes the top.
		{6, image.Pt(20, 40), image.Pt(10, 5), image.Pt(10, 34)},
		// 3: rotate 180°; red moves to the right.
		{3, image.Pt(40, 20), image.Pt(34, 10), image.Pt(5, 10)},
		// 8: rotate 90° counter-clockwise; the left edge becomes the bottom.
		{8, image.Pt(20, 40), image.Pt(10, 34), image.Pt(10, 5)},
		// 2: mirror; red moves to the right without turning.
		{2, image.Pt(40, 20), image.Pt(34, 10), image.Pt(5, 10)},
	}
	for _, bo := range []string{"II", "MM"} {
		for _, c := range cases {
			data := withSegments(jpg, exifSegment(bo, c.o))
			d, err := Decode(bytes.NewReader(data), "phone.jpg", Limits{})
			if err != nil {
				t.Fatalf("%s orientation %d: %v", bo, c.o, err)
			}
			if d.Orientation != int(c.o) {
				t.Errorf("%s orientation %d: reported %d", bo, c.o, d.Orientation)
			}
			if s := d.Image.Bounds().Size(); s != c.size {
				t.Errorf("%s orientation %d: size %v, want %v", bo, c.o, s, c.size)
				continue
			}
			if p := at(d.Image, c.redAt.X, c.redAt.Y); !isRed(p) {
				t.Errorf("%s orientation %d: %v = %v, want red", bo, c.o, c.redAt, p)
			}
			if p := at(d.Image, c.blueAt.X, c.blueAt.Y); !isBlue(p) {
				t.Errorf("%s orientation %d: %v = %v, want blue", bo, c.o, c.blueAt, p)
			}
		}
	}
}

// Cameras write APP0 (JFIF) before APP1; the marker walk must step over it.
func TestEXIFAfterOtherSegments(t *testing.T) {
	jfif := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	xmp := app1([]byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))
	data := withSegments(encodeJPEG(t, halves(40, 20, red, blue)), jfif, xmp, exifSegment("MM", 6))
	d, err := Decode(bytes.NewReader(data), "camera.jpg", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Orientation != 6 || d.Image.Bounds().Size() != image.Pt(20, 40) {
		t.Fatalf("orientation %d, size %v", d.Orientation, d.Image.Bounds().Size())
	}
}

// Orientation is a hint: a broken EXIF block must not cost the user a photo
// that decodes fine, so it falls back to 1.
func TestMalformedEXIFIsIgnored(t *testing.T) {
	jpg := encodeJPEG(t, halves(40, 20, red, blue))
	good := exifSegment("II", 6)
	tiffAt := 4 + 6 // marker, length, "Exif\0\0"
	mutate := func(f func(seg []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := map[string][]byte{
		"unknown byte order": mutate(func(s []byte) []byte { copy(s[tiffAt:], "XX"); return s }),
		"IFD offset past end": mutate(func(s []byte) []byte {
			binary.LittleEndian.PutUint32(s[tiffAt+4:], 0xFFFFFFF0)
			return s
		}),
		"IFD offset inside header": mutate(func(s []byte) []byte {
			binary.LittleEndian.PutUint32(s[tiffAt+4:], 2)
			return s
		}),
		"entry count past end": mutate(func(s []byte) []byte {
			binary.LittleEndian.PutUint16(s[tiffAt+8:], 0xFFFF)
			binary.LittleEndian.PutUint16(s[tiffAt+10:], 0x010F) // Make, so the walk goes on
			return s
		}),
		"orientation out of range": exifSegment("II", 9),
		"orientation zero":         exifSegment("MM", 0),
		"TIFF block too short":     app1([]byte("Exif\x00\x00II*\x00")),
		"no Exif header":           app1([]byte("Exif")),
		"no orientation tag": mutate(func(s []byte) []byte {
			binary.LittleEndian.PutUint16(s[tiffAt+10:], 0x010F) // Make
			return s
		}),
	}
	for name, seg := range cases {
		d, err := Decode(bytes.NewReader(withSegments(jpg, seg)), "odd.jpg", Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.Orientation != 1 || d.Image.Bounds().Size() != image.Pt(40, 20) {
			t.Errorf("%s: orientation %d, size %v; want 1, 40x20", name, d.Orientation, d.Image.Bounds().Size())
		}
	}
}

// exifOrientation parses untrusted bytes; no prefix of a real header, nor a
// segment length that lies, may make it panic or read out of bounds.
func TestEXIFOrientationTruncations(t *testing.T) {
	data := withSegments(encodeJPEG(t, uniform(8, 8, red)), exifSegment("MM", 8))
	for n := 0; n <= len(data); n++ {
		exifOrientation(data[:n])
	}
	if got := exifOrientation(data); got != 8 {
		t.Fatalf("full data: orientation %d, want 8", got)
	}
	lying := withSegments(data[:2], []byte{0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'})
	if got := exifOrientation(lying); got != 1 {
		t.Errorf("segment longer than the file: orientation %d", got)
	}
}

// Only JPEG carries the EXIF orientation we read; other formats keep their
// stored layout.
func TestNonJPEGIsNotRotated(t *testing.T) {
	d, err := Decode(bytes.NewReader(encodePNG(t, halves(40, 20, red, blue))), "a.png", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Orientation != 1 || d.Image.Bounds().Size() != image.Pt(40, 20) {
		t.Fatalf("orientation %d, size %v", d.Orientation, d.Image.Bounds().Size())
	}
}
