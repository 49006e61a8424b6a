// Package server is the HTTP face of agegender and a drop-in replacement for
// the reference Flask API: clients that POST a photo to /predict and read
// "age", "gender" and "gender_probability" keep working, and get every face
// besides.
//
// Routes:
//
//	POST /predict  multipart/form-data, the image in field "file"
//	GET  /health   {"status":"ok", ...fields the caller supplies}
//
// A successful /predict answers 200 with the reference fields describing the
// largest face (by box area), because a photo of one person with bystanders
// should report that person, and the reference API only ever had one answer:
//
//	{"age": 26, "gender": "Male", "gender_probability": 0.93,
//	 "faces": [{"index": 0, "box": {...}, "age": 26.4, ...}],
//	 "width": 640, "height": 480}
//
// Every failure answers {"error": "..."} as application/json:
//
//	400  not multipart, no field "file", or the file is not a decodable image
//	404  unknown path
//	405  wrong method (with an Allow header)
//	413  upload over Config.MaxUpload
//	422  no face found; the body also carries "faces": [] so that clients
//	     iterating over faces need no special case. 422 rather than 200
//	     because the reference API had no way to say "nobody here" and a
//	     client reading "age" from a 200 must not get a made-up number;
//	     rather than 400 because the upload itself was fine.
//	500  the estimator failed
//	503  the answer was not ready within Config.Timeout (server busy or
//	     inference slow); retrying later may succeed
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/result"
)

// Estimator is what the handler needs from the engine, so that tests can
// stand in for ONNX Runtime. predict.Engine satisfies it.
type Estimator interface {
	Faces(imgs []*image.NRGBA) ([][]result.Face, []error)
}

// Config tunes the handler. Zero values pick the defaults below.
type Config struct {
	// MaxUpload bounds the whole request body in bytes; 0 means DefaultMaxUpload.
	MaxUpload int64
	// Timeout bounds each request, including the wait for an inference slot;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// Limits bound the decoded image.
	Limits preprocess.Limits
	// Health holds extra fields for /health (model, versions, detection
	// mode...); "status" is always "ok" and cannot be overridden.
	Health map[string]any
	// MaxConcurrent bounds inferences running at once, so that a burst of
	// requests queues instead of thrashing the CPU; 0 means runtime.NumCPU().
	MaxConcurrent int
}

// Defaults for the zero Config.
const (
	DefaultMaxUpload = 20 << 20
	DefaultTimeout   = 30 * time.Second
)

// Serve's own bounds. The header timeout stops slow-loris clients; the read
// timeout leaves room for a 20 MB upload over a slow link.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownGrace     = 30 * time.Second
)

// handler is unexported so that its state (the semaphore) stays private; it
// is returned as an http.Handler and recognised by Serve for draining.
type handler struct {
	est    Estimator
	cfg    Config
	health map[string]any
	// slots is a counting semaphore: a send takes a slot, a receive frees it.
	slots chan struct{}
	mux   *http.ServeMux
}

// NewHandler returns the API's handler. It has its own ServeMux, so that
// nothing registered on http.DefaultServeMux (pprof, expvar) leaks into it.
func NewHandler(est Estimator, cfg Config) http.Handler {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = runtime.NumCPU()
	}
	// Copied so that a caller changing its map later cannot race with requests.
	health := make(map[string]any, len(cfg.Health)+1)
	for k, v := range cfg.Health {
		health[k] = v
	}
	health["status"] = "ok"
	h := &handler{
		est:    est,
		cfg:    cfg,
		health: health,
		slots:  make(chan struct{}, cfg.MaxConcurrent),
		mux:    http.NewServeMux(),
	}
	// Methods are checked by hand rather than with "POST /predict" patterns,
	// because the mux's own 404 and 405 answers are plain text, not JSON.
	h.mux.HandleFunc("/predict", h.predict)
	h.mux.HandleFunc("/health", h.healthz)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s; try POST /predict or GET /health", r.URL.Path))
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// waitIdle returns once no inference is running, holding every slot for an
// instant. Inferences can outlive their requests (a timed-out request answers
// 503 while ONNX Runtime cannot be interrupted), so Serve calls this before
// returning and the caller may then close the engine safely.
func (h *handler) waitIdle(ctx context.Context) error {
	taken := 0
	defer func() {
		for range taken {
			<-h.slots
		}
	}()
	for taken < cap(h.slots) {
		select {
		case h.slots <- struct{}{}:
			taken++
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d running inferences: %w", cap(h.slots)-taken, ctx.Err())
		}
	}
	return nil
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	writeJSON(w, http.StatusOK, h.health)
}

// predictResponse keeps the reference API's three fields first and adds what
// it could not say: every face and the image size the boxes refer to.
type predictResponse struct {
	Age               int           `json:"age"`
	Gender            string        `json:"gender"`
	GenderProbability float64       `json:"gender_probability"`
	Faces             []result.Face `json:"faces"`
	Width             int           `json:"width"`
	Height            int           `json:"height"`
}

// noFaceResponse is the 422 body; Faces is always an empty array, never null.
type noFaceResponse struct {
	Error string        `json:"error"`
	Faces []result.Face `json:"faces"`
}

// errorResponse is every other failure's body.
type errorResponse struct {
	Error string `json:"error"`
}

const formField = "file"

func (h *handler) predict(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	// The deadline starts now, so that a request queued behind others cannot
	// wait forever for a slot.
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()

	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUpload)
	dec, status, err := h.readImage(r)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}

	faces, err := h.estimate(ctx, preprocess.NRGBA(dec.Image))
	switch {
	case errors.Is(err, predict.ErrNoFace) || (err == nil && len(faces) == 0):
		writeJSON(w, http.StatusUnprocessableEntity, noFaceResponse{Error: predict.ErrNoFace.Error(), Faces: []result.Face{}})
		return
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this, but the log of a proxy might.
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}

	top := faces[largest(faces)]
	b := dec.Image.Bounds()
	writeJSON(w, http.StatusOK, predictResponse{
		Age:               int(math.Round(top.Age)),
		Gender:            top.Gender,
		GenderProbability: top.GenderProbability,
		Faces:             faces,
		Width:             b.Dx(),
		Height:            b.Dy(),
	})
}

// readImage streams the multipart body to the decoder instead of parsing the
// whole form, so that an upload is never spooled to a temporary file. It
// returns the HTTP status that fits its error.
func (h *handler) readImage(r *http.Request) (preprocess.Decoded, int, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return preprocess.Decoded{}, http.StatusBadRequest,
			fmt.Errorf("expected a multipart/form-data upload with the image in field %q: %w", formField, err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return preprocess.Decoded{}, http.StatusBadRequest, fmt.Errorf("missing form field %q with the image", formField)
		}
		if err != nil {
			if status, msg, ok := h.tooLarge(err); ok {
				return preprocess.Decoded{}, status, errors.New(msg)
			}
			return preprocess.Decoded{}, http.StatusBadRequest, fmt.Errorf("malformed multipart upload: %w", err)
		}
		if part.FormName() != formField {
			part.Close()
			continue
		}
		dec, err := decodePart(part, h.cfg.Limits)
		if err != nil {
			if status, msg, ok := h.tooLarge(err); ok {
				return preprocess.Decoded{}, status, errors.New(msg)
			}
			return preprocess.Decoded{}, http.StatusBadRequest, err
		}
		return dec, http.StatusOK, nil
	}
}

func decodePart(part *multipart.Part, lim preprocess.Limits) (preprocess.Decoded, error) {
	defer part.Close()
	name := part.FileName()
	if name == "" {
		name = "upload"
	}
	return preprocess.Decode(part, name, lim)
}

// tooLarge recognises the body limit being hit anywhere under err.
func (h *handler) tooLarge(err error) (int, string, bool) {
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		return 0, "", false
	}
	return http.StatusRequestEntityTooLarge, fmt.Sprintf("upload is over the %s limit", sizeText(mbe.Limit)), true
}

// estimate runs the estimator in its own goroutine, because ONNX Runtime
// cannot be interrupted: the request answers at its deadline while the
// inference finishes in the background and only then frees its slot, so
// timed-out work still counts against MaxConcurrent.
func (h *handler) estimate(ctx context.Context, img *image.NRGBA) ([]result.Face, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("timed out after %s waiting for a free inference slot (server busy): %w", h.cfg.Timeout, ctx.Err())
	}
	type outcome struct {
		faces []result.Face
		err   error
	}
	done := make(chan outcome, 1) // buffered: the goroutine never blocks on an abandoned request
	go func() {
		defer func() { <-h.slots }()
		defer func() {
			// A panic here would kill the whole server, since net/http only
			// recovers panics on the handler's own goroutine.
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("estimator panicked: %v", p)}
			}
		}()
		faces, errs := h.est.Faces([]*image.NRGBA{img})
		switch {
		case len(faces) != 1 || len(errs) != 1:
			done <- outcome{err: fmt.Errorf("estimator returned %d results and %d errors for one image", len(faces), len(errs))}
		case errs[0] != nil:
			done <- outcome{err: fmt.Errorf("estimate age and gender: %w", errs[0])}
		default:
			done <- outcome{faces: faces[0]}
		}
	}()
	select {
	case o := <-done:
		return o.faces, o.err
	case <-ctx.Done():
		return nil, fmt.Errorf("timed out after %s running inference: %w", h.cfg.Timeout, ctx.Err())
	}
}

// largest picks the face with the biggest box; on a tie, the first.
func largest(faces []result.Face) int {
	best, bestArea := 0, -1.0
	for i, f := range faces {
		if a := f.Box.W * f.Box.H; a > bestArea {
			best, bestArea = i, a
		}
	}
	return best
}

// sizeText states a byte limit the way a person would write it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorResponse{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a NaN or an unmarshalable Health value can get here.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorResponse{Error: fmt.Sprintf("encode response: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully:
// in-flight requests get up to 30 s to finish, and when h came from
// NewHandler, so do inferences that outlived their timed-out requests, so
// that the caller may close the engine as soon as Serve returns. Request
// contexts are not derived from ctx, so cancelling it does not abort them.
// It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logw io.Writer) error {
	if logw == nil {
		logw = io.Discard
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          log.New(logw, "http: ", log.LstdFlags),
	}
	addr := ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(logw, "serving on http://%s\n", addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	if hd, ok := h.(*handler); ok {
		if err := hd.waitIdle(sctx); err != nil {
			return fmt.Errorf("shut down %s: %w", addr, err)
		}
	}
	return nil
}
