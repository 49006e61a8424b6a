package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics from h and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the metric of family name whose labels are exactly labels
// ("k=v" pairs), or nil.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		var got []string
		for _, l := range m.GetLabel() {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(got, ",") == strings.Join(labels, ",") {
			return m
		}
	}
	return nil
}

func TestMetricsCountRequests(t *testing.T) {
	h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{})
	for range 3 {
		if rec := postPredict(t, h, pngBytes(t, 32, 32)); rec.Code != http.StatusOK {
			t.Fatalf("predict: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := postPredict(t, h, []byte("junk")); rec.Code != http.StatusBadRequest {
		t.Fatalf("junk: %d", rec.Code)
	}
	for _, path := range []string{"/nope", "/wp-login.php", "/health"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", rec.Code)
	}

	fams := scrape(t, h)
	counts := map[[2]string]float64{
		{"/predict", "200"}: 3, {"/predict", "400"}: 1, {"other", "404"}: 2, {"/health", "200"}: 1, {"/metrics", "405"}: 1,
	}
	for k, want := range counts {
		m := sample(fams, "agegender_http_requests_total", "code="+k[1], "route="+k[0])
		if m == nil || m.GetCounter().GetValue() != want {
			t.Errorf("requests{route=%s,code=%s} = %v, want %v", k[0], k[1], m, want)
		}
	}
	if n := len(fams["agegender_http_requests_total"].GetMetric()); n != len(counts) {
		t.Errorf("%d request series, want %d (unknown paths share \"other\")", n, len(counts))
	}
	if m := sample(fams, "agegender_faces_total"); m == nil || m.GetCounter().GetValue() != 6 {
		t.Errorf("faces = %v, want 6 (two per answered image)", m)
	}
	if m := sample(fams, "agegender_http_request_duration_seconds", "route=/predict"); m == nil || m.GetHistogram().GetSampleCount() != 4 {
		t.Errorf("predict latency count = %v, want 4", m)
	}
	// The junk upload failed at its header, before any queue.
	if m := sample(fams, "agegender_queue_wait_seconds"); m == nil || m.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("queue wait count = %v, want 3", m)
	}
	// The scrape itself is in flight.
	if m := sample(fams, "agegender_http_requests_in_flight"); m == nil || m.GetGauge().GetValue() != 1 {
		t.Errorf("in flight = %v, want 1", m)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("Go and process metrics missing")
	}
	// A second handler has its own registry: its counts start at zero.
	other := scrape(t, newServer(t, &fakeEstimator{}, Config{}))
	if m := sample(other, "agegender_http_requests_total", "code=200", "route=/predict"); m != nil {
		t.Errorf("a fresh handler counts %v", m)
	}
}
