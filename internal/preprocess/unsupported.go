package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// errUnsupported is wrapped by the error of a file in a supported format
// that uses a feature its decoder lacks; the decoders themselves said only
// "webp: invalid format" or "unknown marker".
var errUnsupported = errors.New("is not supported")

// unsupportedFeature names what data uses that its decoder cannot decode:
// an animated WebP, or a JPEG coding process other than baseline, extended
// and progressive Huffman (arithmetic coding, lossless, hierarchical).
func unsupportedFeature(data []byte) error {
	switch formatName(data) {
	case "webp":
		if animatedWebP(data) {
			return fmt.Errorf("an animated webp %w; save one frame as a still image", errUnsupported)
		}
	case "jpeg":
		if what := jpegProcess(data); what != "" {
			return fmt.Errorf("a jpeg with %s %w; save it as a baseline or progressive jpeg", what, errUnsupported)
		}
	}
	return nil
}

// animatedWebP reports whether data's VP8X header sets the animation flag
// or it holds an ANIM chunk.
func animatedWebP(data []byte) bool {
	if len(data) < 21 || !bytes.Equal(data[8:12], []byte("WEBP")) {
		return false
	}
	if bytes.Equal(data[12:16], []byte("VP8X")) && data[20]&0x02 != 0 {
		return true
	}
	return bytes.Contains(data[12:min(len(data), 64)], []byte("ANIM"))
}

// jpegProcesses names the frame markers Go's decoder does not take.
var jpegProcesses = map[byte]string{
	0xC3: "lossless coding (SOF3)",
	0xC5: "hierarchical coding (SOF5)", 0xC6: "hierarchical coding (SOF6)", 0xC7: "hierarchical coding (SOF7)",
	0xC9: "arithmetic coding (SOF9)", 0xCA: "progressive arithmetic coding (SOF10)",
	0xCB: "lossless arithmetic coding (SOF11)", 0xCD: "hierarchical arithmetic coding (SOF13)",
	0xCE: "hierarchical arithmetic coding (SOF14)", 0xCF: "hierarchical arithmetic coding (SOF15)",
}

// jpegProcess names data's unsupported coding process from the segments
// before its first scan, or returns "".
func jpegProcess(data []byte) string {
	for i := 2; ; {
		i = nextMarker(data, i)
		if i+4 > len(data) {
			return ""
		}
		marker := data[i+1]
		if what, ok := jpegProcesses[marker]; ok {
			return what
		}
		if marker == markerSOS || marker == markerEOI || marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2 {
			return ""
		}
		if marker >= markerRST0 && marker <= markerRST7 {
			i += 2
			continue
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
}
