package hostile

import (
	"encoding/binary"
)

// StripTIFF is an uncompressed 8-bit grey w x h TIFF of one row per strip
// whose strip tables hold strips entries (at least h), every strip the same
// row of pixels: a small image in a file of 8 bytes per strip, which a
// decoder that copies the file or reads the tables whole pays for. The
// image file directory comes last, as TIFF allows, so that a reader that
// buffers the file up to what it reads buffers all of it for the header.
func StripTIFF(w, h, strips int) []byte {
	strips = max(strips, h)
	const entries = 9
	row := 8
	offsets := row + w
	counts := offsets + 4*strips
	ifd := counts + 4*strips
	out := make([]byte, ifd+2+entries*12+4)
	copy(out, "II*\x00")
	le := binary.LittleEndian
	le.PutUint32(out[4:], uint32(ifd))
	le.PutUint16(out[ifd:], entries)
	tags := [entries][4]uint32{
		{256, 4, 1, uint32(w)},                    // ImageWidth
		{257, 4, 1, uint32(h)},                    // ImageLength
		{258, 3, 1, 8},                            // BitsPerSample
		{259, 3, 1, 1},                            // Compression: none
		{262, 3, 1, 1},                            // PhotometricInterpretation: BlackIsZero
		{273, 4, uint32(strips), uint32(offsets)}, // StripOffsets
		{277, 3, 1, 1},                            // SamplesPerPixel
		{278, 4, 1, 1},                            // RowsPerStrip
		{279, 4, uint32(strips), uint32(counts)},  // StripByteCounts
	}
	for i, t := range tags {
		e := out[ifd+2+12*i:]
		le.PutUint16(e, uint16(t[0]))
		le.PutUint16(e[2:], uint16(t[1]))
		le.PutUint32(e[4:], t[2])
		if t[1] == 3 {
			le.PutUint16(e[8:], uint16(t[3]))
		} else {
			le.PutUint32(e[8:], t[3])
		}
	}
	for x := range w {
		out[row+x] = byte(x)
	}
	for i := range strips {
		le.PutUint32(out[offsets+4*i:], uint32(row))
		le.PutUint32(out[counts+4*i:], uint32(w))
	}
	return out
}
