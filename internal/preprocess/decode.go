// Package preprocess turns image files into model input: it decodes them
// safely, applies EXIF orientation, and converts a whole image or an aligned
// face crop into the tensor layout that the model's metadata asks for.
package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	// Decoders for every format we accept, registered with image.Decode.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Limits bound what Decode accepts, so that one hostile file cannot exhaust memory.
type Limits struct {
	// MaxBytes is the largest encoded file read; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels is the largest width*height decoded, checked from the header
	// before any pixel is decoded; 0 means DefaultMaxPixels.
	MaxPixels int64
}

const (
	DefaultMaxBytes  = 64 << 20
	DefaultMaxPixels = 100_000_000
)

// Formats lists the formats Decode understands, as image.Decode names them.
var Formats = []string{"jpeg", "png", "gif", "bmp", "tiff", "webp"}

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
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	maxPixels := lim.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return Decoded{}, fmt.Errorf("%s: read: %w", name, err)
	}
	return DecodeBytes(data, name, maxBytes, maxPixels)
}

// DecodeBytes is Decode over bytes already in memory.
func DecodeBytes(data []byte, name string, maxBytes, maxPixels int64) (Decoded, error) {
	if len(data) == 0 {
		return Decoded{}, fmt.Errorf("%s: empty file", name)
	}
	if int64(len(data)) > maxBytes {
		return Decoded{}, fmt.Errorf("%s: file is over the %s limit", name, byteSize(maxBytes))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Decoded{}, fmt.Errorf("%s: %w", name, ErrNotImage)
		}
		return Decoded{}, fmt.Errorf("%s: truncated or corrupt %s header: %w", name, formatName(data), err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Decoded{}, fmt.Errorf("%s: %s declares an empty %dx%d image", name, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return Decoded{}, fmt.Errorf("%s: %s declares %dx%d = %.1f megapixels, over the %g megapixel limit",
			name, format, cfg.Width, cfg.Height, float64(px)/1e6, float64(maxPixels)/1e6)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Decoded{}, fmt.Errorf("%s: truncated or corrupt %s: %w", name, format, err)
	}
	orientation := 1
	if format == "jpeg" {
		orientation = exifOrientation(data)
		img = applyOrientation(img, orientation)
	}
	return Decoded{Image: img, Format: format, Orientation: orientation}, nil
}

// byteSize words a limit in whole megabytes when it is one, else in bytes, so
// that a small limit is not reported as "0 MB".
func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// formatName guesses the format from magic bytes, only to word an error.
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
