package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/testutil/hostile"
)

// flatPNG is a valid grey PNG of w x h that compresses a thousandfold.
func flatPNG(w, h uint32) []byte { return hostile.BlankGrayPNG(w, h) }

// allocated returns the bytes the Go heap handed out while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A header that declares more than the server will analyse is refused from
// the header alone, with a 4xx naming the limit: nothing is decoded and the
// estimator never runs.
func TestHeaderOverLimitsRefusedBeforeDecoding(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		data []byte
		code int
		want []string
	}{
		{"pixels", Config{}, hostile.PNGHeaderOnly(20000, 20000), 400, []string{"20000x20000", "100 megapixel limit"}},
		{"strip", Config{}, flatPNG(100000, 1), 400, []string{"100000x1", "20:1 limit"}},
		{"memory", Config{}, hostile.PNGHeaderOnly(10000, 10000), 413, []string{"image needs 774.2 MB", "over the memory budget of 240.0 MB"}},
		{"bomb", Config{MaxMemory: 64 << 20}, flatPNG(3000, 3000), 413, []string{"image needs 54.2 MB", "of 36.0 MB for one image"}},
		// The engine's detector passes at a large --det-size (its WorkingMemory) are charged too.
		{"detector", Config{}, flatPNG(3000, 3000), 413, []string{"image needs 6", "of 240.0 MB for one image"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{})}
			if c.name == "detector" {
				fake.work = func(w, h int) int64 { return 64 * int64(w) * int64(h) }
			}
			close(fake.block)
			h := newServer(t, fake, c.cfg)
			var rec *httptest.ResponseRecorder
			// The upload is a few KB; decoding the smallest of these would take 72 MB.
			if n := allocated(func() { rec = postPredict(t, h, c.data) }); n > 4<<20 {
				t.Errorf("refusing allocated %d bytes", n)
			}
			if rec.Code != c.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.code, rec.Body)
			}
			msg, _ := decodeBody(t, rec.Body.Bytes())["error"].(string)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			select {
			case <-fake.started:
				t.Error("the estimator ran")
			default:
			}
		})
	}
}

// startBlocked posts data to h in the background and returns once the
// estimator holds it, with the channel its answer will come on.
func startBlocked(t *testing.T, h http.Handler, fake *fakeEstimator, data []byte) <-chan *httptest.ResponseRecorder {
	t.Helper()
	out := make(chan *httptest.ResponseRecorder, 1)
	go func() { out <- postPredict(t, h, data) }()
	select {
	case <-fake.started:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the estimator")
	}
	return out
}

// Decoding waits for memory: while one image holds most of the budget, the
// next waits before a pixel of it is decoded, and gives up at its deadline.
func TestDecodingWaitsForMemory(t *testing.T) {
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{})}
	// 8 MB of 40 are for uploads (of at most 2 MB), so that images have 32 MB.
	h := newServer(t, fake, Config{MaxMemory: 40 << 20, MaxUploadMemory: 8 << 20, MaxUpload: 2 << 20, MaxConcurrent: 4, Timeout: 500 * time.Millisecond})
	first := startBlocked(t, h, fake, flatPNG(600, 600)) // 6.2 MB of the 24 MB large share
	defer func() { close(fake.block); <-first }()

	var rec *httptest.ResponseRecorder
	// Decoding 1200x1200 would allocate 7 MB.
	if n := allocated(func() { rec = postPredict(t, h, flatPNG(1200, 1200)) }); n > 2<<20 {
		t.Errorf("waiting allocated %d bytes", n)
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "server busy: waiting for 18.1 MB of memory") {
		t.Fatalf("status %d body %s, want 503 waiting for memory", rec.Code, rec.Body)
	}
}

// Photos larger than a crop may hold at most MaxConcurrent-1 slots, so that
// crops are answered while large images keep the others busy.
func TestLargeImagesLeaveASlotForCrops(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{}), blockWider: 100}
	h := newServer(t, fake, Config{MaxMemory: 64 << 20, MaxConcurrent: 2, Timeout: time.Second})
	large := flatPNG(600, 600)
	first := startBlocked(t, h, fake, large)
	defer func() { close(fake.block); <-first }()

	second := make(chan *httptest.ResponseRecorder, 1)
	go func() { second <- postPredict(t, h, large) }()
	if rec := postPredict(t, h, pngBytes(t, 64, 64)); rec.Code != http.StatusOK {
		t.Fatalf("crop: status %d, want 200: %s", rec.Code, rec.Body)
	}
	if rec := <-second; rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no free slot for large images") {
		t.Fatalf("second large image: status %d body %s, want 503 for want of a large slot", rec.Code, rec.Body)
	}
}

// A timed-out request stops the estimator where it can stop and frees its slot at
// once, instead of holding it until the work would have finished.
func TestTimeoutStopsInterruptibleWork(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{}), stopped: make(chan error, 1)}
	defer close(fake.block)
	hd := newServer(t, fake, Config{Timeout: 500 * time.Millisecond, MaxConcurrent: 1})
	if rec := postPredict(t, hd, pngBytes(t, 8, 8)); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", rec.Code, rec.Body)
	}
	select {
	case err := <-fake.stopped:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("estimator stopped with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the estimator was not stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hd.adm.waitIdle(ctx); err != nil {
		t.Fatalf("slot still held after the estimator stopped: %v", err)
	}
}

// A client that goes away stops waiting for a slot at once: it is answered
// that it was canceled, not, at the request's timeout, that it ran out of
// time.
func TestClientGoneStopsWaiting(t *testing.T) {
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{})}
	// WorkingMemory is asked for just before admission: the 9-pixel-wide
	// image is then past its upload and about to wait for the slot.
	admitting := make(chan struct{})
	fake.work = func(w, _ int) int64 {
		if w == 9 {
			close(admitting)
		}
		return 0
	}
	h := newServer(t, fake, Config{MaxConcurrent: 1}) // and a 30 s timeout
	first := startBlocked(t, h, fake, pngBytes(t, 8, 8))
	defer func() { close(fake.block); <-first }()

	body, ct := multipartBody(t, "file", pngBytes(t, 9, 8))
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/predict", body).WithContext(ctx)
	req.Header.Set("Content-Type", ct)
	go func() {
		<-admitting
		cancel()
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "canceled") {
		t.Fatalf("status %d body %s, want 503 canceled", rec.Code, rec.Body)
	}
}

// The large lane's queue is bounded: past largeQueuePerLane large images per
// large slot, another is refused at once with 429 naming the limit, instead
// of waiting to time out.
func TestLargeQueueFullRefusedAtOnce(t *testing.T) {
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{}), blockWider: 100}
	h := newServer(t, fake, Config{MaxMemory: 64 << 20, MaxConcurrent: 2, Timeout: 10 * time.Second})
	large := flatPNG(600, 600)
	queued := []<-chan *httptest.ResponseRecorder{startBlocked(t, h, fake, large)}
	for range largeQueuePerLane - 1 {
		c := make(chan *httptest.ResponseRecorder, 1)
		go func() { c <- postPredict(t, h, large) }()
		queued = append(queued, c)
	}
	// Wait until every one is counted in the queue.
	adm := h.adm
	for deadline := time.Now().Add(10 * time.Second); adm.largeQueued.Load() < largeQueuePerLane; {
		if time.Now().After(deadline) {
			t.Fatalf("%d large requests queued, want %d", adm.largeQueued.Load(), largeQueuePerLane)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Refused at once: had it queued, it would have been answered 503 at
	// its timeout instead.
	rec := postPredict(t, h, large)
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "too many large images in progress (limit 4)") ||
		rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d body %s, want 429 naming the limit with Retry-After", rec.Code, rec.Body)
	}
	close(fake.block)
	for _, c := range queued {
		if rec := <-c; rec.Code != http.StatusOK {
			t.Errorf("queued large image: status %d: %s", rec.Code, rec.Body)
		}
	}
	// The count is given back as the inference's goroutine ends, just
	// after its answer went out (analyse): on a loaded machine the last
	// answer was read before it, and the test failed.
	waitFor(t, "the large requests to be given back", func() bool { return adm.largeQueued.Load() == 0 })
}
