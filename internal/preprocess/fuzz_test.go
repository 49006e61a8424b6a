package preprocess

// Fuzz targets. Their seeds run with every `go test`; a longer run per
// target is documented in the README ("Fuzzing").

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/testutil/hostile"
)

// fuzzLimits keep each input cheap: a decoder bug shows as well on a
// 1-megapixel image as on a 100-megapixel one.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}

func FuzzDecode(f *testing.F) {
	small := gradient(9, 7)
	f.Add(encodePNG(f, small))
	f.Add(encodeJPEG(f, small))
	f.Add(withSegments(encodeJPEG(f, small), exifSegment("MM", 6)))
	f.Add(losslessWebP(5, 3, color.NRGBA{R: 200, A: 255}))
	f.Add(pngHeader(10000, 10000))
	f.Add(pngHeader(100000, 1))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("BM"))
	// Files that cost more to decode than their size says: progressive
	// JPEGs of one, three and four components, one over the scan limit, a
	// sequential one that scans its component twice, a 16-bit interlaced
	// PNG.
	f.Add(hostile.ProgressiveJPEG(16, 12, 1, 2))
	f.Add(hostile.ProgressiveJPEG(16, 12, 3, 1))
	f.Add(hostile.ProgressiveJPEG(16, 12, 4, 1))
	f.Add(hostile.ProgressiveJPEG(8, 8, 1, 600))
	f.Add(hostile.BaselineJPEG(16, 12, 2))
	f.Add(hostile.InterlacedPNG16(9, 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, herr := ReadHeader(data, "fuzz", fuzzLimits)
		dec, err := Decode(bytes.NewReader(data), "fuzz", fuzzLimits)
		if err != nil {
			return
		}
		if herr != nil {
			t.Fatalf("Decode accepted what ReadHeader refused: %v", herr)
		}
		b := dec.Image.Bounds()
		px := int64(b.Dx()) * int64(b.Dy())
		if px <= 0 || px > fuzzLimits.MaxPixels {
			t.Fatalf("decoded %v past the limits (header %dx%d)", b, h.Width, h.Height)
		}
		if long, short := max(b.Dx(), b.Dy()), min(b.Dx(), b.Dy()); float64(long) > defaultMaxAspect*float64(short) {
			t.Fatalf("decoded %v past the aspect limit", b)
		}
		if h.Cost() < px*4 {
			t.Fatalf("cost %d undercharges %d pixels", h.Cost(), px)
		}
		if l, err := readJPEGLayout(data); h.Format == "jpeg" && (err != nil || l.checkWork("fuzz", fuzzLimits.withDefaults()) != nil) {
			t.Fatalf("decoded a jpeg whose markers are refused: %v", err)
		}
		n := NRGBA(dec.Image)
		if n.Rect.Dx() != b.Dx() || n.Rect.Dy() != b.Dy() {
			t.Fatalf("NRGBA changed the size: %v -> %v", b, n.Rect)
		}
	})
}

func FuzzEXIF(f *testing.F) {
	jpg := encodeJPEG(f, gradient(4, 4))
	for o := uint16(0); o <= 9; o++ {
		f.Add(withSegments(jpg, exifSegment("II", o)))
		f.Add(withSegments(jpg, exifSegment("MM", o)))
	}
	f.Add(withSegments(jpg, app1([]byte("Exif\x00\x00MM\x00*\xff\xff\xff\xff"))))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := exifOrientation(data)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		img := applyOrientation(gradient(3, 2), o)
		b := img.Bounds()
		if b.Dx()*b.Dy() != 6 {
			t.Fatalf("orientation %d made %v of a 3x2 image", o, b)
		}
	})
}

// FuzzCropGeometry fits a crop to arbitrary points and samples it: the fit
// must refuse or give a usable crop, and sampling any crop must stay in
// bounds and bounded in time.
func FuzzCropGeometry(f *testing.F) {
	f.Add(0.3, 0.3, 0.7, 0.3, 0.5, 0.7, 40.0, 50.0, 80.0, 52.0, 60.0, 90.0)
	f.Add(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0)
	f.Add(0.0, 0.0, 1.0, 0.0, 0.5, 1.0, math.Inf(1), 0.0, 1e300, -1e300, math.NaN(), 5.0)
	f.Add(0.3, 0.3, 0.7, 0.3, 0.5, 0.7, 1e6, 1e6, -1e6, 1e6, 0.0, -1e6)
	src := gradient(64, 48)
	f.Fuzz(func(t *testing.T, tx0, ty0, tx1, ty1, tx2, ty2, px0, py0, px1, py1, px2, py2 float64) {
		template := []face.Point{{X: tx0, Y: ty0}, {X: tx1, Y: ty1}, {X: tx2, Y: ty2}}
		points := []face.Point{{X: px0, Y: py0}, {X: px1, Y: py1}, {X: px2, Y: py2}}
		c, ok := FitCrop(template, points)
		if ok && (!(c.Side > 0) || math.IsInf(c.Side, 0)) {
			t.Fatalf("FitCrop accepted a crop of side %v", c.Side)
		}
		if !ok {
			// Sample an arbitrary crop anyway: detections can be anything.
			c = Crop{CenterX: px0, CenterY: py0, Side: px1, Angle: py1}
		}
		out := CropImage(src, c)
		if s := out.Rect.Size(); s.X != s.Y || s.X < 16 || s.X > maxCropSide {
			t.Fatalf("crop %+v sampled to %v", c, out.Rect)
		}
	})
}

// FuzzFit resizes arbitrary regions to arbitrary sizes, as the detector's
// letterbox and the padded retry do.
func FuzzFit(f *testing.F) {
	f.Add(0, 0, 640, 480, 256, 192)
	f.Add(-5, -5, 10000, 3, 256, 1)
	f.Add(100, 100, 101, 101, 256, 256)
	f.Add(0, 0, 640, 480, 1, 1)
	src := gradient(640, 480)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, w, h int) {
		if w < 1 || h < 1 || w > 512 || h > 512 {
			return // callers ask for the detector's input size or less
		}
		r := image.Rect(x0, y0, x1, y1)
		if r.Intersect(src.Rect).Empty() {
			return // callers only fit regions of the image
		}
		out := Downscale(src, r, w, h)
		if out.Rect.Dx() != w || out.Rect.Dy() != h {
			t.Fatalf("Downscale(%v, %dx%d) gave %v", r, w, h, out.Rect)
		}
	})
}
