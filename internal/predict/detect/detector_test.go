package detect

import (
	"image"
	"maps"
	"slices"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// Tiling costs a detector run per tile, so it must not happen where the
// whole-image pass already sees faces at a usable size.
func TestTilesNoneWhenNotNeeded(t *testing.T) {
	cases := []struct {
		b    image.Rectangle
		side int
	}{
		{image.Rect(0, 0, 300, 200), 400},
		{image.Rect(0, 0, 499, 499), 400}, // under 5/4 of the side
		{image.Rect(0, 0, 4000, 3000), 0}, // tiling off
	}
	for _, c := range cases {
		if got := tiles(c.b, c.side); len(got) != 0 {
			t.Errorf("tiles(%v, %d) = %d tiles, want none", c.b, c.side, len(got))
		}
	}
}

// Every pixel must be in some tile, or a small face there is only seen by the
// whole-image pass at a size too small to detect; neighbours must overlap so
// a face cut by one tile's edge is whole in the next.
func TestTilesCoverAndOverlap(t *testing.T) {
	cases := []struct {
		b    image.Rectangle
		side int
	}{
		{image.Rect(0, 0, 1024, 768), 400},
		{image.Rect(100, 50, 1124, 818), 400}, // a sub-image's bounds
		{image.Rect(0, 0, 2000, 300), 400},    // shorter than a tile
		{image.Rect(0, 0, 641, 641), 512},
		{image.Rect(0, 0, 40, 30), 1}, // divided by zero before the fix
	}
	for _, c := range cases {
		ts := tiles(c.b, c.side)
		if len(ts) < 2 {
			t.Errorf("%v side %d: %d tiles", c.b, c.side, len(ts))
			continue
		}
		// Past maxTiles the tiles grow; all of them share the grown side.
		side := c.side
		if tileCount(c.b.Dx(), side)*tileCount(c.b.Dy(), side) > maxTiles {
			side = ts[0].rect.Dx()
		}
		covered := make([]bool, c.b.Dx()*c.b.Dy())
		xs, ys := map[int]bool{}, map[int]bool{}
		for _, r := range ts {
			if !r.tile {
				t.Errorf("%v: region %v not marked as a tile", c.b, r.rect)
			}
			if !r.rect.In(c.b) || r.rect.Empty() {
				t.Fatalf("%v: tile %v outside the image", c.b, r.rect)
			}
			if r.rect.Dx() != min(side, c.b.Dx()) || r.rect.Dy() != min(side, c.b.Dy()) {
				t.Errorf("%v: tile %v is not %d square (clipped only by the image)", c.b, r.rect, side)
			}
			xs[r.rect.Min.X], ys[r.rect.Min.Y] = true, true
			for y := r.rect.Min.Y; y < r.rect.Max.Y; y++ {
				for x := r.rect.Min.X; x < r.rect.Max.X; x++ {
					covered[(y-c.b.Min.Y)*c.b.Dx()+x-c.b.Min.X] = true
				}
			}
		}
		for i, ok := range covered {
			if !ok {
				t.Fatalf("%v side %d: pixel (%d,%d) in no tile", c.b, c.side, c.b.Min.X+i%c.b.Dx(), c.b.Min.Y+i/c.b.Dx())
			}
		}
		if len(xs)*len(ys) != len(ts) {
			t.Errorf("%v: %d tiles do not form a %dx%d grid", c.b, len(ts), len(xs), len(ys))
		}
		if c.side == 1 {
			continue // 1-pixel tiles cannot overlap
		}
		// Starts are evenly spread; consecutive ones at most 3/4 of a side
		// apart, so neighbours overlap by at least a quarter.
		for _, starts := range []map[int]bool{xs, ys} {
			sorted := slices.Sorted(maps.Keys(starts))
			for i := 1; i < len(sorted); i++ {
				if gap := sorted[i] - sorted[i-1]; gap > c.side*3/4 || gap <= 0 {
					t.Errorf("%v side %d: starts %d and %d overlap by less than a quarter", c.b, c.side, sorted[i-1], sorted[i])
				}
			}
		}
	}
}

// A face cut by a tile's inner edge is dropped (another pass sees it whole);
// one at the image's own edge is kept, since no other tile can see more of it.
func TestTouchesInnerEdge(t *testing.T) {
	full := image.Rect(0, 0, 1000, 1000)
	tile := image.Rect(300, 0, 700, 400) // inner edges: left, right, bottom
	const margin = 8
	cases := []struct {
		name string
		box  face.Box
		want bool
	}{
		{"middle", face.Box{X: 450, Y: 150, W: 50, H: 50}, false},
		{"at the inner left edge", face.Box{X: 302, Y: 150, W: 50, H: 50}, true},
		{"just inside the left margin", face.Box{X: 309, Y: 150, W: 50, H: 50}, false},
		{"across the inner right edge", face.Box{X: 680, Y: 150, W: 50, H: 50}, true},
		{"at the inner bottom edge", face.Box{X: 450, Y: 360, W: 50, H: 35}, true},
		{"at the image's top edge", face.Box{X: 450, Y: 0, W: 50, H: 50}, false},
	}
	for _, c := range cases {
		if got := touchesInnerEdge(c.box, tile, full, margin); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	corner := image.Rect(0, 0, 400, 400)
	if touchesInnerEdge(face.Box{X: 0, Y: 0, W: 30, H: 30}, corner, full, margin) {
		t.Error("box at the image corner dropped")
	}
	if !touchesInnerEdge(face.Box{X: 0, Y: 0, W: 30, H: 395}, corner, full, margin) {
		t.Error("box reaching the corner tile's inner bottom edge kept")
	}
	// A tile that is the whole image has no inner edge.
	if touchesInnerEdge(face.Box{X: 0, Y: 0, W: 1000, H: 1000}, full, full, margin) {
		t.Error("whole-image region has an inner edge")
	}
}

// A 100-megapixel image once ran 729 tiles (8 s); the count is bounded and
// the grown tiles still cover the image.
func TestTilesBounded(t *testing.T) {
	for _, b := range []image.Rectangle{image.Rect(0, 0, 10000, 10000), image.Rect(0, 0, 44721, 2236)} {
		ts := tiles(b, 512)
		if len(ts) > maxTiles || len(ts) < 2 {
			t.Errorf("%v: %d tiles, want 2..%d", b, len(ts), maxTiles)
		}
		last := ts[len(ts)-1].rect
		if last.Max != b.Max {
			t.Errorf("%v: last tile %v does not reach the corner", b, last)
		}
	}
	if n := len(tiles(image.Rect(0, 0, 4000, 3000), 512)); n != 88 {
		t.Errorf("4000x3000: %d tiles, want the unbounded 88", n)
	}
}
