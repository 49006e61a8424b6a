//go:build cgo

package predict_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/agegender/agegender/internal/eval"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/testutil"
)

// tightFill is how much of a tight frame's width the face box fills.
const tightFill = 0.75

// frameTight cuts a 4:5 portrait frame around box out of img, the face
// filling tightFill of its width, clipped to the image: a head-and-shoulders
// crop as a user or a data set (AAF) would make it.
func frameTight(img *image.NRGBA, box face.Box) *image.NRGBA {
	w := box.W / tightFill
	h := w * 5 / 4
	cx, cy := box.X+box.W/2, box.Y+box.H/2
	r := image.Rect(int(math.Round(cx-w/2)), int(math.Round(cy-h/2)), int(math.Round(cx+w/2)), int(math.Round(cy+h/2)))
	r = r.Intersect(img.Rect)
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Rect, img, r.Min, draw.Src)
	return out
}

// frameLoose centres img in a mid-grey canvas three times its size.
func frameLoose(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, 3*w, 3*h))
	draw.Draw(out, out.Rect, image.NewUniform(color.NRGBA{R: 128, G: 128, B: 128, A: 255}), image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(w, h, 2*w, 2*h), img, img.Rect.Min, draw.Src)
	return out
}

// tightAndLoose frames the largest face of img both ways and estimates each.
// The face to frame is found by AlignedFaces, which locates faces as Faces
// does (TestAlignedFacesAreWhatFacesEstimates) without running the model on
// them: only its box is needed.
func tightAndLoose(t *testing.T, e *predict.Engine, img *image.NRGBA) (tight, loose face.Face, ok bool) {
	t.Helper()
	aligned, err := e.AlignedFaces(context.Background(), img)
	if err != nil || len(aligned) == 0 {
		return face.Face{}, face.Face{}, false
	}
	found := make([]face.Face, len(aligned))
	for i, a := range aligned {
		found[i] = a.Face
	}
	frame := frameTight(img, found[face.Largest(found)].Box)
	// Both framings in one call, so that their faces share a model run
	// (batching changes no estimate: TestBatchingAndConcurrencyDoNotChangeResults).
	got, errs := e.Faces([]*image.NRGBA{frame, frameLoose(frame)})
	for i := range got {
		if errs[i] != nil || len(got[i]) == 0 {
			return face.Face{}, face.Face{}, false
		}
	}
	return got[0][face.Largest(got[0])], got[1][face.Largest(got[1])], true
}

// The same face framed tight and framed loose gets the same estimate:
// every face goes through one alignment, whatever the image around it. On
// images the project makes itself: the astronaut, mirrored, in grey, at
// half size and on a brighter print.
func TestTightAndLooseFramingAgree(t *testing.T) {
	// On the engine the long tests share, beside them: it needs no other.
	t.Parallel()
	e := sharedAutoEngine(t)
	src := astronaut(t)
	variants := map[string]*image.NRGBA{
		"astronaut": src, "mirrored": mirror(src), "grey": grey(src),
		"half size": halfSize(src), "brighter": brighter(src),
	}
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		tight, loose, ok := tightAndLoose(t, e, variants[name])
		if !ok {
			t.Errorf("%s: no face found in one of the framings", name)
			continue
		}
		if !tight.Detected || !loose.Detected {
			t.Errorf("%s: a framing was estimated whole (detected %v/%v), not aligned", name, tight.Detected, loose.Detected)
		}
		t.Logf("figures: framing, %s: tight %.1f %s, loose %.1f %s", name, tight.Age, tight.Gender, loose.Age, loose.Gender)
		// One photo's variants guard against a framing gone wrong, not the
		// goal, which TestTightAndLooseFramingOnValidationFaces holds over
		// 300 faces: v3 gave 0.4-2.5 years here, v4 (accurate) 1.0-4.2,
		// well inside its 80% age interval on her (about 20 years wide),
		// and 1.09 years on average over those 300 against v3's 1.30.
		if d := math.Abs(tight.Age - loose.Age); d > 5 || tight.Gender != loose.Gender {
			t.Errorf("%s: tight %.1f %s, loose %.1f %s: want ages within 5 years and one gender",
				name, tight.Age, tight.Gender, loose.Age, loose.Gender)
		}
	}
}

// Over validation faces of UTKFace and AAF (150 of each, spread over the
// split), tight and loose framings agree: mean age difference at most 1.5
// years, gender mostly the same (issue 19's goals: 1.5 and 97%).
func TestTightAndLooseFramingOnValidationFaces(t *testing.T) {
	utk := testutil.SharedData(t, "utkface")
	aaf := testutil.SharedData(t, "aaf")
	if testing.Short() {
		t.Skip("SKIP: 300 validation faces framed twice take ~20 s; not run with -short")
	}
	// Beside the synthetic wild photos, on the same engine.
	t.Parallel()
	e := sharedAutoEngine(t)
	var paths []string
	for _, dir := range []string{utk, aaf} {
		names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		names = slices.DeleteFunc(names, func(p string) bool { return !eval.IsValidation(p) })
		slices.Sort(names)
		// Evenly spaced through the sorted names, so every age is in
		// (UTKFace's names start with the age).
		for k := range 150 {
			paths = append(paths, names[k*len(names)/150])
		}
	}
	var n, same int
	var diff float64
	for i, f := range frameAll(t, e, paths) {
		if !f.ok {
			t.Errorf("%s: no face found in one of the framings", filepath.Base(paths[i]))
			continue
		}
		n++
		diff += math.Abs(f.tight.Age - f.loose.Age)
		if f.tight.Gender == f.loose.Gender {
			same++
		}
	}
	mean, agree := diff/float64(n), float64(same)/float64(n)
	t.Logf("figures: framing, %d validation faces tight and loose: mean age difference %.2f years, gender agreement %.3f", n, mean, agree)
	// Issue 25's goals: 1.5 years and 0.96. v4 (accurate) reaches 1.09
	// and 0.967 (v3: 1.30 and 0.943).
	if n < 300 || mean > 1.5 || agree < 0.96 {
		t.Errorf("%d faces, mean age difference %.2f (want <= 1.5), gender agreement %.3f (want >= 0.96)", n, mean, agree)
	}
}

// framed is one face framed tight and loose, as tightAndLoose gives it.
type framed struct {
	tight, loose face.Face
	ok           bool
}

// frameAll frames the face of each image at paths, loaded in the test's
// goroutine, on two workers. The results are in the order of paths.
func frameAll(t *testing.T, e *predict.Engine, paths []string) []framed {
	out := make([]framed, len(paths))
	onTwoWorkers(len(paths), func(i int) *image.NRGBA { return loadCrop(t, paths[i]) },
		func(i int, img *image.NRGBA) {
			f := &out[i]
			f.tight, f.loose, f.ok = tightAndLoose(t, e, img)
		})
	return out
}

func mirror(src *image.NRGBA) *image.NRGBA {
	b := src.Rect
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetNRGBA(b.Max.X-1-(x-b.Min.X), y, src.NRGBAAt(x, y))
		}
	}
	return out
}

func grey(src *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(src.Rect)
	for i := 0; i < len(src.Pix); i += 4 {
		l := uint8((299*int(src.Pix[i]) + 587*int(src.Pix[i+1]) + 114*int(src.Pix[i+2]) + 500) / 1000)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = l, l, l, 255
	}
	return out
}

func brighter(src *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(src.Rect)
	for i := 0; i < len(src.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			out.Pix[i+c] = clamp8(float64(src.Pix[i+c])*0.8 + 60)
		}
		out.Pix[i+3] = 255
	}
	return out
}

// halfSize averages each 2x2 block.
func halfSize(src *image.NRGBA) *image.NRGBA {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 4; c++ {
				s := 0
				for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					s += int(src.Pix[(2*y+d[1])*src.Stride+4*(2*x+d[0])+c])
				}
				out.Pix[y*out.Stride+4*x+c] = uint8((s + 2) / 4)
			}
		}
	}
	return out
}

// What AlignedFaces hands training (training/facecrop) is what Faces
// estimates: the same crop gives the same answer through the model.
func TestAlignedFacesAreWhatFacesEstimates(t *testing.T) {
	// On the engine the long tests share, beside them: it needs no other.
	t.Parallel()
	e := sharedAutoEngine(t)
	img := astronaut(t)
	got, errs := e.Faces([]*image.NRGBA{img})
	if errs[0] != nil || len(got[0]) != 1 {
		t.Fatalf("Faces: %v, %d faces", errs[0], len(got[0]))
	}
	aligned, err := e.AlignedFaces(context.Background(), img)
	if err != nil || len(aligned) != 1 {
		t.Fatalf("AlignedFaces: %v, %d faces", err, len(aligned))
	}
	if aligned[0].Face.Box != got[0][0].Box {
		t.Errorf("boxes differ: %+v and %+v", aligned[0].Face.Box, got[0][0].Box)
	}
	spec := e.Spec()
	tensor := make([]float32, spec.Len())
	spec.Tensor(aligned[0].Crop, tensor)
	out, err := e.RunTensor(tensor, 1)
	if err != nil {
		t.Fatal(err)
	}
	ages := out.Age
	if d := math.Abs(float64(ages[0]) - got[0][0].Age); d > 0.01 {
		t.Errorf("age on the aligned crop %.2f, Faces said %.2f", ages[0], got[0][0].Age)
	}
}
