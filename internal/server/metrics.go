package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agegender/agegender/internal/webui"
)

// metrics are what GET /metrics exposes, in a registry of the server's own:
// the process-wide default registry would be shared state, and two servers
// in one process (tests do this) would collide on it.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	faces     prometheus.Counter
	queueWait prometheus.Histogram
	batchSize prometheus.Histogram
}

// latencyBuckets span a face crop answered at once (5 ms) to a request
// ending at the default 30 s timeout.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agegender_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agegender_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, upload included, by route.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agegender_http_requests_in_flight",
			Help: "Requests being handled now, this scrape included.",
		}),
		faces: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agegender_faces_total",
			Help: "Faces answered by successful POST /predict requests.",
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agegender_queue_wait_seconds",
			Help:    "Time a POST /predict waited, once its upload was in, for memory and a CPU slot, or for memory and its micro-batch to start (admitted or not).",
			Buckets: latencyBuckets,
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agegender_batch_images",
			Help:    "Images estimated together in one micro-batch.",
			Buckets: []float64{1, 2, 4, 8, 16, 32},
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.faces, m.queueWait, m.batchSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// routes are the label values of "route"; any other path is "other", so
// that a scanner probing random paths cannot grow the series without bound.
var routes = map[string]bool{"/predict": true, "/health": true, "/ready": true, "/metrics": true}

func routeLabel(path string) string {
	switch {
	case routes[path]:
		return path
	case path == webui.IndexPath || pageAsset(path):
		// The page and its assets are one route: a view is one series, not three.
		return "/"
	}
	return "other"
}

// countRequests is the middleware that counts each request while it is in
// flight and, once answered, by route and status.
func countRequests(m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		rw := recorderOf(w)
		next.ServeHTTP(rw, r)
		m.observe(r.URL.Path, rw, time.Since(start))
	})
}

// observe records one answered request.
func (m *metrics) observe(path string, rw *recorder, took time.Duration) {
	route := routeLabel(path)
	status := rw.statusCode()
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
	if rw.queued {
		m.queueWait.Observe(rw.queueWait.Seconds())
	}
	if status == http.StatusOK && route == "/predict" {
		m.faces.Add(float64(rw.faces))
	}
}

// handler serves the registry in Prometheus' text format (or OpenMetrics
// when the scraper asks for it).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
