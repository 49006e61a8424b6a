package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/testutil"
)

// fakeEstimator stands in for ONNX Runtime. When block is set, a call waits
// for it to close (after signalling started), which drives the timeout and
// shutdown tests without real sleeps; with blockWider set, only images wider
// than that wait. It ignores its context, as one ONNX Runtime run does,
// unless stopped is set: then it stops when the context ends, as the engine
// does between detector regions, and sends the context's error there.
type fakeEstimator struct {
	faces      []face.Face
	err        error
	started    chan struct{}
	block      chan struct{}
	blockWider int
	stopped    chan error
	once       sync.Once
	// work, when set, is charged for each image on top of engineWork, as
	// the engine's passes at a large --det-size are.
	work func(width, height int) int64
}

func (f *fakeEstimator) Mode() face.Mode { return face.DetectAuto }

func (f *fakeEstimator) WorkingMemory(width, height int) int64 {
	n := engineWork(width, height)
	if f.work != nil {
		n += f.work(width, height)
	}
	return n
}

// engineWork is what predict's engine in mode auto charges for an image
// beyond its pixels at the default --det-size: the copy of its padded
// retry (1.6 times its long side, at most 1024, squared, 4 bytes a pixel)
// and 1 MB of detector resizes. The fakes charge it too, so that the
// budget figures these tests assert are those a real server gives.
func engineWork(width, height int) int64 {
	side := 1.6 * float64(min(max(width, height), 1024))
	return int64(4*side*side) + 1<<20
}

func (f *fakeEstimator) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	if f.block == nil || len(imgs) == 0 || imgs[0].Rect.Dx() <= f.blockWider {
		return f.answer(imgs)
	}
	if f.started != nil {
		f.once.Do(func() { close(f.started) })
	}
	if f.stopped == nil {
		<-f.block
		return f.answer(imgs)
	}
	select {
	case <-f.block:
		return f.answer(imgs)
	case <-ctx.Done():
		f.stopped <- ctx.Err()
		return [][]face.Face{nil}, []error{ctx.Err()}
	}
}

func (f *fakeEstimator) answer(imgs []*image.NRGBA) ([][]face.Face, []error) {
	out := make([][]face.Face, len(imgs))
	errs := make([]error, len(imgs))
	for i := range imgs {
		if f.err != nil {
			errs[i] = f.err
			continue
		}
		out[i] = append([]face.Face{}, f.faces...)
	}
	return out, errs
}

func twoFaces() []face.Face {
	return []face.Face{
		{Index: 0, Box: face.Box{X: 1, Y: 1, W: 10, H: 10}, Score: 0.9, Age: 61.2, Gender: face.Female, GenderProbability: 0.8, Detected: true},
		{Index: 1, Box: face.Box{X: 20, Y: 5, W: 20, H: 25}, Score: 0.95, Age: 25.6, Gender: face.Male, GenderProbability: 0.93, Detected: true},
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode test png: %v", err)
	}
	return buf.Bytes()
}

// multipartBody builds a form with data in field (with a filename).
func multipartBody(t *testing.T, field string, data []byte) (io.Reader, string) {
	t.Helper()
	return testutil.MultipartFile(t, field, "photo.png", data)
}

// newServer is New for a test, whose cfg must be valid.
func newServer(t *testing.T, est face.Estimator, cfg Config) *Server {
	t.Helper()
	s, err := New(est, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// postPredict sends data as the form field "file" of a POST /predict to h.
func postPredict(t *testing.T, h http.Handler, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartBody(t, "file", data)
	req := httptest.NewRequest(http.MethodPost, "/predict", body)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return m
}

func TestPredictSuccess(t *testing.T) {
	h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{})
	rec := postPredict(t, h, pngBytes(t, 64, 48))

	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	var resp struct {
		Age               *int        `json:"age"`
		Gender            string      `json:"gender"`
		GenderProbability float64     `json:"gender_probability"`
		Faces             []face.Face `json:"faces"`
		Width             int         `json:"width"`
		Height            int         `json:"height"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode: %v", err)
	}
	// The second face is the larger one; 25.6 rounds to 26 and is an integer in JSON.
	if resp.Age == nil || *resp.Age != 26 || resp.Gender != "Male" || resp.GenderProbability != 0.93 {
		t.Errorf("top-level fields = %v %q %v, want 26 Male 0.93", resp.Age, resp.Gender, resp.GenderProbability)
	}
	if !strings.Contains(rec.Body.String(), `"age":26,`) {
		t.Errorf("age is not written as an integer: %s", rec.Body)
	}
	if len(resp.Faces) != 2 || resp.Faces[0].Age != 61.2 || resp.Faces[1].Box.W != 20 {
		t.Errorf("faces = %+v", resp.Faces)
	}
	if resp.Width != 64 || resp.Height != 48 {
		t.Errorf("size %dx%d, want 64x48", resp.Width, resp.Height)
	}
}

func TestPredictTimeout(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{})}
	t.Cleanup(func() { close(fake.block) })
	h := newServer(t, fake, Config{Timeout: 500 * time.Millisecond})
	rec := postPredict(t, h, pngBytes(t, 8, 8))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", rec.Code, rec.Body)
	}
	if msg, _ := decodeBody(t, rec.Body.Bytes())["error"].(string); !strings.HasPrefix(msg, "timed out") {
		t.Errorf("error %q, want it to start with \"timed out\"", msg)
	}
}

// TestPredictTimeoutWaitingForSlot checks that a request queued behind a
// stuck inference gives up at its deadline rather than waiting forever.
func TestPredictTimeoutWaitingForSlot(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	fake := &fakeEstimator{faces: twoFaces(), block: make(chan struct{}), started: make(chan struct{})}
	t.Cleanup(func() { close(fake.block) })
	h := newServer(t, fake, Config{Timeout: 500 * time.Millisecond, MaxConcurrent: 1})
	postPredict(t, h, pngBytes(t, 8, 8)) // times out but keeps its slot while the inference runs on
	<-fake.started
	rec := postPredict(t, h, pngBytes(t, 8, 8))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "busy") {
		t.Fatalf("status %d body %s, want 503 mentioning busy", rec.Code, rec.Body)
	}
}

func TestRoutes(t *testing.T) {
	goodPNG := pngBytes(t, 32, 32)
	tests := []struct {
		name      string
		est       *fakeEstimator
		cfg       Config
		method    string
		path      string
		field     string // multipart field; "" sends raw
		data      []byte
		rawType   string // Content-Type when raw
		wantCode  int
		wantError string // substring of "error"
		wantAllow string
	}{
		{name: "missing field", field: "image", data: goodPNG, wantCode: 400, wantError: `"file"`},
		{name: "not multipart", data: goodPNG, rawType: "image/png", wantCode: 400, wantError: `"file"`},
		{name: "not an image", field: "file", data: []byte("hello, this is text\n"), wantCode: 400, wantError: "not a supported image"},
		{name: "truncated png", field: "file", data: goodPNG[:len(goodPNG)/2], wantCode: 400, wantError: "truncated or corrupt png"},
		{name: "empty file", field: "file", data: nil, wantCode: 400, wantError: "empty file"},
		{name: "too large", cfg: Config{MaxUpload: 1 << 10}, field: "file", data: bytes.Repeat([]byte("x"), 4<<10), wantCode: 413, wantError: "over the 1 KB limit"},
		{name: "no face", est: &fakeEstimator{err: face.ErrNoFace}, field: "file", data: goodPNG, wantCode: 422, wantError: "no face found"},
		{name: "no face empty slice", est: &fakeEstimator{faces: nil}, field: "file", data: goodPNG, wantCode: 422, wantError: "no face found"},
		{name: "estimator error", est: &fakeEstimator{err: errors.New("onnx exploded")}, field: "file", data: goodPNG, wantCode: 500, wantError: "onnx exploded"},
		{name: "GET predict", method: "GET", path: "/predict", wantCode: 405, wantAllow: "POST", wantError: "GET"},
		{name: "POST health", method: "POST", path: "/health", wantCode: 405, wantAllow: "GET", wantError: "POST"},
		{name: "unknown path", method: "GET", path: "/nope", wantCode: 404, wantError: "/nope"},
		{name: "predict subpath", method: "POST", path: "/predict/x", wantCode: 404, wantError: "/predict/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			est := tc.est
			if est == nil {
				est = &fakeEstimator{faces: twoFaces()}
			}
			srv := httptest.NewServer(newServer(t, est, tc.cfg))
			defer srv.Close()

			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/predict"
			}
			var body io.Reader
			ctype := tc.rawType
			if tc.field != "" {
				body, ctype = multipartBody(t, tc.field, tc.data)
			} else if tc.data != nil {
				body = bytes.NewReader(tc.data)
			}
			req, err := http.NewRequest(method, srv.URL+path, body)
			if err != nil {
				t.Fatal(err)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantCode, raw)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if got := resp.Header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow %q, want %q", got, tc.wantAllow)
			}
			m := decodeBody(t, raw)
			msg, _ := m["error"].(string)
			if !strings.Contains(msg, tc.wantError) {
				t.Errorf("error %q does not contain %q", msg, tc.wantError)
			}
			if tc.wantCode == 422 {
				if faces, ok := m["faces"].([]any); !ok || len(faces) != 0 {
					t.Errorf("422 faces = %#v, want []", m["faces"])
				}
			}
		})
	}
}

func TestHealth(t *testing.T) {
	fields := map[string]any{"model": "agegender-v3", "version": "1.2.0", "detect": "auto", "status": "overridden?"}
	h := newServer(t, &fakeEstimator{}, Config{Health: fields})
	fields["model"] = "changed after New"

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	m := decodeBody(t, rec.Body.Bytes())
	want := map[string]any{"status": "ok", "model": "agegender-v3", "version": "1.2.0", "detect": "auto"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}
