package preprocess

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Bounds on a JPEG's decode work, checked from its markers before a pixel is
// decoded. Go's decoder walks every block of a scan's components once per
// scan, however few bytes the scan holds: a 147 KB progressive file of 2,000
// scans that each end every block of a 4700x4700 image with one end-of-band
// run took 62 s. A progressive photo has about 10 scans (libjpeg's default
// script: 6 for grey, 10 for colour), which together walk the image's blocks
// about 5 times (6 for grey).
const (
	// defaultMaxScans is the number of scans libjpeg-turbo's own fuzzers and
	// benchmark allow (TJPARAM_SCANLIMIT 500); past it a file is refused
	// whatever its size, because each scan also costs a fixed setup.
	defaultMaxScans = 500
	// defaultMaxScanPasses bounds the blocks all scans walk together, in
	// whole images: 32 is five times a normal file's, so decoding costs at
	// most a few times what any image of its size costs, and the pixel limit
	// bounds that.
	defaultMaxScanPasses = 32
)

// jpegComponent is one component of a frame: its id and sampling factors.
type jpegComponent struct {
	id   byte
	h, v int
}

// jpegLayout is what a JPEG's markers say about the work and memory decoding
// it takes, read as Go's decoder reads them: segments until EOI, skipping
// the entropy-coded data after each SOS up to the next marker.
type jpegLayout struct {
	progressive bool
	width       int
	height      int
	comps       []jpegComponent
	jfif        bool
	adobe       bool
	// adobeTransform 0 means RGB for three components and CMYK for four.
	adobeTransform byte
	scans          int
	// scanned is the blocks all scans walk; scannedComp counts each
	// component's scans.
	scanned     int64
	scannedComp map[byte]int
}

// Marker codes.
const (
	markerSOF0, markerSOF1, markerSOF2 = 0xC0, 0xC1, 0xC2
	markerSOS, markerEOI               = 0xDA, 0xD9
	markerAPP0, markerAPP14            = 0xE0, 0xEE
	markerRST0, markerRST7             = 0xD0, 0xD7
)

var errJPEGLayout = errors.New("malformed jpeg markers")

// readJPEGLayout walks data's markers. It returns errJPEGLayout where the
// walk cannot go on; the decoder then fails on the same bytes.
func readJPEGLayout(data []byte) (*jpegLayout, error) {
	l := &jpegLayout{scannedComp: map[byte]int{}}
	for i := 2; ; {
		i = nextMarker(data, i)
		if i+1 >= len(data) {
			return l, nil // truncated: the decoder says so
		}
		marker := data[i+1]
		if marker == markerEOI {
			return l, nil
		}
		if marker >= markerRST0 && marker <= markerRST7 {
			i += 2
			continue
		}
		if i+4 > len(data) {
			return l, nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return l, nil
		}
		seg := data[i+4 : i+2+n]
		i += 2 + n
		if err := l.segment(marker, seg); err != nil {
			return nil, err
		}
		if marker == markerSOS {
			i = skipEntropyData(data, i)
		}
	}
}

// nextMarker returns the index of the 0xFF that starts the next marker at or
// after i, skipping stray bytes, fill bytes and "\xff\x00" as Go's decoder
// does between segments.
func nextMarker(data []byte, i int) int {
	for i+1 < len(data) {
		switch {
		case data[i] != 0xFF:
			i++
		case data[i+1] == 0xFF:
			i++
		case data[i+1] == 0x00:
			i += 2
		default:
			return i
		}
	}
	return len(data)
}

// skipEntropyData returns the index of the first marker after a scan's
// entropy-coded data starting at i; restart markers belong to the data.
func skipEntropyData(data []byte, i int) int {
	for {
		i = nextMarker(data, i)
		if i+1 >= len(data) || data[i+1] < markerRST0 || data[i+1] > markerRST7 {
			return i
		}
		i += 2
	}
}

func (l *jpegLayout) segment(marker byte, seg []byte) error {
	switch marker {
	case markerSOF0, markerSOF1, markerSOF2:
		return l.frame(marker, seg)
	case markerSOS:
		return l.scan(seg)
	case markerAPP0:
		l.jfif = l.jfif || len(seg) >= 5 && string(seg[:5]) == "JFIF\x00"
	case markerAPP14:
		if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
			l.adobe, l.adobeTransform = true, seg[11]
		}
	}
	return nil
}

func (l *jpegLayout) frame(marker byte, seg []byte) error {
	if l.comps != nil {
		return fmt.Errorf("%w: a second frame header (SOF)", errJPEGLayout)
	}
	if len(seg) < 6 || seg[5] == 0 || len(seg) < 6+3*int(seg[5]) {
		return fmt.Errorf("%w: short frame header", errJPEGLayout)
	}
	l.progressive = marker == markerSOF2
	l.height, l.width = int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
	for c := range int(seg[5]) {
		s := seg[6+3*c:]
		h, v := int(s[1]>>4), int(s[1]&0x0F)
		if int(seg[5]) == 1 {
			h, v = 1, 1 // as the decoder takes a single component
		}
		l.comps = append(l.comps, jpegComponent{id: s[0], h: max(h, 1), v: max(v, 1)})
	}
	return nil
}

func (l *jpegLayout) scan(seg []byte) error {
	if len(seg) < 1 || len(seg) < 1+2*int(seg[0]) {
		return fmt.Errorf("%w: short scan header", errJPEGLayout)
	}
	l.scans++
	for c := range int(seg[0]) {
		id := seg[1+2*c]
		l.scannedComp[id]++
		for _, comp := range l.comps {
			if comp.id == id {
				l.scanned += l.componentBlocks(comp)
			}
		}
	}
	return nil
}

// mcus is the frame's size in MCUs, as the decoder pads it.
func (l *jpegLayout) mcus() (mx, my int64) {
	hmax, vmax := 1, 1
	for _, c := range l.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	return int64((l.width + 8*hmax - 1) / (8 * hmax)), int64((l.height + 8*vmax - 1) / (8 * vmax))
}

// componentBlocks is the 8x8 blocks of one component's plane.
func (l *jpegLayout) componentBlocks(c jpegComponent) int64 {
	mx, my := l.mcus()
	return mx * int64(c.h) * my * int64(c.v)
}

// planeSamples is the samples of every component's plane: what the decoder
// allocates for the decoded image, one byte each, and for a progressive
// file again as int32 coefficients.
func (l *jpegLayout) planeSamples() int64 {
	var n int64
	for _, c := range l.comps {
		n += 64 * l.componentBlocks(c)
	}
	return n
}

// passes is how many times over the scans walk the frame's blocks.
func (l *jpegLayout) passes() float64 {
	total := l.planeSamples() / 64
	if total == 0 {
		return 0
	}
	return float64(l.scanned) / float64(total)
}

// converted reports whether the decoder turns its planes into a second,
// 4-byte-per-pixel image: CMYK and YCCK files, and RGB ones.
func (l *jpegLayout) converted() bool {
	switch len(l.comps) {
	case 4:
		return true
	case 3:
		if l.jfif {
			return false
		}
		if l.adobe && l.adobeTransform == 0 {
			return true
		}
		return l.comps[0].id == 'R' && l.comps[1].id == 'G' && l.comps[2].id == 'B'
	}
	return false
}

// checkWork refuses a JPEG whose scans would cost more to decode than lim
// allows, or that scans a component of a sequential frame twice (a valid
// one scans each once; the decoder would decode the image again per scan).
func (l *jpegLayout) checkWork(name string, lim Limits) error {
	if l.scans > lim.MaxScans {
		return fmt.Errorf("%s: jpeg has %d scans, over the %d scan limit", name, l.scans, lim.MaxScans)
	}
	if p := l.passes(); p > lim.MaxScanPasses {
		return fmt.Errorf("%s: jpeg's %d scans decode the image %.0f times over, over the limit of %g",
			name, l.scans, p, lim.MaxScanPasses)
	}
	if !l.progressive {
		for _, c := range l.comps {
			if n := l.scannedComp[c.id]; n > 1 {
				return fmt.Errorf("%s: sequential jpeg scans component %d %d times; a valid file scans each once", name, c.id, n)
			}
		}
	}
	return nil
}
