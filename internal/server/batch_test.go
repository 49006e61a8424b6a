package server

import (
	"context"
	"encoding/json"
	"image"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
)

// batchProbe answers each image with one face whose age is the image's
// width, so that every request can tell its own answer, and records the
// widths of each call and whether the call's context had ended as it
// returned. While gate is open (non-nil and not closed) calls wait on it,
// after signalling entered.
type batchProbe struct {
	mu      sync.Mutex
	calls   []probeCall
	gate    chan struct{}
	entered chan struct{}
}

type probeCall struct {
	widths []int
	ctxErr error
}

func (p *batchProbe) Mode() face.Mode { return face.DetectAuto }

func (p *batchProbe) WorkingMemory(width, height int) int64 { return engineWork(width, height) }

func (p *batchProbe) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	p.mu.Lock()
	gate, entered := p.gate, p.entered
	p.mu.Unlock()
	if gate != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		<-gate
	}
	call := probeCall{widths: make([]int, len(imgs)), ctxErr: ctx.Err()}
	faces := make([][]face.Face, len(imgs))
	for i, img := range imgs {
		call.widths[i] = img.Rect.Dx()
		faces[i] = []face.Face{{Age: float64(img.Rect.Dx()), Gender: face.Female, GenderProbability: 0.9, Detected: true}}
	}
	p.mu.Lock()
	p.calls = append(p.calls, call)
	p.mu.Unlock()
	return faces, make([]error, len(imgs))
}

// estimated returns the widths of every image estimated, in any call, sorted.
func (p *batchProbe) estimated() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []int
	for _, c := range p.calls {
		all = append(all, c.widths...)
	}
	slices.Sort(all)
	return all
}

// postWidth posts a PNG of the given width and returns the status and the
// age answered (the probe's echo of the width).
func postWidth(t *testing.T, h http.Handler, ctx context.Context, width int) (int, float64) {
	t.Helper()
	body, ct := multipartBody(t, "file", pngBytes(t, width, 40))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/predict", body)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got struct{ Age float64 }
	json.Unmarshal(rec.Body.Bytes(), &got)
	return rec.Code, got.Age
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Requests that arrive while the only slot is busy wait to join a batch,
// and each gets its own image's answer once the slot is free: every image
// is estimated once, in calls of at most MaxBatch. How the six that waited
// split between calls is the scheduler's business and is not asserted.
func TestBatchGathersWhileBusy(t *testing.T) {
	probe := &batchProbe{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	hd := newServer(t, probe, Config{MaxConcurrent: 1, MaxBatch: 4})
	type answer struct {
		width, code int
		age         float64
	}
	answers := make(chan answer, 16)
	post := func(width int) {
		code, age := postWidth(t, hd, context.Background(), width)
		answers <- answer{width, code, age}
	}
	go post(50)
	<-probe.entered // the first request holds the slot
	for w := 51; w <= 56; w++ {
		go post(w)
	}
	waitFor(t, "six images waiting", func() bool { return hd.batch.waiting.Load() == 6 })
	close(probe.gate)
	for range 7 {
		a := <-answers
		if a.code != http.StatusOK || a.age != float64(a.width) {
			t.Errorf("image of width %d: status %d, age %v (another request's answer?)", a.width, a.code, a.age)
		}
	}
	if got, want := probe.estimated(), []int{50, 51, 52, 53, 54, 55, 56}; !slices.Equal(got, want) {
		t.Errorf("estimated widths %v, want each of %v once", got, want)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	for _, c := range probe.calls {
		if len(c.widths) > 4 {
			t.Errorf("one call estimated %v, over MaxBatch 4", c.widths)
		}
	}
}

// A batch that does not fill runs once its window has passed: a lone
// request on an idle server, and two sent together, are each answered with
// their own image's answer, not held for images that never come.
func TestBatchWindowEndsABatchThatDoesNotFill(t *testing.T) {
	probe := &batchProbe{}
	h := newServer(t, probe, Config{MaxConcurrent: 2, MaxBatch: 8, BatchWindow: maxBatchWindow})
	if code, age := postWidth(t, h, context.Background(), 60); code != http.StatusOK || age != 60 {
		t.Errorf("lone request: status %d age %v", code, age)
	}
	var wg sync.WaitGroup
	for _, w := range []int{61, 62} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, age := postWidth(t, h, context.Background(), w); code != http.StatusOK || age != float64(w) {
				t.Errorf("width %d: status %d age %v", w, code, age)
			}
		}()
	}
	wg.Wait()
	if got, want := probe.estimated(), []int{60, 61, 62}; !slices.Equal(got, want) {
		t.Errorf("estimated widths %v, want each of %v once", got, want)
	}
}

// A request that leaves while its image waits is dropped from the batch: its
// image is never estimated. One that leaves while its batch runs does not
// stop the others' work: the run's context lives on while 73 waits.
func TestBatchClientGoneLeavesOthers(t *testing.T) {
	probe := &batchProbe{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	hd := newServer(t, probe, Config{MaxConcurrent: 1, MaxBatch: 8})
	first := make(chan int, 1)
	go func() { code, _ := postWidth(t, hd, context.Background(), 70); first <- code }()
	<-probe.entered

	// 71 leaves before its batch runs; 72 and 73 run together, and 72 leaves
	// during the run.
	ctx71, cancel71 := context.WithCancel(context.Background())
	ctx72, cancel72 := context.WithCancel(context.Background())
	codes := make(chan [2]int, 3)
	for _, c := range []struct {
		w   int
		ctx context.Context
	}{{71, ctx71}, {72, ctx72}, {73, context.Background()}} {
		go func() {
			code, age := postWidth(t, hd, c.ctx, c.w)
			codes <- [2]int{c.w, code}
			if code == http.StatusOK && age != float64(c.w) {
				t.Errorf("width %d: age %v", c.w, age)
			}
		}()
	}
	// Every submit has returned once none is pending: the three images are
	// in the batch that runs next, whatever the scheduler did.
	waitFor(t, "three images in one batch", func() bool {
		return hd.batch.waiting.Load() == 3 && hd.batch.pending.Load() == 0
	})
	cancel71()
	got := map[int]int{}
	c := <-codes
	got[c[0]] = c[1]
	probe.gate <- struct{}{} // the first call ends
	<-probe.entered          // the batch of 72 and 73 runs
	cancel72()
	c = <-codes // 72 is answered while its batch still runs
	got[c[0]] = c[1]
	close(probe.gate)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first: %d", code)
	}
	c = <-codes
	got[c[0]] = c[1]
	if got[71] != http.StatusServiceUnavailable || got[72] != http.StatusServiceUnavailable || got[73] != http.StatusOK {
		t.Errorf("statuses %v, want 71 and 72 503 (gone), 73 200", got)
	}
	if got, want := probe.estimated(), []int{70, 72, 73}; !slices.Equal(got, want) {
		t.Errorf("estimated widths %v, want %v: 71 dropped before the run", got, want)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	for _, call := range probe.calls {
		if slices.Contains(call.widths, 73) && call.ctxErr != nil {
			t.Errorf("the batch's context ended (%v) while 73 still waited", call.ctxErr)
		}
	}
}

// MaxBatch 1 turns batching off: every request has its own call and slot,
// as before batching.
func TestBatchOff(t *testing.T) {
	probe := &batchProbe{}
	hd := newServer(t, probe, Config{MaxBatch: 1})
	if hd.batch != nil {
		t.Fatal("MaxBatch 1 started a batcher")
	}
	if code, age := postWidth(t, hd, context.Background(), 80); code != http.StatusOK || age != 80 {
		t.Errorf("status %d age %v", code, age)
	}
}
