package server

import (
	"context"
	"image"
	"net/http"
	"syscall"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// niceProbe records the nice value of the thread each call runs on.
type niceProbe struct {
	*fakeEstimator
	seen []int
}

func (p *niceProbe) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		panic(err)
	}
	p.seen = append(p.seen, 20-raw)
	return p.fakeEstimator.FacesContext(ctx, imgs)
}

// A large image's work runs at a raised nice value, and no later request
// inherits it: its thread is discarded, not reused.
func TestLargeImageRunsAtLowerPriority(t *testing.T) {
	probe := &niceProbe{fakeEstimator: &fakeEstimator{faces: twoFaces()}}
	h := newServer(t, probe, Config{MaxMemory: 64 << 20, MaxConcurrent: 1})
	crop, large := pngBytes(t, 64, 64), flatPNG(600, 600)
	for _, data := range [][]byte{crop, large, large, crop, crop, crop, crop, crop, crop, crop, crop} {
		if rec := postPredict(t, h, data); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	base := probe.seen[0]
	for i, n := range probe.seen {
		want := base
		if i == 1 || i == 2 {
			want = min(19, base+largeNice)
		}
		if n != want {
			t.Errorf("call %d ran at nice %d, want %d (crop at %d); all: %v", i, n, want, base, probe.seen)
		}
	}
}
