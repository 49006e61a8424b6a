package server

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// logLines parses the JSON lines a handler logged.
func logLines(t *testing.T, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestRequestID(t *testing.T) {
	h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{})
	get := func(id string) string {
		req := httptest.NewRequest(http.MethodGet, "/health", nil)
		if id != "" {
			req.Header.Set(requestIDHeader, id)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Header().Get(requestIDHeader)
	}
	if got := get("lb-7f3a.42:9_x"); got != "lb-7f3a.42:9_x" {
		t.Errorf("sane incoming id answered %q, want it echoed", got)
	}
	a, b := get(""), get("")
	if len(a) != 26 || a == b {
		t.Errorf("generated ids %q and %q: want 26 characters, distinct", a, b)
	}
	for _, bad := range []string{"has space", "new\nline", `quote"`, strings.Repeat("a", maxRequestIDLen+1)} {
		if got := get(bad); got == bad || len(got) != 26 {
			t.Errorf("incoming id %q answered %q, want a generated one", bad, got)
		}
	}
}

func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	ok := postPredict(t, h, pngBytes(t, 64, 48))
	bad := postPredict(t, h, []byte("not an image"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))

	lines := logLines(t, buf.String())
	// The /health probe is below the default info level.
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2 (predict ok, predict bad):\n%s", len(lines), buf.String())
	}
	first, second := lines[0], lines[1]
	if first["request_id"] != ok.Header().Get(requestIDHeader) || first["request_id"] == "" {
		t.Errorf("log id %v, header %q", first["request_id"], ok.Header().Get(requestIDHeader))
	}
	if first["msg"] != "request" || first["level"] != "INFO" || first["method"] != "POST" || first["path"] != "/predict" ||
		first["status"] != 200.0 || first["faces"] != 2.0 {
		t.Errorf("success line %v", first)
	}
	if _, ok := first["queue_ms"].(float64); !ok {
		t.Errorf("success line has no queue_ms: %v", first)
	}
	if d, _ := first["duration_ms"].(float64); d <= 0 {
		t.Errorf("duration_ms %v", first["duration_ms"])
	}
	if _, has := first["error"]; has {
		t.Errorf("success line has an error: %v", first)
	}
	if second["status"] != 400.0 || bad.Code != 400 || second["request_id"] != bad.Header().Get(requestIDHeader) ||
		second["request_id"] == first["request_id"] || second["error"] == nil || second["error"] == "" {
		t.Errorf("failure line %v", second)
	}

	// At debug level the probe is logged too.
	buf = syncBuffer{}
	h = newServer(t, &fakeEstimator{}, Config{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/health", nil))
	if lines := logLines(t, buf.String()); len(lines) != 1 || lines[0]["path"] != "/health" || lines[0]["level"] != "DEBUG" {
		t.Errorf("debug log of a probe: %v", lines)
	}
}

// TestReadyFailsWhileDraining stops Serve with a drain delay and expects
// /ready to answer 503 while /predict is still served, and Serve to return
// after the delay.
func TestReadyFailsWhileDraining(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// Long enough for the requests below to be served while draining, on
	// a loaded machine too: each takes milliseconds.
	const drain = time.Second
	h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{DrainDelay: drain})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- h.Serve(ctx, ln) }()

	status := func(method, path string) int {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := status(http.MethodGet, "/ready"); c != http.StatusOK {
		t.Fatalf("/ready before stopping: %d", c)
	}
	if c := status(http.MethodPost, "/ready"); c != http.StatusMethodNotAllowed {
		t.Errorf("POST /ready: %d, want 405", c)
	}
	stopped := time.Now()
	cancel()
	// Polled until it fails; were it never to, status would fail once the
	// listener closed after the drain delay.
	for status(http.MethodGet, "/ready") != http.StatusServiceUnavailable {
		time.Sleep(10 * time.Millisecond)
	}
	if c := status(http.MethodGet, "/health"); c != http.StatusOK {
		t.Errorf("/health while draining: %d, want 200 (alive)", c)
	}
	body, ct := multipartBody(t, "file", pngBytes(t, 16, 16))
	resp, err := http.Post(base+"/predict", ct, body)
	if err != nil {
		t.Fatalf("predict while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("predict while draining: %d, want 200", resp.StatusCode)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(stopped); d < drain {
			t.Errorf("Serve returned %s after the stop, before its %s drain delay", d, drain)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its drain delay")
	}
}
