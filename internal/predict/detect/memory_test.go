package detect

import (
	"image"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// A pass at or under the default input size is the engine's own memory;
// past it, each input pixel is charged, ONNX Runtime's share once for the
// largest pass and the Go copies for every pass.
func TestMemoryChargesPassesPastTheDefault(t *testing.T) {
	d := &Detector{family: families[0]}
	def := face.DefaultDetectParams()
	big := face.DetectParams{InputSize: 3000}
	allowance := int64(640 * 640)
	for _, c := range []struct {
		name  string
		p     face.DetectParams
		sizes []image.Point
		want  int64
	}{
		{"default", def, []image.Point{{4000, 3000}, {1638, 1638}}, 0},
		{"crop", big, []image.Point{{200, 200}}, 0},
		{"one pass", big, []image.Point{{3000, 3000}}, (64 + 16) * (3008*3008 - allowance)},
		{"with the padded retry", big, []image.Point{{3000, 3000}, {1638, 1638}},
			(64+16)*(3008*3008-allowance) + 16*(1664*1664-allowance)},
	} {
		if got := d.Memory(c.p, c.sizes...); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
