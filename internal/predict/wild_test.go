//go:build cgo

package predict_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/agegender/agegender/internal/annotate"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/testutil"
)

// TestSyntheticWildPhotos pastes UTKFace crops (60-320 px, rotated up to 25
// degrees) onto cluttered generated 1280x960 canvases and checks that the
// detect-align-crop path finds them and reproduces the estimates made on the
// original crops. It also counts false boxes: on face-free canvases, and on
// the clutter of the others, away from every pasted crop.
func TestSyntheticWildPhotos(t *testing.T) {
	utk := testutil.SharedData(t, "utkface")
	if testing.Short() {
		t.Skip("SKIP: synthetic wild photos take ~20 s; not run with -short")
	}
	names, err := filepath.Glob(filepath.Join(utk, "*.jpg"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no UTKFace images in %s", utk)
	}
	sort.Strings(names)
	// Mode auto, the CLI's default: the reference estimate of each crop
	// needs its padded retry, and one process runs one engine, shared with
	// the framing test on validation faces, which runs beside this one.
	t.Parallel()
	e := sharedAutoEngine(t)
	rng := rand.New(rand.NewPCG(2026, 11))

	// A canvas costs one detector pass however many faces it holds, and
	// those passes were most of the test's time (issue 27). 100 canvases
	// hold 377 faces, so that one face is 0.27 points of gender agreement.
	// The 150 canvases (544 faces, 0.18 points) that ran before began with
	// these same 100 (one seed) and gave recall 0.994, 1.20 years and
	// 0.954 against 0.992, 1.26 and 0.955 here; the 40 canvases (126
	// faces) of earlier versions, 0.8 points. False boxes are counted on
	// the clutter of these canvases too (none, as on the face-free ones),
	// so that 25 face-free canvases stand where 50 did.
	const canvases, empty = 100, 25
	results := wildRun(t, e, rng, names, canvases, empty)
	var w wildResult
	emptyBoxes := 0
	for n, r := range results {
		if r.err != nil {
			t.Fatalf("canvas %d: %v", n, r.err)
		}
		if n >= canvases {
			emptyBoxes += r.boxes
			continue
		}
		w.faces, w.found, w.genderSame = w.faces+r.faces, w.found+r.found, w.genderSame+r.genderSame
		w.absAge += r.absAge
		w.clutterBoxes += r.clutterBoxes
		// To look at what the pipeline saw: AGEGENDER_WILD_ANNOTATE=/tmp/wild.
		// The canvases hold UTKFace faces: never commit them.
		if r.shown != nil {
			saveAnnotated(t, filepath.Join(os.Getenv("AGEGENDER_WILD_ANNOTATE"), fmt.Sprintf("wild_%02d.png", n)), r.shown, r.got)
		}
	}
	recall := float64(w.found) / float64(w.faces)
	meanAbs := w.absAge / float64(max(w.found, 1))
	agree := float64(w.genderSame) / float64(max(w.found, 1))
	fp := float64(emptyBoxes+w.clutterBoxes) / (canvases + empty)
	t.Logf("figures: synthetic wild photos: %d canvases, %d faces: recall %.3f, mean |age - age on original crop| %.2f years, gender agreement %.3f; false boxes: %d on %d face-free canvases, %d on the clutter of the others, %.3f a canvas",
		canvases, w.faces, recall, meanAbs, agree, emptyBoxes, empty, w.clutterBoxes, fp)
	if recall < 0.99 {
		t.Errorf("recall %.3f < 0.99", recall)
	}
	if fp > 0.02 {
		t.Errorf("%.3f false boxes a canvas > 0.02", fp)
	}
	if meanAbs > 2 {
		t.Errorf("mean |age difference| %.2f > 2 years", meanAbs)
	}
	// The goal is 0.95. With YuNet's points the crops land a little less
	// consistently than BlazeFace's did (0.943 against 0.950 over 450
	// canvases), so this guards the level reached, not the goal.
	if agree < 0.93 {
		t.Errorf("gender agreement %.3f < 0.93", agree)
	}
}

// wildRun draws the canvases with faces, then the face-free ones, in order
// from rng in the test's goroutine, and has two workers run the engine on
// them, which is most of the test's time. The results come back by canvas,
// so that they are summed in one order whichever worker ran each.
func wildRun(t *testing.T, e *predict.Engine, rng *rand.Rand, names []string, canvases, empty int) []wildResult {
	results := make([]wildResult, canvases+empty)
	onTwoWorkers(canvases+empty, func(n int) wildCanvas {
		if n < canvases {
			return drawCanvas(t, rng, names, n)
		}
		return wildCanvas{n: n, img: background(rng, 1280, 960, n-canvases)}
	}, func(n int, c wildCanvas) { results[n] = c.evaluate(t, e) })
	return results
}

// wildCanvas is a canvas as drawn: number n, the crops pasted on it (none
// on a face-free one).
type wildCanvas struct {
	n      int
	img    *image.NRGBA
	pasted []pasted
}

// drawCanvas pastes 1-6 UTKFace crops onto canvas number n.
func drawCanvas(t *testing.T, rng *rand.Rand, names []string, n int) wildCanvas {
	t.Helper()
	c := wildCanvas{n: n, img: background(rng, 1280, 960, n)}
	for k := 1 + rng.IntN(6); k > 0; k-- {
		crop := loadCrop(t, names[rng.IntN(len(names))])
		p, ok := paste(c.img, crop, 60+rng.IntN(261), (rng.Float64()*50-25)*math.Pi/180, rng, c.pasted)
		if ok {
			p.crop = crop
			c.pasted = append(c.pasted, p)
		}
	}
	return c
}

// wildResult is what the engine found on one canvas.
type wildResult struct {
	faces, found, genderSame int
	absAge                   float64
	// clutterBoxes counts the boxes found away from every pasted crop;
	// boxes, all the boxes found (on a face-free canvas, false ones).
	clutterBoxes, boxes int
	err                 error
	// shown is the canvas, kept with what was found on it (got) for
	// AGEGENDER_WILD_ANNOTATE.
	shown *image.NRGBA
	got   []face.Face
}

// evaluate estimates each pasted crop whole (the reference), runs the
// engine on the canvas and matches the faces it found to the pasted ones.
func (c wildCanvas) evaluate(t *testing.T, e *predict.Engine) wildResult {
	var r wildResult
	var truths []pasted
	// The reference estimates, on the original crops as the CLI and
	// training frame them (aligned through the padded retry), and the
	// canvas's faces, in one call, so that their faces share model runs
	// (batching changes no estimate: TestBatchingAndConcurrencyDoNotChangeResults).
	imgs := make([]*image.NRGBA, 0, len(c.pasted)+1)
	for _, p := range c.pasted {
		imgs = append(imgs, p.crop)
	}
	all, errs := e.Faces(append(imgs, c.img))
	for i, p := range c.pasted {
		if errs[i] != nil || len(all[i]) == 0 {
			continue
		}
		ref := all[i][face.Largest(all[i])]
		p.age, p.gender = ref.Age, ref.Gender
		truths = append(truths, p)
	}
	last := len(c.pasted)
	got := all[last:]
	if err := errs[last]; err != nil && err.Error() != "no face found" {
		return wildResult{err: err}
	}
	r.boxes = len(got[0])
	if os.Getenv("AGEGENDER_WILD_ANNOTATE") != "" && c.n < 6 {
		r.shown, r.got = c.img, got[0]
	}
	used := map[int]bool{}
	for _, tr := range truths {
		r.faces++
		best, bestIoU := -1, 0.5
		for i, f := range got[0] {
			if v := detect.IoU(tr.box, f.Box); v >= bestIoU && !used[i] {
				best, bestIoU = i, v
			}
		}
		if best < 0 {
			continue
		}
		used[best] = true
		r.found++
		f := got[0][best]
		r.absAge += math.Abs(f.Age - tr.age)
		if tr.gender == f.Gender {
			r.genderSame++
		}
	}
	for i, f := range got[0] {
		if !used[i] && !onAPaste(f.Box, c.pasted) {
			r.clutterBoxes++
		}
	}
	return r
}

// onAPaste reports whether the centre of b lies on one of the pasted crops
// (the square each was drawn in), where an unmatched box may be a face a
// crop holds besides its own, not clutter.
func onAPaste(b face.Box, taken []pasted) bool {
	x, y := b.X+b.W/2, b.Y+b.H/2
	for _, p := range taken {
		if math.Abs(x-p.cx) <= p.reach && math.Abs(y-p.cy) <= p.reach {
			return true
		}
	}
	return false
}

func saveAnnotated(t *testing.T, path string, img *image.NRGBA, faces []face.Face) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, annotate.Draw(img, faces)); err != nil {
		t.Fatal(err)
	}
}

type pasted struct {
	box    face.Box
	age    float64
	gender string
	// The square the crop was drawn in: its centre and half its side.
	cx, cy, reach float64
	crop          *image.NRGBA
}

func loadCrop(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := preprocess.Decode(f, path, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return preprocess.NRGBA(dec.Image)
}

// UTKFace's face box within its 200x200 crop, as YuNet draws it: medians
// measured by training/framing (training/crop_framing.json).
const (
	faceCenterX = 0.4854
	faceCenterY = 0.4464
	faceW       = 0.875
	faceH       = 1.0364
)

// paste draws crop, scaled to side px and rotated by angle, at a free random
// spot, and returns the face's box on the canvas.
func paste(canvas, crop *image.NRGBA, side int, angle float64, rng *rand.Rand, taken []pasted) (pasted, bool) {
	cos, sin := math.Cos(angle), math.Sin(angle)
	reach := float64(side) * (math.Abs(cos) + math.Abs(sin)) / 2
	W, H := float64(canvas.Rect.Dx()), float64(canvas.Rect.Dy())
	for try := 0; try < 50; try++ {
		cx := reach + rng.Float64()*(W-2*reach)
		cy := reach + rng.Float64()*(H-2*reach)
		free := true
		for _, p := range taken {
			px, py := p.box.X+p.box.W/2, p.box.Y+p.box.H/2
			if math.Abs(px-cx) < reach+p.box.W*0.8 && math.Abs(py-cy) < reach+p.box.H*0.8 {
				free = false
			}
		}
		if !free {
			continue
		}
		s := float64(side) / float64(crop.Rect.Dx())
		for y := int(cy - reach); y <= int(cy+reach); y++ {
			for x := int(cx - reach); x <= int(cx+reach); x++ {
				// canvas -> crop: undo the rotation about the centre, then the scale.
				dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
				u := (dx*cos+dy*sin)/s + float64(crop.Rect.Dx())/2
				v := (-dx*sin+dy*cos)/s + float64(crop.Rect.Dy())/2
				if u < 0 || v < 0 || u >= float64(crop.Rect.Dx()) || v >= float64(crop.Rect.Dy()) {
					continue
				}
				c := preprocess.Bilinear(crop, u, v)
				canvas.SetNRGBA(x, y, color.NRGBA{uint8(c[0] + 0.5), uint8(c[1] + 0.5), uint8(c[2] + 0.5), 255})
			}
		}
		// The face centre, rotated with the crop.
		ox, oy := (faceCenterX-0.5)*float64(side), (faceCenterY-0.5)*float64(side)
		fx, fy := cx+ox*cos-oy*sin, cy+ox*sin+oy*cos
		w, h := faceW*float64(side), faceH*float64(side)
		return pasted{box: face.Box{X: fx - w/2, Y: fy - h/2, W: w, H: h}, cx: cx, cy: cy, reach: reach}, true
	}
	return pasted{}, false
}

// background draws one of four kinds of clutter: shapes on a gradient, noise
// texture, stripes and checks, or soft blobs. It writes Pix directly: through
// SetNRGBA and math.Max/Min it took a quarter of the test's time, for the
// same pixels.
func background(rng *rand.Rand, w, h, kind int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	base := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := 0; x < w; x++ {
			g := float64(x+y) / float64(w+h)
			var c [3]float64
			for i := range c {
				c[i] = base[i]*(1-g) + (255-base[i])*g
			}
			switch kind % 4 {
			case 1:
				n := rng.Float64()*80 - 40
				c = [3]float64{c[0] + n, c[1] + n, c[2] + n}
			case 2:
				if (x/37+y/23)%2 == 0 {
					c = [3]float64{255 - c[0], c[1] / 2, 255 - c[2]}
				}
			}
			p := row[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = clamp8(c[0]), clamp8(c[1]), clamp8(c[2]), 255
		}
	}
	shapes := 30
	if kind%4 == 3 {
		shapes = 12
	}
	for s := 0; s < shapes; s++ {
		col := [4]uint8{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		x0, y0 := rng.IntN(w), rng.IntN(h)
		rw, rh := 10+rng.IntN(200), 10+rng.IntN(200)
		ellipse := rng.IntN(2) == 0 || kind%4 == 3
		for y := max(0, y0-rh); y < min(h, y0+rh); y++ {
			for x := max(0, x0-rw); x < min(w, x0+rw); x++ {
				dx, dy := float64(x-x0)/float64(rw), float64(y-y0)/float64(rh)
				if !ellipse || dx*dx+dy*dy <= 1 {
					copy(img.Pix[y*img.Stride+4*x:], col[:])
				}
			}
		}
	}
	return img
}

// clamp8 rounds v to the nearest byte, clamped to 0..255.
func clamp8(v float64) uint8 {
	v += 0.5
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}
