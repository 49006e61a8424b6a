package preprocess

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/agegender/agegender/internal/testutil/hostile"
)

// A JPEG's decode work is bounded from its markers before a pixel is
// decoded: Go's decoder walks every block of a scan's components once per
// scan, so a small file of many scans (a scan bomb) took a minute. Files
// that hide scans where the decoder never reads them (after EOI, inside an
// APP segment such as an EXIF thumbnail) are not refused for them.
func TestReadHeaderBoundsJPEGWork(t *testing.T) {
	ordinary := hostile.ProgressiveJPEG(640, 480, 3, 1)
	bomb := hostile.ProgressiveJPEG(4700, 4700, 1, 2000)
	for _, c := range []struct {
		name string
		data []byte
		want string // part of the error, "" to decode
	}{
		{"grey.jpg", hostile.ProgressiveJPEG(640, 480, 1, 1), ""},
		{"colour.jpg", ordinary, ""},
		{"cmyk.jpg", hostile.ProgressiveJPEG(640, 480, 4, 3), ""},
		{"baseline.jpg", encodeJPEG(t, gradient(640, 480)), ""},
		{"after-eoi.jpg", append(hostile.ProgressiveJPEG(64, 64, 1, 1), bomb[2:]...), ""},
		{"in-app1.jpg", withSegments(ordinary, app1(hostile.ProgressiveJPEG(64, 64, 1, 40))), ""},
		{"bomb.jpg", bomb, "2001 scans, over the 500 scan limit"},
		{"tiny-scans.jpg", hostile.ProgressiveJPEG(8, 8, 1, 600), "601 scans, over the 500 scan limit"},
		{"passes.jpg", hostile.ProgressiveJPEG(2000, 2000, 1, 40), "decode the image 41 times over, over the limit of 32"},
		{"colour-passes.jpg", hostile.ProgressiveJPEG(1000, 1000, 3, 40), "decode the image 41 times over"},
		{"cmyk-passes.jpg", hostile.ProgressiveJPEG(1000, 1000, 4, 40), "decode the image 41 times over"},
		{"repeated-baseline.jpg", hostile.BaselineJPEG(640, 480, 3), "scans component 1 3 times"},
		{"two-frames.jpg", twoFrames(hostile.ProgressiveJPEG(64, 64, 1, 1)), "a second frame header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, herr := ReadHeader(c.data, c.name, Limits{})
			_, derr := Decode(bytes.NewReader(c.data), c.name, Limits{})
			if c.want == "" {
				if herr != nil || derr != nil {
					t.Fatalf("refused: header %v, decode %v", herr, derr)
				}
				return
			}
			for _, err := range []error{herr, derr} {
				if err == nil || !strings.HasPrefix(err.Error(), c.name+": ") || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v, want an error naming the file and saying %q", err, c.want)
				}
			}
		})
	}
}

// twoFrames repeats data's frame header (SOF2) after itself.
func twoFrames(data []byte) []byte {
	i := bytes.Index(data, []byte{0xFF, 0xC2})
	n := 2 + (int(data[i+2])<<8 | int(data[i+3]))
	out := append([]byte{}, data[:i+n]...)
	out = append(out, data[i:i+n]...)
	return append(out, data[i+n:]...)
}

// A decode whose caller has gone stops: the CPU goes back to work that is
// still wanted (a timed-out request's slot, Ctrl-C in a batch).
func TestDecodeContextStopsWhenDone(t *testing.T) {
	data := hostile.ProgressiveJPEG(1000, 1000, 1, 20)
	h, err := ReadHeader(data, "slow.jpg", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.DecodeContext(ctx, data, "slow.jpg"); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "slow.jpg: ") {
		t.Errorf("cancelled decode gave %v, want context.Canceled naming the file", err)
	}
	dec, err := h.DecodeContext(context.Background(), data, "slow.jpg")
	if err != nil || dec.Image.Bounds().Dx() != 1000 {
		t.Errorf("live decode gave %v", err)
	}
}

// Cost charges at least what decoding and the NRGBA copy allocate, for the
// shapes that make decoders allocate more than their image: four components,
// progressive coefficients, 16-bit samples, interlacing, a format's working
// copies. A CMYK progressive JPEG was charged half its real cost.
func TestCostCoversDecoderAllocations(t *testing.T) {
	var tif bytes.Buffer
	if err := tiff.Encode(&tif, gradient(800, 600), &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	var baseline bytes.Buffer
	if err := jpeg.Encode(&baseline, gradient(1000, 800), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"grey-progressive.jpg", hostile.ProgressiveJPEG(1000, 800, 1, 1)},
		{"ycbcr-progressive.jpg", hostile.ProgressiveJPEG(1000, 800, 3, 1)},
		{"cmyk-progressive.jpg", hostile.ProgressiveJPEG(1000, 800, 4, 1)},
		{"baseline.jpg", baseline.Bytes()},
		{"interlaced16.png", hostile.InterlacedPNG16(1000, 800)},
		{"rgba16.png", encodePNG(t, image.NewNRGBA64(image.Rect(0, 0, 1000, 800)))},
		{"paletted.gif", encodeGIF(t, 1000, 800)},
		{"deflate.tiff", tif.Bytes()},
		{"lossless.webp", losslessWebP(1000, 800, color.NRGBA{R: 9, A: 255})},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := ReadHeader(c.data, c.name, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			allocated := allocatedBy(t, func() {
				dec, err := h.Decode(c.data, c.name)
				if err != nil {
					t.Fatal(err)
				}
				NRGBA(dec.Image)
			})
			// The decoders' fixed buffers (Huffman tables, a zlib window)
			// are not per pixel; a small slack covers them.
			const slack = 256 << 10
			if charged := h.Cost() - h.Encoded; charged+slack < allocated {
				t.Errorf("charged %d bytes, decoding allocated %d", charged, allocated)
			}
		})
	}
}

// allocatedBy is the heap bytes f allocates.
func allocatedBy(t *testing.T, f func()) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

func encodeGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, gradient(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A TIFF's header is read in place and its strip tables are in the cost:
// the header's reading copied the whole file, outside any budget (a file
// of six million strips was charged 103 MB and took 240), and decoding
// copied it again.
func TestTIFFTablesAndCopiesAreCharged(t *testing.T) {
	for _, c := range []struct {
		name         string
		w, h, strips int
	}{
		{"two million strips.tiff", 64, 64, 2_000_000},
		{"a strip per row.tiff", 2000, 3000, 3000},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := hostile.StripTIFF(c.w, c.h, c.strips)
			var h Header
			header := allocatedBy(t, func() {
				var err error
				if h, err = ReadHeader(data, c.name, Limits{}); err != nil {
					t.Fatal(err)
				}
			})
			if header > 1<<20 {
				t.Errorf("reading the header of a %d-byte file allocated %d bytes", len(data), header)
			}
			allocated := allocatedBy(t, func() {
				dec, err := h.Decode(data, c.name)
				if err != nil {
					t.Fatal(err)
				}
				NRGBA(dec.Image)
			})
			const slack = 256 << 10
			if charged := h.Cost() - h.Encoded; charged+slack < allocated || charged > 2*allocated+slack+int64(len(data)) {
				t.Errorf("charged %d bytes, decoding allocated %d", charged, allocated)
			}
		})
	}
}
