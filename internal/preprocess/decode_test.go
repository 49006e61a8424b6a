package preprocess

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// A batch reports thousands of failures one line each, so every error must
// say which file and why on its own.
func TestDecodeErrorsNameFileAndReason(t *testing.T) {
	jpg := encodeJPEG(t, gradient(64, 48))
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want []string
		is   error
	}{
		{name: "empty.jpg", data: nil, want: []string{"empty file"}},
		{name: "truncated.jpg", data: jpg[:len(jpg)/2], want: []string{"truncated or corrupt jpeg"}},
		{name: "x.jpg", data: []byte("this is a text file, not a photo\n"), is: ErrNotImage},
		{name: "unknown.bin", data: []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}, is: ErrNotImage},
		{name: "bad-header.png", data: []byte("\x89PNG\r\n\x1a\nnot a chunk at all"), want: []string{"corrupt png header"}},
		{name: "big.png", data: encodePNG(t, gradient(40, 30)), lim: Limits{MaxBytes: 100}, want: []string{"over the 100 bytes limit"}},
		{name: "many.png", data: encodePNG(t, gradient(40, 30)), lim: Limits{MaxPixels: 1199}, want: []string{"40x30", "megapixel limit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(c.data), c.name, c.lim)
			if err == nil {
				t.Fatal("decoded without error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.name+": ") {
				t.Errorf("error %q does not start with the file name", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", msg, c.is)
			}
		})
	}
}

// The pixel limit exists so that a tiny hostile header cannot make us
// allocate gigabytes: it must be enforced from the header alone.
func TestDecodeRefusesHugeDeclaredSizeBeforeDecoding(t *testing.T) {
	data := pngHeader(50000, 50000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(bytes.NewReader(data), "bomb.png", Limits{})
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("50000x50000 PNG accepted")
	}
	msg := err.Error()
	for _, w := range []string{"bomb.png: ", "50000x50000", "2500.0 megapixels", "100 megapixel limit"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	// A decode would have allocated 10 GB (or failed on the missing IDAT
	// with a different message); the header path needs a few KB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing the header allocated %d bytes", got)
	}
}

// Reading stops at the byte limit, so an endless stream (a FIFO, a hostile
// upload) cannot fill memory before the size check.
func TestDecodeStopsReadingAtMaxBytes(t *testing.T) {
	r := &countingReader{}
	_, err := Decode(r, "endless", Limits{MaxBytes: 4096})
	if err == nil || !strings.Contains(err.Error(), "endless: file is over the 4 KB limit") {
		t.Fatalf("err = %v", err)
	}
	if r.n > 4096+1 {
		t.Errorf("read %d bytes past a 4096-byte limit", r.n)
	}
}

type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xFF
	}
	r.n += int64(len(p))
	return len(p), nil
}

// A file exactly at the limit is accepted: the check is "over", not "at".
func TestDecodeAcceptsFileAtMaxBytes(t *testing.T) {
	data := encodePNG(t, gradient(10, 10))
	if _, err := Decode(bytes.NewReader(data), "exact.png", Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.NewReader(data), "exact.png", Limits{MaxBytes: int64(len(data)) - 1}); err == nil {
		t.Fatal("file one byte over the limit accepted")
	}
}

func TestDecodeReadErrorNamesFile(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := Decode(io.MultiReader(bytes.NewReader([]byte("\x89PNG")), errReader{boom}), "a.png", Limits{})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "a.png: read: ") {
		t.Fatalf("err = %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeEveryFormat(t *testing.T) {
	const w, h = 37, 23
	src := gradient(w, h)
	enc := map[string]func(io.Writer, image.Image) error{
		"jpeg": func(wr io.Writer, m image.Image) error { return jpeg.Encode(wr, m, &jpeg.Options{Quality: 95}) },
		"png":  png.Encode,
		"gif":  func(wr io.Writer, m image.Image) error { return gif.Encode(wr, m, nil) },
		"bmp":  bmp.Encode,
		"tiff": func(wr io.Writer, m image.Image) error { return tiff.Encode(wr, m, nil) },
	}
	for format, encode := range enc {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := encode(&b, src); err != nil {
				t.Fatal(err)
			}
			d, err := Decode(&b, "img."+format, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != format {
				t.Errorf("format = %q", d.Format)
			}
			if s := d.Image.Bounds().Size(); s != image.Pt(w, h) {
				t.Errorf("size = %v, want %dx%d", s, w, h)
			}
			if d.Orientation != 1 {
				t.Errorf("orientation = %d", d.Orientation)
			}
			// A coarse colour check catches a decoder registered for the
			// wrong format or a channel swap; gif and jpeg are lossy.
			if c := at(d.Image, w-1, 0); c.R < 200 || c.G > 60 {
				t.Errorf("top-right pixel = %v, want red-ish", c)
			}
		})
	}
	t.Run("webp", func(t *testing.T) {
		d, err := Decode(bytes.NewReader(losslessWebP(5, 3, blue)), "img.webp", Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Format != "webp" || d.Image.Bounds().Size() != image.Pt(5, 3) {
			t.Fatalf("got %s %v", d.Format, d.Image.Bounds().Size())
		}
		if c := at(d.Image, 4, 2); c != blue {
			t.Errorf("pixel = %v, want %v", c, blue)
		}
	})
}

func TestFormatName(t *testing.T) {
	for magic, want := range map[string]string{
		"\xff\xd8\xff": "jpeg", "\x89PNG": "png", "GIF89a": "gif", "BM": "bmp",
		"RIFF": "webp", "II*\x00": "tiff", "MM\x00*": "tiff", "hello": "image",
	} {
		if got := formatName([]byte(magic)); got != want {
			t.Errorf("formatName(%q) = %q, want %q", magic, got, want)
		}
	}
}

// A file in a supported format that uses a feature its decoder lacks is
// refused saying which: an animated WebP said "webp: invalid format" and an
// arithmetic-coded JPEG "unknown marker".
func TestUnsupportedFeaturesAreNamed(t *testing.T) {
	baseline := encodeJPEG(t, gradient(64, 48))
	sof := bytes.Index(baseline, []byte{0xFF, 0xC0})
	withSOF := func(m byte) []byte {
		out := bytes.Clone(baseline)
		out[sof+1] = m
		return out
	}
	vp8x := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x3f\x00\x00\x3f\x00\x00ANIM\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"anim.webp", vp8x, "anim.webp: an animated webp is not supported; save one frame as a still image"},
		{"arith.jpg", withSOF(0xC9), "arith.jpg: a jpeg with arithmetic coding (SOF9) is not supported; save it as a baseline or progressive jpeg"},
		{"arith-prog.jpg", withSOF(0xCA), "a jpeg with progressive arithmetic coding (SOF10) is not supported"},
		{"lossless.jpg", withSOF(0xC3), "a jpeg with lossless coding (SOF3) is not supported"},
	} {
		if _, err := ReadHeader(c.data, c.name, Limits{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ReadHeader(baseline, "baseline.jpg", Limits{}); err != nil {
		t.Errorf("baseline: %v", err)
	}
}
