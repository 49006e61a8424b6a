package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeGracefulShutdown cancels Serve's context while a request is inside
// the estimator and expects that request to complete normally.
func TestServeGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeEstimator{faces: twoFaces(), started: make(chan struct{}), block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logw syncBuffer
	s := newServer(t, fake, Config{Logger: slog.New(slog.NewJSONHandler(&logw, nil))})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	type reply struct {
		code int
		body string
		err  error
	}
	replies := make(chan reply, 1)
	body, ct := multipartBody(t, "file", pngBytes(t, 16, 16))
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/predict", ct, body)
		if err != nil {
			replies <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		replies <- reply{code: resp.StatusCode, body: string(raw), err: err}
	}()

	select {
	case <-fake.started:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the estimator")
	}
	cancel()
	// Serve must not return while the request is still in flight.
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(fake.block)

	r := <-replies
	if r.err != nil || r.code != http.StatusOK {
		t.Fatalf("in-flight request: code %d err %v body %s", r.code, r.err, r.body)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if want := `"msg":"serving","url":"http://` + ln.Addr().String() + `"`; !strings.Contains(logw.String(), want) {
		t.Errorf("log %q lacks %q", logw.String(), want)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts connections after Serve returned")
	}
}

// syncBuffer lets Serve's goroutine write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeWaitsForOrphanedInference checks that Serve does not return while
// an inference whose request already timed out is still running, since the
// caller closes the engine right after.
func TestServeWaitsForOrphanedInference(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeEstimator{faces: twoFaces(), started: make(chan struct{}), block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newServer(t, fake, Config{Timeout: 500 * time.Millisecond})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	body, ct := multipartBody(t, "file", pngBytes(t, 8, 8))
	resp, err := http.Post("http://"+ln.Addr().String()+"/predict", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while an inference was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(fake.block)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the inference finished")
	}
}
