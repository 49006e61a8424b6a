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
//	GET  /         a page to try it in a browser (internal/webui), with its
//	               /page.js and /page.css; off with Config.NoPage
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
//	     or its header declares a size over preprocess's limits (pixels,
//	     aspect ratio); the message names the limit
//	404  unknown path
//	405  wrong method (with an Allow header)
//	408  the upload was not received within Config.UploadTimeout, or it
//	     stalled: 64 KB of its body took longer than 5 s
//	413  upload over Config.MaxUpload (refused before reading the body when
//	     its Content-Length says so), or an image that needs more memory
//	     than one request may hold (see admission)
//	422  no face found; the body also carries "faces": [] so that clients
//	     iterating over faces need no special case. 422 rather than 200
//	     because the reference API had no way to say "nobody here" and a
//	     client reading "age" from a 200 must not get a made-up number;
//	     rather than 400 because the upload itself was fine.
//	429  a large image (more than 1/16 of MaxMemory) while the large lane's
//	     queue is full (see admission), an upload over 2 MB while 8
//	     others hold or wait for memory, or one that found no memory to be
//	     received into within 10 s (see uploadBudget); with Retry-After
//	500  the estimator failed
//	503  the answer was not ready within Config.Timeout (server busy or
//	     inference slow); or the server is stopping (with Retry-After);
//	     retrying later may succeed
//
// Limits, in the order a request meets them: the connection is one of
// MaxConnections (connlimit.go) and its headers at most 16 KB; the upload
// reserves from MaxUploadMemory all the memory its body can take, then is
// read whole, within MaxUpload bytes and UploadTimeout, before anything
// else is held, so that a slow client costs a connection and its
// bytes, nothing more; the header is checked (a JPEG's scans included)
// against preprocess's limits; the memory that decoding and detecting will take is
// reserved from the rest of MaxMemory; and a large image (over 1/16 of it) takes
// a CPU slot (MaxConcurrent) before its pixels are decoded, while a smaller
// one is decoded and estimated in a micro-batch that takes a slot when it
// runs (batch.go). Timeout runs from the end of the upload.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/webui"
)

// Server is the API: its routes, its limits and the work in progress. It
// serves as an http.Handler (ServeHTTP), or on a listener until told to
// stop (Serve).
type Server struct {
	est    face.Estimator
	cfg    Config
	health map[string]any
	adm    *admission
	// uploads bounds the bodies being received; uploading is them, cut
	// off when Serve stops.
	uploads   *uploadBudget
	uploading uploadSet
	log       *slog.Logger
	met       *metrics
	// batch is nil when batching is off.
	batch *batcher
	// draining is set by Serve when it starts to stop; /ready then fails.
	draining atomic.Bool
	// handler is the routes inside the logging and metrics middleware.
	handler http.Handler
}

// New returns the server of est under cfg, whose zero fields take their
// defaults; it fails when cfg is outside its bounds (Config.Validate). Its
// routes have a ServeMux of their own, so that nothing registered on
// http.DefaultServeMux (pprof, expvar) leaks into them.
func New(est face.Estimator, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.MaxUploadMemory = cfg.uploadMemory()
	// Copied so that a caller changing its map later cannot race with requests.
	health := make(map[string]any, len(cfg.Health)+1)
	for k, v := range cfg.Health {
		health[k] = v
	}
	health["status"] = "ok"
	s := &Server{
		est:     est,
		cfg:     cfg,
		health:  health,
		adm:     newAdmission(cfg.MaxMemory-cfg.MaxUploadMemory, cfg.MaxConcurrent),
		uploads: newUploadBudget(cfg.MaxUploadMemory, cfg.MaxUpload),
		log:     cfg.Logger,
		met:     newMetrics(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch > 1 {
		s.batch = newBatcher(est, s.adm.slots, cfg.MaxConcurrent, cfg.MaxBatch, cfg.BatchWindow,
			func(n int) { s.met.batchSize.Observe(float64(n)) })
		s.met.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "agegender_batch_waiting_images",
			Help: "Crop-sized images decoded and waiting for their micro-batch to start.",
		}, func() float64 { return float64(s.batch.waiting.Load()) }))
	}
	var page *webui.Page
	if !cfg.NoPage {
		var err error
		page, err = webui.New(webui.Options{MaxUpload: cfg.MaxUpload, MaxUploadText: bytesize.Limit(cfg.MaxUpload)})
		if err != nil {
			return nil, err
		}
	}
	s.handler = logRequests(s.log, countRequests(s.met, s.routes(page)))
	return s, nil
}

// ServeHTTP answers one request: it gets its id, is routed, and is counted
// and logged once answered.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// routes maps the API's paths, and the page's when page is not nil, to their
// handlers. Methods are checked by hand rather than with "POST /predict"
// patterns, because the mux's own 404 and 405 answers are plain text, not
// JSON.
func (s *Server) routes(page *webui.Page) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/predict", s.predict)
	mux.HandleFunc("/health", s.healthz)
	mux.HandleFunc("/ready", s.ready)
	promh := s.met.handler()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		promh.ServeHTTP(w, r)
	})
	if page != nil {
		for _, path := range page.Paths() {
			// "/{$}" is "/" alone; every other path still falls to the 404 below.
			pattern := path
			if path == webui.IndexPath {
				pattern = "/{$}"
			}
			mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					methodNotAllowed(w, r, "GET, HEAD")
					return
				}
				page.ServeHTTP(w, r)
			})
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s; try POST /predict or GET /health", r.URL.Path))
	})
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	writeJSON(w, http.StatusOK, s.health)
}

// ready answers whether to send this server traffic. It is ready as long as
// it serves: the engine is loaded before the listener opens, and it stops
// being ready only when it starts draining. Overload is deliberately not
// unreadiness: when every replica is saturated they would all leave the
// load balancer at once and turn a slowdown into an outage; overload is
// answered per request instead (429, 503).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
