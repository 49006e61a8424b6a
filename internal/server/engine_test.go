//go:build cgo

// This test needs the real engine, so it builds only where ONNX Runtime can
// be linked; the rest of the package tests against fakes.

package server

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"sync"
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

// engineCalls wraps the real engine, signals started as its first call
// begins, and sends the joined error of each call on errs.
type engineCalls struct {
	face.Estimator
	started chan struct{}
	once    sync.Once
	errs    chan error
}

func (e *engineCalls) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	e.once.Do(func() { close(e.started) })
	faces, errs := e.Estimator.FacesContext(ctx, imgs)
	e.errs <- errors.Join(errs...)
	return faces, errs
}

// The real engine stops, between detector passes, the work of a request
// that has ended, which is what frees its slot. The noise photo has no
// face, so an engine that ran on would return no error; one that stopped
// returns the request's context error. Only the engine can show this,
// hence ONNX Runtime in a server test.
func TestRealEngineStopsWhenTheRequestEnds(t *testing.T) {
	t.Parallel() // the only engine of this package's tests, on a server of its own
	if testing.Short() {
		t.Skip("runs the detector over a 3000x3000 photo")
	}
	eng, err := predict.New(predict.Options{
		LibraryPath: testutil.ORTLibrary(t), Model: models.Default().Bytes(), ModelName: models.Default().Label(),
		Detector: models.Detector(), DetectorName: models.DetectorName, Mode: face.DetectAuto, Detect: face.DefaultDetectParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	calls := &engineCalls{Estimator: eng, started: make(chan struct{}), errs: make(chan error, 1)}
	s := newServer(t, calls, Config{MaxConcurrent: 1})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-calls.started
		cancel() // the client leaves while the engine works
	}()
	body, ct := multipartBody(t, "file", noiseJPEG(t, 3000, 3000))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/predict", body)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 once the request ended: %s", rec.Code, rec.Body)
	}
	if err := <-calls.errs; !errors.Is(err, context.Canceled) {
		t.Errorf("the engine returned %v, want the request's context error: the work was not stopped", err)
	}
	// A guard against a hang, not a measure: the slot is free once the
	// engine has returned.
	idle, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	if err := s.adm.waitIdle(idle); err != nil {
		t.Fatal(err)
	}
}
