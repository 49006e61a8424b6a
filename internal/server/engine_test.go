//go:build cgo

// This test needs the real engine, so it builds only where ONNX Runtime can
// be linked; the rest of the package tests against fakes.

package server

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand"
	"net/http"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

// noiseJPEG is a w x h JPEG of grey noise: quick to decode, no face, and
// every detector tile to run.
func noiseJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(1))
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + rng.Intn(40))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The real engine stops a timed-out request's work between detector regions,
// which is what frees its slot: a request given a quarter of the time its
// photo takes leaves the server idle well before that photo would have been
// done. Only the engine can show this, hence ONNX Runtime in a server test.
func TestRealEngineStopsAtTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the detector over a 3000x3000 photo")
	}
	eng, err := predict.New(predict.Options{
		LibraryPath: testutil.ORTLibrary(t), Model: models.Default(), ModelName: models.DefaultName,
		Detector: models.Detector(), DetectorName: models.DetectorName, Mode: face.DetectAuto, Detect: face.DefaultDetectParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	photo := noiseJPEG(t, 3000, 3000)

	// The whole run, uninterrupted, on this machine now: the faster of two,
	// since the first warms ONNX Runtime up.
	full := NewHandler(eng, Config{MaxConcurrent: 1})
	whole := time.Hour
	for range 2 {
		start := time.Now()
		if rec := postPredict(t, full, photo); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("noise photo: status %d, want 422 (no face): %s", rec.Code, rec.Body)
		}
		whole = min(whole, time.Since(start))
	}

	hd := NewHandler(eng, Config{MaxConcurrent: 1, Timeout: whole / 4}).(*handler)
	start := time.Now()
	if rec := postPredict(t, hd, photo); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 at a timeout of %s: %s", rec.Code, whole/4, rec.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*whole)
	defer cancel()
	if err := hd.adm.waitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if idle := time.Since(start); idle > whole*3/4 {
		t.Errorf("idle %s after a request that timed out at %s; the whole photo takes %s, so the work was not stopped",
			idle, whole/4, whole)
	}
	t.Logf("whole photo %s; timed out at %s", whole, whole/4)
}
