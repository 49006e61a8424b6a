package cli

import (
	"context"
	"errors"
	"image"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// fakeEngine answers every image with one face as wide as the image, aged
// by its width, so that tests can tell the images apart in the output.
type fakeEngine struct {
	mode   face.Mode
	closed bool
	// work is what WorkingMemory says every image takes.
	work int64
}

func (f *fakeEngine) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	faces, errs := make([][]face.Face, len(imgs)), make([]error, len(imgs))
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		b := img.Bounds()
		faces[i] = []face.Face{{
			Box: face.Box{W: float64(b.Dx()), H: float64(b.Dy())}, Score: 0.9, Detected: f.mode != face.DetectOff,
			Age: float64(b.Dx()), Gender: face.Female, GenderProbability: 0.75,
		}}
	}
	return faces, errs
}

func (f *fakeEngine) Mode() face.Mode { return f.mode }

func (f *fakeEngine) WorkingMemory(int, int) int64 { return f.work }

func (f *fakeEngine) Info() face.EngineInfo {
	return face.EngineInfo{Model: "fake", ModelVersion: "1", ORTVersion: "none", Mode: f.mode, Input: "1x1 RGB", Detector: "none"}
}

func (f *fakeEngine) Close() error {
	if f.closed {
		return errors.New("closed twice")
	}
	f.closed = true
	return nil
}

// fakeOpener opens fake engines and keeps the last one and its config.
type fakeOpener struct {
	eng    *fakeEngine
	config face.EngineConfig
}

func (o *fakeOpener) open(_ context.Context, c face.EngineConfig) (Engine, error) {
	o.config = c
	o.eng = &fakeEngine{mode: c.Mode}
	return o.eng, nil
}

// noEngine fails the test if a command gets as far as starting the engine.
func noEngine(t *testing.T) OpenEngine {
	return func(context.Context, face.EngineConfig) (Engine, error) {
		t.Error("the engine was opened")
		return nil, errors.New("no engine in this test")
	}
}
