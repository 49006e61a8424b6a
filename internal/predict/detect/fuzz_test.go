package detect

import (
	"image"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// FuzzTiles checks the tile pass on any image size and tile side the flags
// allow: bounded in count, inside the image, covering its far corner.
func FuzzTiles(f *testing.F) {
	f.Add(1280, 960, 512)
	f.Add(100000, 1, 512)
	f.Add(44721, 2236, 64)
	f.Add(10000, 10000, 64)
	f.Fuzz(func(t *testing.T, w, h, side int) {
		if w < 1 || h < 1 || int64(w)*int64(h) > 100_000_000 || side < 64 || side > face.MaxTileSide {
			return // Decode and Params.Validate refuse these
		}
		b := image.Rect(0, 0, w, h)
		ts := tiles(b, side)
		if len(ts) > maxTiles {
			t.Fatalf("%dx%d side %d: %d tiles", w, h, side, len(ts))
		}
		for _, r := range ts {
			if !r.rect.In(b) || r.rect.Empty() {
				t.Fatalf("%dx%d side %d: tile %v", w, h, side, r.rect)
			}
		}
		if len(ts) > 0 && ts[len(ts)-1].rect.Max != b.Max {
			t.Fatalf("%dx%d side %d: last tile %v misses the corner", w, h, side, ts[len(ts)-1].rect)
		}
	})
}
