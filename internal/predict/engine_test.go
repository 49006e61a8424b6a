//go:build cgo

package predict_test

import (
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

// newEngine starts the real engine with the embedded model.
func newEngine(t testing.TB, mode face.Mode) *predict.Engine {
	t.Helper()
	return newEngineWith(t, mode, models.Default().Bytes(), models.Default().Label())
}

// newEngineWith starts an engine on the given age/gender model.
func newEngineWith(t testing.TB, mode face.Mode, model []byte, name string) *predict.Engine {
	t.Helper()
	o := predict.Options{
		LibraryPath: testutil.ORTLibrary(t), Model: model, ModelName: name,
		Mode: mode, Detect: face.DefaultDetectParams(),
	}
	if mode != face.DetectOff {
		o.Detector, o.DetectorName = models.Detector(), models.DetectorName
	}
	e, err := predict.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// pattern makes a deterministic, textured image.
func pattern(w, h int, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*3 + seed*40), uint8(y*5 + seed*17), uint8((x ^ y) + seed), 255})
		}
	}
	return img
}

func uniform(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	return img
}

type parityCase struct {
	Image             string  `json:"image"`
	Pixels            []int   `json:"pixels"`
	Age               float64 `json:"age"`
	FemaleProbability float64 `json:"female_probability"`
	// AgeLow and AgeHigh are PyTorch's interval at the default level, for
	// a model with an age distribution.
	AgeLow  *float64 `json:"age_low"`
	AgeHigh *float64 `json:"age_high"`
}

// TestParityWithTraining checks the Go preprocessing against training's
// (within 1/255 per pixel) and ONNX Runtime against PyTorch (within 1e-4 on
// training's own tensor, 1e-3 end to end), from the fixture that
// `make fixture` exports with the model.
func TestParityWithTraining(t *testing.T) {
	e := newEngine(t, face.DetectOff)
	dir := filepath.Join(testutil.RepoRoot(t), "testdata", "parity")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Preset string       `json:"preset"`
		Cases  []parityCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("fixture has no cases")
	}
	spec := e.Spec()
	for _, c := range fx.Cases {
		f, err := os.Open(filepath.Join(dir, c.Image))
		if err != nil {
			t.Fatal(err)
		}
		dec, err := preprocess.Decode(f, c.Image, preprocess.Limits{})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		goPix := spec.Pixels(preprocess.NRGBA(dec.Image))
		if len(goPix) != len(c.Pixels) {
			t.Fatalf("%s: %d pixels, fixture has %d (is the fixture from this model?)", c.Image, len(goPix), len(c.Pixels))
		}
		worst := 0
		for i, p := range goPix {
			worst = max(worst, absInt(int(p)-c.Pixels[i]))
		}
		if worst > 1 {
			t.Errorf("%s: Go pixels differ from training's by up to %d/255, want <= 1", c.Image, worst)
		}
		t.Logf("%s: Go pixels within %d/255 of training's", c.Image, worst)

		pyTensor := make([]float32, len(c.Pixels))
		for i, p := range c.Pixels {
			pyTensor[i] = float32(p)*spec.Scale + spec.Offset
		}
		out, err := e.RunTensor(pyTensor, 1)
		if err != nil {
			t.Fatal(err)
		}
		ages, pf := out.Age, out.PFemale
		if d := math.Abs(float64(ages[0]) - c.Age); d > 1e-4*math.Max(1, c.Age) {
			t.Errorf("%s: ORT age %.6f, PyTorch %.6f", c.Image, ages[0], c.Age)
		}
		if d := math.Abs(float64(pf[0]) - c.FemaleProbability); d > 1e-4 {
			t.Errorf("%s: ORT P(female) %.6f, PyTorch %.6f", c.Image, pf[0], c.FemaleProbability)
		}

		goTensor := make([]float32, spec.Len())
		spec.Tensor(preprocess.NRGBA(dec.Image), goTensor)
		if out, err = e.RunTensor(goTensor, 1); err != nil {
			t.Fatal(err)
		}
		ages, pf = out.Age, out.PFemale
		// End to end, a pixel may still differ by 1/255 where float32 (torch)
		// and float64 (Go) sums fall either side of a half; the outputs are
		// held to 1e-3, relative for the age.
		if d := math.Abs(float64(ages[0]) - c.Age); d > 1e-3*math.Max(1, c.Age) {
			t.Errorf("%s: end-to-end age %.5f, PyTorch %.5f", c.Image, ages[0], c.Age)
		}
		if d := math.Abs(float64(pf[0]) - c.FemaleProbability); d > 1e-3 {
			t.Errorf("%s: end-to-end P(female) %.5f, PyTorch %.5f", c.Image, pf[0], c.FemaleProbability)
		}
		checkIntervalParity(t, e, c, preprocess.NRGBA(dec.Image))
	}
}

// checkIntervalParity holds the engine's age interval, rounded to 0.1 year,
// to PyTorch's for the same image.
func checkIntervalParity(t *testing.T, e *predict.Engine, c parityCase, img *image.NRGBA) {
	t.Helper()
	faces, errs := e.Faces([]*image.NRGBA{img})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	f := faces[0][0]
	if (c.AgeLow == nil) != (f.AgeLow == nil) {
		t.Fatalf("%s: interval from the engine %v, in the fixture %v: is the fixture from this model?", c.Image, f.AgeLow, c.AgeLow)
	}
	if c.AgeLow == nil {
		return
	}
	if math.Abs(*f.AgeLow-*c.AgeLow) > 0.15 || math.Abs(*f.AgeHigh-*c.AgeHigh) > 0.15 {
		t.Errorf("%s: age interval %.1f..%.1f, PyTorch %.2f..%.2f", c.Image, *f.AgeLow, *f.AgeHigh, *c.AgeLow, *c.AgeHigh)
	}
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestModeOffIsOneWholeImageFace(t *testing.T) {
	e := newEngine(t, face.DetectOff)
	faces, errs := e.Faces([]*image.NRGBA{pattern(120, 90, 1)})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if len(faces[0]) != 1 {
		t.Fatalf("got %d faces, want 1", len(faces[0]))
	}
	f := faces[0][0]
	if f.Detected || f.Box != (face.Box{W: 120, H: 90}) {
		t.Errorf("face %+v: want the whole image, not detected", f)
	}
	if f.Age < 0 || f.Age > 100 || math.IsNaN(f.Age) {
		t.Errorf("age %v out of range", f.Age)
	}
	if f.GenderProbability < 0.5 || f.GenderProbability > 1 || (f.Gender != face.Male && f.Gender != face.Female) {
		t.Errorf("gender %q %.3f invalid", f.Gender, f.GenderProbability)
	}
}

func TestBatchingAndConcurrencyDoNotChangeResults(t *testing.T) {
	e := newEngine(t, face.DetectOff)
	imgs := []*image.NRGBA{pattern(64, 64, 1), pattern(200, 150, 2), pattern(33, 77, 3), pattern(500, 500, 4)}
	together, errs := e.Faces(imgs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	alone := make([][]face.Face, len(imgs))
	for i := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, errs := e.Faces(imgs[i : i+1])
			if errs[0] != nil {
				t.Errorf("image %d alone: %v", i, errs[0])
				return
			}
			alone[i] = f[0]
		}()
	}
	wg.Wait()
	for i := range imgs {
		a, b := together[i][0], alone[i][0]
		if math.Abs(a.Age-b.Age) > 0.01 || math.Abs(a.GenderProbability-b.GenderProbability) > 1e-3 {
			t.Errorf("image %d: batched %.3f/%.4f, alone %.3f/%.4f", i, a.Age, a.GenderProbability, b.Age, b.GenderProbability)
		}
	}
}

func TestDetectionModesOnFacelessImages(t *testing.T) {
	e := newEngine(t, face.DetectOn)
	_, errs := e.Faces([]*image.NRGBA{uniform(640, 480)})
	if !errors.Is(errs[0], face.ErrNoFace) {
		t.Errorf("mode on, blank image: got %v, want ErrNoFace", errs[0])
	}
}

func TestAutoFallsBackOnlyForCropSizedImages(t *testing.T) {
	e := newEngine(t, face.DetectAuto)
	faces, errs := e.Faces([]*image.NRGBA{uniform(200, 200), uniform(1280, 960)})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if len(faces[0]) != 1 || faces[0][0].Detected {
		t.Errorf("200x200 blank crop: want one undetected whole-image face, got %+v", faces[0])
	}
	if len(faces[1]) != 0 {
		t.Errorf("1280x960 blank photo: want no faces, got %d", len(faces[1]))
	}
}

func TestModelWithoutMetadataIsRefused(t *testing.T) {
	_, err := predict.New(predict.Options{LibraryPath: testutil.ORTLibrary(t), Model: models.Detector(), ModelName: "yunet.onnx", Mode: face.DetectOff})
	if err == nil || !strings.Contains(err.Error(), "yunet.onnx") || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("want an error naming the model and its missing metadata, got %v", err)
	}
	// A refused model must leave ONNX Runtime free for the next engine.
	newEngine(t, face.DetectOff)
}

func TestInfo(t *testing.T) {
	info := newEngine(t, face.DetectOff).Info()
	if info.Model == "" || info.ORTVersion == "" || !strings.Contains(info.Input, "x") {
		t.Errorf("incomplete info %+v", info)
	}
}
