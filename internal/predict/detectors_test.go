//go:build cgo

package predict_test

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

func astronaut(t *testing.T) *image.NRGBA {
	t.Helper()
	return loadCrop(t, filepath.Join(testutil.RepoRoot(t), "testdata", "astronaut.png"))
}

// Both detector formats find the astronaut's one face in the same place, and
// the engine says which one runs and on what score scale.
func TestDetectorsFindTheSameFace(t *testing.T) {
	img := astronaut(t)
	yunet := newEngine(t, face.DetectOn)
	got, errs := yunet.Faces([]*image.NRGBA{img})
	if errs[0] != nil || len(got[0]) != 1 {
		t.Fatalf("YuNet: %v, %+v", errs[0], got[0])
	}
	if info := yunet.Info().Detector; !strings.Contains(info, "YuNet") || !strings.Contains(info, "0.70") {
		t.Errorf("YuNet engine info %q", info)
	}
	yunet.Close()

	scrfdPath := testutil.SharedModel(t, "scrfd/scrfd_2.5g_kps.onnx")
	data, err := os.ReadFile(scrfdPath)
	if err != nil {
		t.Fatal(err)
	}
	scrfd, err := predict.New(predict.Options{LibraryPath: testutil.ORTLibrary(t), Model: models.Default().Bytes(), ModelName: models.Default().Label(),
		Detector: data, DetectorName: scrfdPath, Mode: face.DetectOn, Detect: face.DefaultDetectParams()})
	if err != nil {
		t.Fatal(err)
	}
	defer scrfd.Close()
	if info := scrfd.Info().Detector; !strings.Contains(info, "SCRFD") || !strings.Contains(info, "0.45") {
		t.Errorf("SCRFD engine info %q", info)
	}
	other, errs := scrfd.Faces([]*image.NRGBA{img})
	if errs[0] != nil || len(other[0]) != 1 {
		t.Fatalf("SCRFD: %v, %+v", errs[0], other[0])
	}
	a, b := got[0][0], other[0][0]
	if iou := detect.IoU(a.Box, b.Box); iou < 0.7 {
		t.Errorf("YuNet box %+v and SCRFD box %+v overlap at IoU %.2f", a.Box, b.Box, iou)
	}
	if a.Gender != b.Gender {
		t.Errorf("genders differ: YuNet %s, SCRFD %s", a.Gender, b.Gender)
	}
}

// A model that is not a detector is refused by name, not run.
func TestUnknownDetectorIsRefused(t *testing.T) {
	_, err := predict.New(predict.Options{LibraryPath: testutil.ORTLibrary(t), Model: models.Default().Bytes(), ModelName: models.Default().Label(),
		Detector: models.Default().Bytes(), DetectorName: "not-a-detector.onnx", Mode: face.DetectAuto})
	if err == nil || !strings.Contains(err.Error(), "not-a-detector.onnx") || !strings.Contains(err.Error(), "YuNet") {
		t.Fatalf("want an error naming the file and the formats known, got %v", err)
	}
	// ONNX Runtime must be free for the next engine.
	newEngine(t, face.DetectOff)
}
