package hostile

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Hand-written JPEGs, because image/jpeg writes only baseline files of one
// scan: the costly shapes here (many scans, four components, progressive
// coefficient buffers) cannot be made with it. Every coefficient is zero, so
// each file is flat grey and a scan takes a few bytes however large the
// image: one bit per block for a DC scan, a few EOBRUN symbols for an AC scan
// of a whole component.

// ProgressiveJPEG is a flat w x h progressive JPEG of comps components (1:
// grey, 3: YCbCr, 4: CMYK), every component at full resolution: one DC scan
// of all components, then acScans AC scans of each component in turn. With
// acScans 1 it is an ordinary file of 1+comps scans; with thousands it is a
// scan bomb, each scan as costly to decode as the first.
func ProgressiveJPEG(w, h, comps, acScans int) []byte {
	var b bytes.Buffer
	jpegStart(&b, w, h, comps, 0xC2)
	scan(&b, comps, 0, 0, w, h, true)
	for range acScans {
		for c := range comps {
			scan(&b, 1, c, 1, w, h, true)
		}
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// BaselineJPEG is a flat w x h grey baseline JPEG whose one component is
// scanned scans times; a valid file scans it once, and a decoder that takes
// the repeats decodes the whole image again for each.
func BaselineJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	jpegStart(&b, w, h, 1, 0xC0)
	for range scans {
		scan(&b, 1, 0, 0, w, h, false)
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// jpegStart writes SOI, the colour-space marker decoders go by (JFIF for
// grey and YCbCr, Adobe for CMYK), one quantisation table, the frame header
// sof and the Huffman tables: DC symbol 0 (no difference) as the 1-bit code
// 0, and AC symbols r<<4 (an end-of-band run of 2^r blocks and r more bits,
// or for r = 0 a plain EOB) as 4-bit codes.
func jpegStart(b *bytes.Buffer, w, h, comps int, sof byte) {
	b.Write([]byte{0xFF, 0xD8})
	if comps == 4 {
		segment(b, 0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00"))
	} else {
		segment(b, 0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	}
	segment(b, 0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))
	frame := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(comps)}
	for c := range comps {
		frame = append(frame, byte(c+1), 0x11, 0)
	}
	segment(b, sof, frame)
	dc := append([]byte{0x00, 1}, make([]byte, 15)...)
	segment(b, 0xC4, append(dc, 0))
	ac := []byte{0x10, 0, 0, 0, 15}
	ac = append(ac, make([]byte, 12)...)
	for r := range 15 {
		ac = append(ac, byte(r<<4))
	}
	segment(b, 0xC4, ac)
}

// scan writes one scan: a DC scan of the first n components (progressive:
// spectral band 0..0; baseline: 0..63 with an EOB per block), or, for
// ac, an AC scan (band 1..63) of component first alone, every block ended
// by end-of-band runs.
func scan(b *bytes.Buffer, n, first, ac, w, h int, progressive bool) {
	hdr := []byte{byte(n)}
	for c := range n {
		hdr = append(hdr, byte(first+c+1), 0x00)
	}
	ss, se := byte(0), byte(0)
	if ac == 1 {
		ss, se = 1, 63
	} else if !progressive {
		se = 63
	}
	segment(b, 0xDA, append(hdr, ss, se, 0))
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	var bw bitWriter
	switch {
	case ac == 1:
		for left := blocks; left > 0; {
			run := min(left, 1<<15-1)
			r := bits.Len(uint(run)) - 1
			bw.put(uint32(r), 4)
			bw.put(uint32(run-1<<r), r)
			left -= run
		}
	case progressive:
		bw.put(0, n*blocks)
	default:
		for range blocks {
			bw.put(0, 1) // DC: no difference
			bw.put(0, 4) // AC: EOB
		}
	}
	b.Write(bw.flush())
}

func segment(b *bytes.Buffer, marker byte, data []byte) {
	b.Write([]byte{0xFF, marker})
	binary.Write(b, binary.BigEndian, uint16(len(data)+2))
	b.Write(data)
}

// bitWriter packs Huffman codes most significant bit first, stuffing a zero
// byte after every 0xFF as entropy-coded data requires.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc int
}

func (w *bitWriter) put(v uint32, n int) {
	for n > 32 {
		w.put(0, 32)
		n -= 32
	}
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.byte(byte(w.acc >> w.nacc))
	}
}

func (w *bitWriter) byte(c byte) {
	w.out = append(w.out, c)
	if c == 0xFF {
		w.out = append(w.out, 0)
	}
}

// flush pads the last byte with one bits.
func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		pad := 8 - w.nacc
		w.put(1<<pad-1, pad)
	}
	return w.out
}
