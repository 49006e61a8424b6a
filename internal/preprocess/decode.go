// Package preprocess turns image files into model input: it decodes them
// safely, applies EXIF orientation, and converts a whole image or an aligned
// face crop into the tensor layout that the model's metadata asks for.
package preprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"

	// Decoders for every format we accept, registered with image.Decode.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/agegender/agegender/internal/bytesize"
)

// Limits bound what Decode accepts, so that one hostile file cannot exhaust memory.
type Limits struct {
	// MaxBytes is the largest encoded file read; 0 means defaultMaxBytes.
	MaxBytes int64
	// MaxPixels is the largest width*height decoded, checked from the header
	// before any pixel is decoded; 0 means defaultMaxPixels.
	MaxPixels int64
	// MaxAspect is the largest ratio of the long side to the short one; 0
	// means defaultMaxAspect. Within the pixel limit a strip can still be
	// 100000 px long, and every step after decoding (the detector's padded
	// copy, its tiles) grows with the long side, not with the pixels.
	MaxAspect float64
	// MaxScans and MaxScanPasses bound a JPEG's decode work (jpegscan.go);
	// 0 means defaultMaxScans and defaultMaxScanPasses.
	MaxScans      int
	MaxScanPasses float64
}

const (
	defaultMaxBytes  = 64 << 20
	defaultMaxPixels = 100_000_000
	// defaultMaxAspect admits panoramas (a 360-degree one is about 6:1) and
	// refuses strips and banners that hold no face a detector could find.
	defaultMaxAspect = 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = defaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = defaultMaxPixels
	}
	if l.MaxAspect <= 0 {
		l.MaxAspect = defaultMaxAspect
	}
	if l.MaxScans <= 0 {
		l.MaxScans = defaultMaxScans
	}
	if l.MaxScanPasses <= 0 {
		l.MaxScanPasses = defaultMaxScanPasses
	}
	return l
}

// Bytes is MaxBytes, or its default when it is zero.
func (l Limits) Bytes() int64 { return l.withDefaults().MaxBytes }

// Decoded is a decoded image and facts about its file.
type Decoded struct {
	Image  image.Image
	Format string
	// Orientation is the EXIF orientation that was applied (1 = none).
	Orientation int
}

// ErrNotImage means the bytes are not in any supported image format.
var ErrNotImage = errors.New("not a supported image (jpeg, png, gif, bmp, tiff, webp)")

// Decode reads one image. Its errors start with name and say why, because a
// batch of thousands reports them one line each.
func Decode(r io.Reader, name string, lim Limits) (Decoded, error) {
	data, err := ReadAll(r, name, lim)
	if err != nil {
		return Decoded{}, err
	}
	h, err := ReadHeader(data, name, lim)
	if err != nil {
		return Decoded{}, err
	}
	return h.Decode(data, name)
}

// ReadAll reads the encoded bytes of one image, refusing more than
// lim.MaxBytes; it is Decode's first step, for callers that budget memory
// between the header and the pixels.
func ReadAll(r io.Reader, name string, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%s: file is over the %s limit", name, bytesize.Limit(lim.MaxBytes))
	}
	return data, nil
}

// ReadAllSized is ReadAll for a reader known to hold at most size bytes (a
// file's size, a request's Content-Length): it reads into one buffer of
// size bytes, so that the bytes cost what a caller reserved for them before
// reading, where ReadAll's buffer grows by doubling to up to twice the file.
// More than size bytes is an error (the file grew while it was read); a
// negative size is unknown, and ReadAllSized is then ReadAll.
func ReadAllSized(r io.Reader, name string, lim Limits, size int64) ([]byte, error) {
	if size < 0 {
		return ReadAll(r, name, lim)
	}
	lim = lim.withDefaults()
	if size > lim.MaxBytes {
		return nil, fmt.Errorf("%s: file is over the %s limit", name, bytesize.Limit(lim.MaxBytes))
	}
	data, err := readInto(r, make([]byte, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	return data, nil
}

// errGrew is a reader that gave more bytes than its size said.
var errGrew = errors.New("more bytes than its size when opened (it changed while being read)")

// readInto appends what r gives to buf until EOF, never past buf's capacity.
func readInto(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			var one [1]byte
			n, err := r.Read(one[:])
			switch {
			case n > 0:
				return nil, errGrew
			case errors.Is(err, io.EOF):
				return buf, nil
			case err != nil:
				return nil, err
			}
			continue
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Header is what an image's header declares, read before any pixel is decoded.
type Header struct {
	Width, Height int
	Format        string
	// Encoded is the size of the file in bytes.
	Encoded int64
	// decoding is what the decoder allocates while it decodes (decoderCost).
	decoding int64
}

// ReadHeader reads data's header and checks its declared size and shape
// against lim, so that nothing is allocated for an image that will be refused.
func ReadHeader(data []byte, name string, lim Limits) (Header, error) {
	lim = lim.withDefaults()
	if err := unsupportedFeature(data); err != nil {
		return Header{}, fmt.Errorf("%s: %w", name, err)
	}
	cfg, format, err := decodeConfig(data)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Header{}, fmt.Errorf("%s: %w", name, ErrNotImage)
		}
		return Header{}, fmt.Errorf("%s: truncated or corrupt %s header: %w", name, formatName(data), err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return Header{}, fmt.Errorf("%s: %s declares an empty %dx%d image", name, format, w, h)
	}
	if px := int64(w) * int64(h); px > lim.MaxPixels {
		return Header{}, fmt.Errorf("%s: %s declares %dx%d = %.1f megapixels, over the %g megapixel limit",
			name, format, w, h, float64(px)/1e6, float64(lim.MaxPixels)/1e6)
	}
	if long, short := float64(max(w, h)), float64(min(w, h)); long > lim.MaxAspect*short {
		return Header{}, fmt.Errorf("%s: %s declares %dx%d, an aspect ratio of %.0f:1, over the %g:1 limit",
			name, format, w, h, long/short, lim.MaxAspect)
	}
	hd := Header{Width: w, Height: h, Format: format, Encoded: int64(len(data))}
	if hd.decoding, err = decoderCost(data, name, cfg, format, lim); err != nil {
		return Header{}, err
	}
	return hd, nil
}

// Decode decodes the pixels of data, whose header h was read from it, and
// turns a JPEG upright by its EXIF orientation.
func (h Header) Decode(data []byte, name string) (Decoded, error) {
	return h.DecodeContext(context.Background(), data, name)
}

// DecodeContext is Decode that stops soon after ctx ends, so that work whose
// caller has gone (a request timed out, Ctrl-C) gives its CPU back: the
// decoders are fed through a reader that fails once ctx is done, in pieces
// small enough that a piece costs milliseconds to decode.
func (h Header) DecodeContext(ctx context.Context, data []byte, name string) (Decoded, error) {
	img, err := decodeImage(&ctxReader{ctx: ctx, r: bytes.NewReader(data)}, h.Format)
	if cerr := ctx.Err(); cerr != nil {
		return Decoded{}, fmt.Errorf("%s: decoding stopped: %w", name, cerr)
	}
	if err != nil {
		return Decoded{}, fmt.Errorf("%s: truncated or corrupt %s: %w", name, h.Format, err)
	}
	orientation := 1
	if h.Format == "jpeg" {
		orientation = exifOrientation(data)
		img = applyOrientation(img, orientation)
	}
	return Decoded{Image: img, Format: h.Format, Orientation: orientation}, nil
}

// DecodeNRGBA is DecodeContext that gives the upright pixels as NRGBA,
// which every later step reads. A decoder panic becomes an error, so that
// the caller, which holds memory for the image, still gets to release it.
// batch's workers and serve's requests both decode through it.
func (h Header) DecodeNRGBA(ctx context.Context, data []byte, name string) (img *image.NRGBA, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%s: decoder panicked: %v", name, p)
		}
	}()
	dec, err := h.DecodeContext(ctx, data, name)
	if err != nil {
		return nil, err
	}
	return NRGBA(dec.Image), nil
}

// decodeConfig is image.DecodeConfig, but for a TIFF, which is read in
// place: image.DecodeConfig hides the bytes' ReaderAt behind a bufio.Reader,
// and the TIFF decoder then copies the file up to what it reads, the whole
// file when its directory comes last, before any budget is charged.
func decodeConfig(data []byte) (image.Config, string, error) {
	if formatName(data) == "tiff" {
		cfg, err := tiff.DecodeConfig(bytes.NewReader(data))
		return cfg, "tiff", err
	}
	return image.DecodeConfig(bytes.NewReader(data))
}

// decodeImage is image.Decode, but for a TIFF, which is read in place, for
// the reason decodeConfig gives.
func decodeImage(r *ctxReader, format string) (image.Image, error) {
	if format == "tiff" {
		return tiff.Decode(r)
	}
	img, _, err := image.Decode(r)
	return img, err
}

// formatName guesses the format from magic bytes, to word an error and to
// read a TIFF in place.
func formatName(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return "png"
	case bytes.HasPrefix(data, []byte("GIF8")):
		return "gif"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	case bytes.HasPrefix(data, []byte("RIFF")):
		return "webp"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return "tiff"
	}
	return "image"
}

// ctxReader feeds a decoder at most ctxReadPiece bytes a read and fails once
// ctx is done: the standard decoders have no context, but they all read as
// they go, so a cancelled decode stops at its next read.
type ctxReader struct {
	ctx context.Context
	r   *bytes.Reader
}

// ctxReadPiece is small because a piece of a scan bomb can cost a lot of
// work: a scan of a few dozen bytes walks every block of the image.
const ctxReadPiece = 256

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > ctxReadPiece {
		p = p[:ctxReadPiece]
	}
	return c.r.Read(p)
}

// ReadAt lets the TIFF decoder read the bytes in place; without it, it
// would copy the whole file first.
func (c *ctxReader) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}
