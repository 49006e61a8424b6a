package detect

import (
	"context"
	"image"
	"math"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
)

const (
	inputName = "input:0"
	// Input side of the back model.
	inputSize = 256
)

var outputNames = []string{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"}

// Detector runs BlazeFace. One Detector is safe for concurrent use: each call
// makes its own tensors.
type Detector struct {
	session *session
	anchors []Anchor
}

// region is a rectangle of the source image run through the model on its own.
type region struct {
	rect image.Rectangle
	// tile regions drop detections touching an inner edge: the face is cut
	// there and another tile or the whole-image pass sees it whole.
	tile bool
}

// Detect finds faces in img. Boxes and keypoints are in img's pixels, sorted
// by score.
func (d *Detector) Detect(img *image.NRGBA, p face.DetectParams) ([]Detection, error) {
	return d.DetectContext(context.Background(), img, p)
}

// DetectContext is Detect that stops between regions once ctx is done, so
// that an interrupt or a timeout does not wait for every tile of a large photo.
func (d *Detector) DetectContext(ctx context.Context, img *image.NRGBA, p face.DetectParams) ([]Detection, error) {
	b := img.Bounds()
	regions := []region{{rect: b}}
	regions = append(regions, tiles(b, p.TileSide)...)
	var all []Detection
	for _, r := range regions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dets, err := d.detectRegion(img, r, p.MinScore)
		if err != nil {
			return nil, err
		}
		all = append(all, dets...)
	}
	merged := WeightedNMS(all, p.NMSThreshold)
	out := merged[:0]
	for _, m := range merged {

		m.Box = calibrate(m.Box)
		if math.Max(m.Box.W, m.Box.H) < p.MinSize {
			continue
		}
		out = append(out, m)
	}
	if p.MaxFaces > 0 && len(out) > p.MaxFaces {
		out = out[:p.MaxFaces]
	}
	return out, nil
}

// maxTiles bounds the tile pass of one image. Tiles cost about 11 ms each,
// so a 100-megapixel image at 512 px would run 729 of them (8 s); above the
// bound the tiles grow instead, which keeps every photo up to 12 megapixels
// (4000x3000: 88 tiles) exactly as it was.
const maxTiles = 128

// tileCount is how many tiles of side cover n pixels, overlapping by a quarter.
func tileCount(n, side int) int {
	if n <= side {
		return 1
	}
	// max: a side of 1 would otherwise step by 0 and divide by zero.
	return int(math.Ceil(float64(n-side)/float64(max(1, side*3/4)))) + 1
}

// tiles covers b with overlapping squares of the given side when b is much
// larger than that; each square overlaps its neighbours by a quarter. Past
// maxTiles the side grows by eighths until the count fits.
func tiles(b image.Rectangle, side int) []region {
	if side <= 0 || max(b.Dx(), b.Dy()) < side*5/4 {
		return nil
	}
	for tileCount(b.Dx(), side)*tileCount(b.Dy(), side) > maxTiles {
		side += max(1, side/8)
	}
	starts := func(n int) []int {
		if n <= side {
			return []int{0}
		}
		count := tileCount(n, side)
		out := make([]int, count)
		for i := range out {
			out[i] = int(math.Round(float64(i) * float64(n-side) / float64(count-1)))
		}
		return out
	}
	var out []region
	for _, y := range starts(b.Dy()) {
		for _, x := range starts(b.Dx()) {
			r := image.Rect(x, y, x+side, y+side).Add(b.Min).Intersect(b)
			out = append(out, region{rect: r, tile: true})
		}
	}
	return out
}

// detectRegion letterboxes one region into the model input and returns its
// detections in source pixels.
func (d *Detector) detectRegion(img *image.NRGBA, r region, minScore float64) ([]Detection, error) {
	w, h := r.rect.Dx(), r.rect.Dy()
	data, scale, ox, oy := preprocess.Letterbox(img, r.rect, inputSize)
	scores, regs, err := d.run(data)
	if err != nil {
		return nil, err
	}
	dets := DecodeRaw(scores, regs, d.anchors, inputSize, minScore)

	// Unit square of the letterboxed input -> source pixels.
	t := Transform{
		ScaleX: inputSize / scale, ScaleY: inputSize / scale,
		OffsetX: float64(r.rect.Min.X) - float64(ox)/scale, OffsetY: float64(r.rect.Min.Y) - float64(oy)/scale,
	}
	out := dets[:0]
	margin := 0.02 * float64(max(w, h))
	full := img.Bounds()
	for _, det := range dets {
		m := t.Apply(det)
		if r.tile && touchesInnerEdge(m.Box, r.rect, full, margin) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// touchesInnerEdge reports whether box reaches an edge of tile that is not
// also an edge of the image.
func touchesInnerEdge(box face.Box, tile, full image.Rectangle, margin float64) bool {
	return (tile.Min.X > full.Min.X && box.X < float64(tile.Min.X)+margin) ||
		(tile.Min.Y > full.Min.Y && box.Y < float64(tile.Min.Y)+margin) ||
		(tile.Max.X < full.Max.X && box.X+box.W > float64(tile.Max.X)-margin) ||
		(tile.Max.Y < full.Max.Y && box.Y+box.H > float64(tile.Max.Y)-margin)
}

// BlazeFace's box runs from the brows to the chin; the usual face box (WIDER
// FACE's annotations, and what a person draws) takes in the forehead. These
// factors map one onto the other: medians over 293 detections matched to
// WIDER boxes of side >= 40 px (go run ./bench/widerface -dump).
const (
	calibWidth   = 0.94
	calibHeight  = 1.22
	calibCenterY = -0.086 // centre shift, as a fraction of the raw height
)

func calibrate(b face.Box) face.Box {
	cx, cy := b.X+b.W/2, b.Y+b.H/2+calibCenterY*b.H
	w, h := b.W*calibWidth, b.H*calibHeight
	return face.Box{X: cx - w/2, Y: cy - h/2, W: w, H: h}
}
