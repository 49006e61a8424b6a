package detect

import (
	"image"

	"github.com/agegender/agegender/internal/face"
)

// Detection memory. A pass over an input of w x h pixels (padded to
// multiples of 32) holds the shrunk copy of the region (4 bytes a pixel),
// the float32 input tensor (12), and ONNX Runtime's activations and
// outputs, which grow with the input too: YuNet took 172 MB for a
// 1504x1504 input and 570 MB for a 3008x3008 one beyond the same photo at
// 640 (peak RSS of `predict --det-size N` on flat grey N x N PNGs; 76 and 63
// bytes a pixel, tensor included). A pass at the default size is part of
// what the engine holds anyway (about 150 MB besides the budget, measured
// with it); past it the memory must be charged, or --det-size 8192 on a
// 7000x7000 photo reaches 2.78 GB under a 384 MB budget.
const (
	// allowanceSide is the pass side covered by the engine's own memory.
	allowanceSide = face.DefaultInputSize
	// goBytesPerPixel is the shrunk copy and the tensor, garbage once the
	// pass is done but counted as live until the collector runs.
	goBytesPerPixel = 4 + 12
)

// Memory is about the most memory, in bytes, beyond what the engine holds
// anyway, that detecting with p in images of the given sizes takes (the
// photo, and the padded copy the engine retries on). ONNX Runtime's share is
// the largest pass's, because passes run one after another and it reuses
// its buffers; the Go copies of every pass are counted.
func (d *Detector) Memory(p face.DetectParams, sizes ...image.Point) int64 {
	allowance := int64(allowanceSide * allowanceSide)
	var largest, copies int64
	for _, s := range sizes {
		long := max(s.X, s.Y)
		if long <= 0 {
			continue
		}
		for _, side := range passSides(long, p) {
			scale := float64(side) / float64(long)
			w := roundUp(max(1, int(float64(s.X)*scale+0.5)), 32)
			h := roundUp(max(1, int(float64(s.Y)*scale+0.5)), 32)
			excess := max(0, int64(w)*int64(h)-allowance)
			largest = max(largest, excess)
			copies += excess
		}
	}
	return (d.family.runtimeBytesPerPixel)*largest + goBytesPerPixel*copies
}
