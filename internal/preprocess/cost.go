package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	"github.com/agegender/agegender/internal/face"
)

// Cost is about the most memory, in bytes, that decoding the image and
// holding it as NRGBA take at once: the encoded file, what the decoder
// allocates (its image and its working buffers, decoderCost), and the NRGBA
// copy (or the upright copy of a rotated JPEG) that every later step reads.
// It is what a memory budget charges for the image. Buffers that become
// garbage during decoding are counted as live, because the collector may
// not have reclaimed them when the next one is allocated.
func (h Header) Cost() int64 {
	return h.Encoded + h.decoding + 4*int64(h.Width)*int64(h.Height)
}

// CostWith is what an image of header h holds from its bytes to its faces:
// Cost, and what est takes to estimate it beyond the pixels (its detector
// passes and the padded retry's copy). batch and serve charge this same
// figure, so that neither leaves a part of the work unbudgeted.
func (h Header) CostWith(est face.Estimator) int64 {
	return h.Cost() + est.WorkingMemory(h.Width, h.Height)
}

// decoderCost checks the work decoding data would take (a JPEG's scans) and
// returns the bytes its decoder allocates, read from the header's fields
// that change them: a JPEG's components, sampling and progressive mode, a
// PNG's interlacing, the format's own working copies.
func decoderCost(data []byte, name string, cfg image.Config, format string, lim Limits) (int64, error) {
	px := int64(cfg.Width) * int64(cfg.Height)
	perPixel := decodedBytesPerPixel(cfg.ColorModel)
	switch format {
	case "jpeg":
		l, err := readJPEGLayout(data)
		if err != nil {
			return 0, fmt.Errorf("%s: truncated or corrupt jpeg header: %w", name, err)
		}
		if err := l.checkWork(name, lim); err != nil {
			return 0, err
		}
		return l.decoderBytes(px), nil
	case "png":
		if pngInterlaced(data) {
			// Each of the seven passes is decoded into an image of its
			// own, then merged into the whole.
			return 2 * perPixel * px, nil
		}
	case "gif":
		return 2 * px, nil // the frame, and its reordered copy when interlaced
	case "tiff":
		// A strip's decompressed samples beside the image, read into a
		// buffer that grows by doubling (so up to twice their size), and
		// the strip or tile tables the decoder reads (tiffTables). The
		// file is read in place (decodeConfig).
		return 3*perPixel*px + tiffTables(data, cfg.Width, cfg.Height), nil
	case "webp":
		switch cfg.ColorModel {
		case color.NRGBAModel:
			return 8 * px, nil // lossless: the pixels, and a transform's copy of them
		case color.NYCbCrAModel:
			// The alpha plane, decoded as a lossless image first, and the
			// lossy frame's partitions, which the decoder copies.
			return perPixel*px + 5*px + int64(len(data)), nil
		}
		return perPixel*px + int64(len(data)), nil // the frame's partitions, copied
	}
	return perPixel * px, nil
}

// decoderBytes is what Go's JPEG decoder allocates for an image of px
// pixels: one byte per sample of each component's MCU-padded plane, four
// more per sample for a progressive file's coefficients (kept until the
// last scan), and a 4-byte-per-pixel image when it converts CMYK, YCCK or
// RGB planes. A CMYK image then costs 4 bytes a pixel more on its way to
// NRGBA, which reads it pixel by pixel through At, boxing each colour.
func (l *jpegLayout) decoderBytes(px int64) int64 {
	if len(l.comps) == 0 {
		return 8 * px // no frame found: the decoder will fail; charge the most
	}
	planes := l.planeSamples()
	n := planes
	if l.progressive {
		n += 4 * planes
	}
	if l.converted() {
		n += 4 * px
	}
	if len(l.comps) == 4 {
		n += 4 * px
	}
	return n
}

// pngInterlaced reports whether a PNG's IHDR asks for Adam7 interlacing.
func pngInterlaced(data []byte) bool {
	return len(data) > 28 && bytes.Equal(data[12:16], []byte("IHDR")) && data[28] == 1
}

// decodedBytesPerPixel is what the standard decoders allocate per pixel for a
// color model; unknown models are charged as 16-bit RGBA, the largest.
func decodedBytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most 4:4:4; phones write 4:2:0, 1.5
	case color.NYCbCrAModel:
		return 4
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}
