package hostile

import (
	"bytes"
	"compress/zlib"
)

// adam7 are the seven passes of PNG interlacing: offsets and steps in x, y.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// InterlacedPNG16 is a flat, transparent w x h PNG of 16-bit RGBA samples,
// Adam7-interlaced: Go's decoder decodes each pass into an image of its own
// before merging them into the whole, twice the memory of the pixels.
// image/png writes neither interlacing nor, from an NRGBA64, anything else.
func InterlacedPNG16(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	hdr := ihdr(uint32(w), uint32(h), 6)
	hdr[8], hdr[12] = 16, 1 // bit depth, interlace method
	chunk(&b, "IHDR", hdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	for _, p := range adam7 {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		row := make([]byte, 1+8*pw) // filter byte 0, then zero samples
		for range ph {
			zw.Write(row)
		}
	}
	zw.Close()
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}
