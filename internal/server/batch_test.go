package server

import (
	"context"
	"encoding/json"
	"image"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
)

// batchProbe answers each image with one face whose age is the image's
// width, so that every request can tell its own answer, and records the
// number of images of each call. While gate is open (non-nil and not
// closed) calls wait on it, after signalling entered.
type batchProbe struct {
	mu      sync.Mutex
	calls   []int
	ctxErrs []error // ctx.Err() as each call returned
	gate    chan struct{}
	entered chan struct{}
}

func (p *batchProbe) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	p.mu.Lock()
	p.calls = append(p.calls, len(imgs))
	gate, entered := p.gate, p.entered
	p.mu.Unlock()
	if gate != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		<-gate
	}
	faces := make([][]face.Face, len(imgs))
	for i, img := range imgs {
		faces[i] = []face.Face{{Age: float64(img.Rect.Dx()), Gender: face.Female, GenderProbability: 0.9, Detected: true}}
	}
	p.mu.Lock()
	p.ctxErrs = append(p.ctxErrs, ctx.Err())
	p.mu.Unlock()
	return faces, make([]error, len(imgs))
}

func (p *batchProbe) callSizes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.calls...)
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

// Requests that arrive while the only slot is busy share the next call,
// up to MaxBatch, and each gets its own image's answer.
func TestBatchGathersWhileBusy(t *testing.T) {
	probe := &batchProbe{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	hd := NewHandler(probe, Config{MaxConcurrent: 1, MaxBatch: 4}).(*handler)
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
	// Six wait: four fill a batch, two start the next.
	waitFor(t, "six images waiting", func() bool { return hd.batch.waiting.Load() == 6 })
	close(probe.gate)
	for range 7 {
		a := <-answers
		if a.code != http.StatusOK || a.age != float64(a.width) {
			t.Errorf("image of width %d: status %d, age %v (another request's answer?)", a.width, a.code, a.age)
		}
	}
	// How the six split between batches depends on scheduling ([1 4 2] on
	// an idle machine, [1 4 1 1] on a loaded one), so only what holds
	// either way is asserted: every image estimated once, no call over
	// MaxBatch, and the images that waited shared a call.
	got := probe.callSizes()
	total, most := 0, 0
	for _, n := range got {
		total += n
		most = max(most, n)
	}
	if total != 7 || most > 4 || most < 2 {
		t.Errorf("calls of %v images: want 7 in all, none over 4, one of 2 or more", got)
	}
}

// An idle server waits BatchWindow after a batch's first image for more.
func TestBatchWindowGathersAnIdleServer(t *testing.T) {
	probe := &batchProbe{}
	h := NewHandler(probe, Config{MaxConcurrent: 2, MaxBatch: 8, BatchWindow: 300 * time.Millisecond})
	var wg sync.WaitGroup
	for i, w := range []int{60, 61} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 30 * time.Millisecond)
			if code, age := postWidth(t, h, context.Background(), w); code != http.StatusOK || age != float64(w) {
				t.Errorf("width %d: status %d age %v", w, code, age)
			}
		}()
	}
	wg.Wait()
	if got := probe.callSizes(); len(got) != 1 || got[0] != 2 {
		t.Errorf("calls of %v images, want one of 2", got)
	}
}

// A request that leaves while its image waits is dropped from the batch; one
// that leaves while its batch runs does not stop the others' work.
func TestBatchClientGoneLeavesOthers(t *testing.T) {
	probe := &batchProbe{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
	hd := NewHandler(probe, Config{MaxConcurrent: 1, MaxBatch: 8}).(*handler)
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
	waitFor(t, "three images waiting", func() bool { return hd.batch.waiting.Load() == 3 })
	cancel71()
	got := map[int]int{}
	c := <-codes
	got[c[0]] = c[1]
	probe.gate <- struct{}{} // the first call ends
	<-probe.entered          // the batch of 72 and 73 runs
	cancel72()
	time.Sleep(20 * time.Millisecond)
	close(probe.gate)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first: %d", code)
	}
	for range 2 {
		c := <-codes
		got[c[0]] = c[1]
	}
	if got[71] != http.StatusServiceUnavailable || got[72] != http.StatusServiceUnavailable || got[73] != http.StatusOK {
		t.Errorf("statuses %v, want 71 and 72 503 (gone), 73 200", got)
	}
	sizes := probe.callSizes()
	if len(sizes) != 2 || sizes[1] != 2 {
		t.Errorf("calls of %v images, want [1 2]: 71 dropped before the run", sizes)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.ctxErrs) == 2 && probe.ctxErrs[1] != nil {
		t.Errorf("the batch's context ended (%v) while 73 still waited", probe.ctxErrs[1])
	}
}

// MaxBatch 1 turns batching off: every request has its own call and slot,
// as before batching.
func TestBatchOff(t *testing.T) {
	probe := &batchProbe{}
	hd := NewHandler(probe, Config{MaxBatch: 1}).(*handler)
	if hd.batch != nil {
		t.Fatal("MaxBatch 1 started a batcher")
	}
	if code, age := postWidth(t, hd, context.Background(), 80); code != http.StatusOK || age != 80 {
		t.Errorf("status %d age %v", code, age)
	}
}
