package job

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"iter"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
)

// listing is inputs with these names, each a PNG as wide as 10 plus its
// index, so that the fake estimator's answers tell them apart.
func listing(names ...string) iter.Seq[input.Input] {
	return func(yield func(input.Input) bool) {
		for i, n := range names {
			img := image.NewNRGBA(image.Rect(0, 0, 10+i, 8))
			img.Set(0, 0, color.White)
			var b bytes.Buffer
			png.Encode(&b, img)
			if !yield(input.Reader(n, bytes.NewReader(b.Bytes()))) {
				return
			}
		}
	}
}

// names lists inputs as names.
func names(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("d/%02d.png", i)
	}
	return s
}

// records is what a run writes for these inputs, in this format, with faces
// faces each (CSV writes a row per face).
func records(t *testing.T, format report.Format, faces int, inputs ...string) string {
	t.Helper()
	var b strings.Builder
	w, err := report.New(format, &b, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		im := face.Image{Input: in, Width: 10, Height: 8, Detect: face.DetectOff}
		for i := range faces {
			im.Faces = append(im.Faces, face.Face{Index: i, Age: float64(20 + i), Gender: face.Male, GenderProbability: 0.8})
		}
		if err := w.Write(im); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fakeEstimator finds one face per image, aged by the image's width. Once
// it has seen cancelAfter images (0: never), it cancels the run, as a
// Ctrl-C would, and fails that image and the rest.
type fakeEstimator struct {
	cancel      context.CancelFunc
	cancelAfter int64
	// seen is shared by the pipeline's workers.
	seen atomic.Int64
}

func (f *fakeEstimator) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	faces, errs := make([][]face.Face, len(imgs)), make([]error, len(imgs))
	for i, img := range imgs {
		if seen := f.seen.Add(1); f.cancelAfter > 0 && seen >= f.cancelAfter {
			f.cancel()
		}
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		faces[i] = []face.Face{{Box: face.Box{W: float64(img.Bounds().Dx())}, Age: float64(img.Bounds().Dx()), Gender: face.Female, GenderProbability: 0.75}}
	}
	return faces, errs
}

func (f *fakeEstimator) Mode() face.Mode { return face.DetectOff }

func (f *fakeEstimator) WorkingMemory(int, int) int64 { return 0 }

// memOutput is an Output in memory that records how it was ended.
type memOutput struct {
	bytes.Buffer
	checkpointErr      error
	checkpoints        int
	committed, aborted int
}

func (m *memOutput) Checkpoint(context.Context) error { m.checkpoints++; return m.checkpointErr }
func (m *memOutput) Commit(context.Context) error     { m.committed++; return nil }
func (m *memOutput) Abort(context.Context) error      { m.aborted++; return nil }

var _ io.Writer = (*memOutput)(nil)

// collect gathers what a run says.
type collect struct{ warns, notes []string }

func (c *collect) options(format report.Format) Options {
	return Options{
		Format:   format,
		Pipeline: pipeline.Options{Workers: 1},
		Warn:     func(err error) { c.warns = append(c.warns, err.Error()) },
		Note:     func(s string) { c.notes = append(c.notes, s) },
	}
}
