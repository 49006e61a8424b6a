// Package server is the HTTP face of agegender and a drop-in replacement for
// the reference Flask API: clients that POST a photo to /predict and read
// "age", "gender" and "gender_probability" keep working, and get every face
// besides.
//
// Routes:
//
//	POST /predict  multipart/form-data, the image in field "file"
//	GET  /health   {"status":"ok", ...fields the caller supplies}: alive
//	GET  /ready    200 {"status":"ready"}, or 503 {"status":"draining"} once
//	               Serve is stopping: send traffic here or not
//	GET  /metrics  Prometheus metrics: requests by route and code, latency,
//	               requests in flight, faces, queue wait; Go and process
//
// Every answer carries an X-Request-Id header (the request's own when it
// sent a sane one), and every request is logged once through Config.Logger
// with that id.
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
//	400  not multipart, no field "file", the file is not a decodable image,
//	     or its header declares a size over Config.Limits (pixels, aspect
//	     ratio); the message names the limit
//	404  unknown path
//	405  wrong method (with an Allow header)
//	408  the upload was not received within Config.UploadTimeout
//	413  upload over Config.MaxUpload (refused before reading the body when
//	     its Content-Length says so), or an image that needs more memory
//	     than one request may hold (see admission)
//	422  no face found; the body also carries "faces": [] so that clients
//	     iterating over faces need no special case. 422 rather than 200
//	     because the reference API had no way to say "nobody here" and a
//	     client reading "age" from a 200 must not get a made-up number;
//	     rather than 400 because the upload itself was fine.
//	429  a large image (more than 1/16 of MaxMemory) while the large lane's
//	     queue is full (see admission), or an upload past 1 MB while 8
//	     others are (see uploadBudget); retrying later may succeed
//	500  the estimator failed
//	503  the answer was not ready within Config.Timeout (server busy or
//	     inference slow); retrying later may succeed
//
// Limits, in the order a request meets them: the upload is read whole, within
// MaxUpload bytes and UploadTimeout and charged to MaxUploadMemory, before
// anything else is held, so that a slow client costs a connection and its
// bytes, nothing more; the header is checked (a JPEG's scans included)
// against Limits; the memory that decoding and detecting will take is
// reserved from the rest of MaxMemory; and a large image (over 1/16 of it) takes
// a CPU slot (MaxConcurrent) before its pixels are decoded, while a smaller
// one is decoded and estimated in a micro-batch that takes a slot when it
// runs (batch.go). Timeout runs from the end of the upload.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
)

// handler is unexported so that its state (the limits) stays private; it
// is returned as an http.Handler and recognised by Serve for draining.
type handler struct {
	est    Estimator
	cfg    Config
	health map[string]any
	adm    *admission
	// uploads bounds the bodies being received.
	uploads *uploadBudget
	mux     *http.ServeMux
	log     *slog.Logger
	met     *metrics
	// batch is nil when batching is off.
	batch *batcher
	// draining is set by Serve when it starts to stop; /ready then fails.
	draining atomic.Bool
}

// NewHandler returns the API's handler. It has its own ServeMux, so that
// nothing registered on http.DefaultServeMux (pprof, expvar) leaks into it.
func NewHandler(est Estimator, cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	// Copied so that a caller changing its map later cannot race with requests.
	health := make(map[string]any, len(cfg.Health)+1)
	for k, v := range cfg.Health {
		health[k] = v
	}
	health["status"] = "ok"
	h := &handler{
		est:     est,
		cfg:     cfg,
		health:  health,
		adm:     newAdmission(cfg.MaxMemory-cfg.MaxUploadMemory, cfg.MaxConcurrent),
		uploads: newUploadBudget(cfg.MaxUploadMemory, cfg.MaxUpload),
		mux:     http.NewServeMux(),
		log:     cfg.Logger,
		met:     newMetrics(),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxBatch > 1 {
		h.batch = newBatcher(est, h.adm.slots, cfg.MaxConcurrent, cfg.MaxBatch, max(0, cfg.BatchWindow),
			func(n int) { h.met.batchSize.Observe(float64(n)) })
		h.met.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "agegender_batch_waiting_images",
			Help: "Crop-sized images decoded and waiting for their micro-batch to start.",
		}, func() float64 { return float64(h.batch.waiting.Load()) }))
	}
	// Methods are checked by hand rather than with "POST /predict" patterns,
	// because the mux's own 404 and 405 answers are plain text, not JSON.
	h.mux.HandleFunc("/predict", h.predict)
	h.mux.HandleFunc("/health", h.healthz)
	h.mux.HandleFunc("/ready", h.ready)
	promh := h.met.handler()
	h.mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		promh.ServeHTTP(w, r)
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s; try POST /predict or GET /health", r.URL.Path))
	})
	return h
}

// ServeHTTP gives the request its id, routes it, and logs and counts it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h.met.inFlight.Inc()
	defer h.met.inFlight.Dec()
	id := requestID(r)
	w.Header().Set(RequestIDHeader, id)
	rw := &recorder{ResponseWriter: w}
	h.mux.ServeHTTP(rw, r)
	if rw.status == 0 {
		// Nothing written: net/http answers 200 with an empty body.
		rw.status = http.StatusOK
	}
	took := time.Since(start)
	h.met.observe(r.URL.Path, rw, took)
	h.logRequest(r, id, rw, took)
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	writeJSON(w, http.StatusOK, h.health)
}

// ready answers whether to send this server traffic. It is ready as long as
// it serves: the engine is loaded before the listener opens, and it stops
// being ready only when it starts draining. Overload is deliberately not
// unreadiness: when every replica is saturated they would all leave the
// load balancer at once and turn a slowdown into an outage; overload is
// answered per request instead (429, 503).
func (h *handler) ready(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	if h.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// predictResponse keeps the reference API's three fields first and adds what
// it could not say: every face and the image size the boxes refer to.
type predictResponse struct {
	Age               int         `json:"age"`
	Gender            string      `json:"gender"`
	GenderProbability float64     `json:"gender_probability"`
	Faces             []face.Face `json:"faces"`
	Width             int         `json:"width"`
	Height            int         `json:"height"`
}

// noFaceResponse is the 422 body; Faces is always an empty array, never null.
type noFaceResponse struct {
	Error string      `json:"error"`
	Faces []face.Face `json:"faces"`
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
	up, err := h.readUpload(w, r, h.uploads)
	if err != nil {
		writeFailure(w, err)
		return
	}
	// Until analyse takes them over, the upload's bytes are the handler's.
	handedOff := false
	defer func() {
		if !handedOff {
			up.release()
		}
	}()
	// The clock starts once the upload is in: it bounds the wait for memory
	// and a slot, and the analysis, not the client's link.
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()

	hdr, err := preprocess.ReadHeader(up.data, up.name, h.cfg.Limits)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cost := imageCost(hdr)
	if h.cfg.WorkCost != nil {
		cost += h.cfg.WorkCost(hdr.Width, hdr.Height)
	}
	rec := recorderOf(w)
	queued := time.Now()
	var a analysis
	if h.batch != nil && !h.adm.large(cost) {
		release, err := h.adm.admitMemory(ctx, cost)
		rec.queueWait, rec.queued = time.Since(queued), true
		if err != nil {
			writeFailure(w, err)
			return
		}
		up.release() // the memory budget holds its bytes from here on
		handedOff = true
		var waited time.Duration
		a, waited = h.analyseInBatch(ctx, hdr, up, release)
		rec.queueWait += waited
	} else {
		release, err := h.adm.admit(ctx, cost)
		rec.queueWait, rec.queued = time.Since(queued), true
		if err != nil {
			writeFailure(w, err)
			return
		}
		up.release() // the memory budget holds its bytes from here on
		handedOff = true
		a = h.analyse(ctx, hdr, up, h.adm.large(cost), release)
	}
	if a.err == nil && len(a.faces) == 0 {
		a.err = face.ErrNoFace
	}
	if a.err != nil {
		writeFailure(w, a.err)
		return
	}
	rec.faces = len(a.faces)
	top := a.faces[face.Largest(a.faces)]
	writeJSON(w, http.StatusOK, predictResponse{
		Age:               int(math.Round(top.Age)),
		Gender:            top.Gender,
		GenderProbability: top.GenderProbability,
		Faces:             a.faces,
		Width:             a.bounds.Dx(),
		Height:            a.bounds.Dy(),
	})
}

// writeFailure answers err with the status that fits it.
func writeFailure(w http.ResponseWriter, err error) {
	recorderOf(w).err = err
	var ue *uploadError
	switch {
	case errors.As(err, &ue):
		// The body may be partly unread; the client must not send another
		// request on this connection.
		w.Header().Set("Connection", "close")
		if ue.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "2")
		}
		writeError(w, ue.status, err.Error())
	case errors.Is(err, face.ErrNoFace):
		writeJSON(w, http.StatusUnprocessableEntity, noFaceResponse{Error: face.ErrNoFace.Error(), Faces: []face.Face{}})
	case errors.Is(err, budget.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, errQueueFull):
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, errBusy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Canceled: the client went away; nobody reads this, but the log of a
		// proxy might.
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	if rw := recorderOf(w); rw.err == nil {
		rw.err = errors.New(msg)
	}
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
