package server

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/agegender/agegender/internal/webui"
)

// requestIDHeader carries a request's id: taken from the request when it
// holds a sane one (a proxy or the client chose it, so their logs and ours
// join on it), generated otherwise, and always returned on the response.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLen fits a UUID, a W3C trace id (32 hex) and most proxies' ids.
const maxRequestIDLen = 64

// requestID returns the incoming id when it is sane, else a fresh one. An id
// is written into every log line, so only short ids of letters, digits and
// ".-_:" are taken: anything else could forge or break log lines.
func requestID(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); saneID(id) {
		return id
	}
	// 26 base32 characters, 130 random bits: unique without coordination.
	return rand.Text()
}

func saneID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// recorder wraps a request's ResponseWriter to keep what its log line (and
// metrics) report: the status, the bytes written, and what the handler notes
// about the work (faces found, time queued, the error answered).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// Set by the /predict handler.
	faces     int
	queueWait time.Duration
	queued    bool
	err       error
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection, which the upload
// needs for its read deadline.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// statusCode is the status answered: 200 when the handler wrote nothing,
// as net/http then answers.
func (rw *recorder) statusCode() int {
	if rw.status == 0 {
		return http.StatusOK
	}
	return rw.status
}

// recorderOf returns the recorder a middleware put around w, or a new one
// around w, so that middleware share one and handlers can note things
// without checking.
func recorderOf(w http.ResponseWriter) *recorder {
	if rw, ok := w.(*recorder); ok {
		return rw
	}
	return &recorder{ResponseWriter: w}
}

// probe routes are hit every few seconds by load balancers, orchestrators
// and scrapers; their successful answers are logged at debug level so that
// they do not drown the requests that matter.
func probe(path string) bool {
	return path == "/health" || path == "/ready" || path == "/metrics"
}

// pageAsset reports a path the page loads after GET /; the page's own line
// says a person opened it, so its assets are logged at debug level too.
func pageAsset(path string) bool {
	return path == webui.ScriptPath || path == webui.StylePath
}

// logRequests is the middleware that gives each request its id, answered
// in the X-Request-Id header, and logs it once answered.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w.Header().Set(requestIDHeader, id)
		rw := recorderOf(w)
		next.ServeHTTP(rw, r)
		logRequest(log, r, id, rw, time.Since(start))
	})
}

// logRequest writes one line per request. Failures carry their error
// message; 500 (our fault) is an error, other 5xx (overload, timeouts) a
// warning, everything else info.
func logRequest(log *slog.Logger, r *http.Request, id string, rw *recorder, took time.Duration) {
	status := rw.statusCode()
	level := slog.LevelInfo
	switch {
	case status == http.StatusInternalServerError:
		level = slog.LevelError
	case status >= 500:
		level = slog.LevelWarn
	case (probe(r.URL.Path) || pageAsset(r.URL.Path)) && status < 400:
		level = slog.LevelDebug
	}
	ctx := r.Context()
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", roundMS(took)),
		slog.Int64("bytes", rw.bytes),
		slog.String("remote", r.RemoteAddr),
	}
	if rw.queued {
		attrs = append(attrs, slog.Float64("queue_ms", roundMS(rw.queueWait)))
	}
	if status == http.StatusOK && r.URL.Path == "/predict" {
		attrs = append(attrs, slog.Int("faces", rw.faces))
	}
	if rw.err != nil {
		attrs = append(attrs, slog.String("error", rw.err.Error()))
	}
	log.LogAttrs(ctx, level, "request", attrs...)
}

// roundMS is d in milliseconds to 0.01 ms: finer is noise in a log.
func roundMS(d time.Duration) float64 {
	return float64(d.Round(10*time.Microsecond).Microseconds()) / 1000
}
