package detect

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzDecode feeds both decoders arbitrary output values: they must not
// panic, and every detection they keep must have a finite, positive box and
// a score in range.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63}, uint8(2), uint8(1))
	f.Add(make([]byte, 400), uint8(4), uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, cols, rows uint8) {
		c, r := int(cols%16)+1, int(rows%16)+1
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		at := func(n, off int) []float32 {
			out := make([]float32, n)
			for i := range out {
				if len(vals) > 0 {
					out[i] = vals[(i+off)%len(vals)]
				}
			}
			return out
		}
		n := c * r
		yunet := level{Stride: 8, Cols: c, Rows: r, Anchors: 1, Score: at(n, 0), Obj: at(n, 1), Box: at(4*n, 2), Kps: at(10*n, 3)}
		scrfd := level{Stride: 8, Cols: c, Rows: r, Anchors: 2, Score: at(2*n, 0), Box: at(8*n, 2), Kps: at(20*n, 3)}
		for _, d := range append(decodeYuNet([]level{yunet}, 0), decodeSCRFD([]level{scrfd}, 0)...) {
			b := d.Box
			if !(b.W > 0 && b.H > 0) || math.IsInf(b.W, 0) || math.IsInf(b.H, 0) || math.IsNaN(b.X) || math.IsNaN(b.Y) || !(d.Score >= 0 && d.Score <= 1) {
				t.Fatalf("kept %+v", d)
			}
		}
		nms(decodeYuNet([]level{yunet}, 0), 0.3)
	})
}
