package main

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// errNoMetrics marks a server that has no /metrics (a build from before it).
var errNoMetrics = errors.New("the server has no /metrics")

// serverCounts is what loadtest reads from the server's /metrics.
type serverCounts struct {
	// predict counts POST /predict answers by status code.
	predict map[int]float64
	// batches and batched count micro-batches and the images in them.
	batches, batched float64
}

// predictCounts scrapes the server's /metrics.
func predictCounts(client *http.Client, base string) (serverCounts, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return serverCounts{}, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return serverCounts{}, errNoMetrics
	}
	if resp.StatusCode != http.StatusOK {
		return serverCounts{}, fmt.Errorf("scrape /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return serverCounts{}, fmt.Errorf("parse /metrics: %w", err)
	}
	counts := map[int]float64{}
	for _, m := range fams["agegender_http_requests_total"].GetMetric() {
		var route, code string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "route":
				route = l.GetValue()
			case "code":
				code = l.GetValue()
			}
		}
		if route != "/predict" {
			continue
		}
		c, err := strconv.Atoi(code)
		if err != nil {
			return serverCounts{}, fmt.Errorf("/metrics: code label %q: %w", code, err)
		}
		counts[c] += m.GetCounter().GetValue()
	}
	sc := serverCounts{predict: counts}
	for _, m := range fams["agegender_batch_images"].GetMetric() {
		sc.batches += float64(m.GetHistogram().GetSampleCount())
		sc.batched += m.GetHistogram().GetSampleSum()
	}
	return sc, nil
}

// compareCounts checks the server's counts grew by exactly what the client
// received, code by code, and describes the comparison.
func compareCounts(before, after map[int]float64, got map[int]int) (string, bool) {
	codes := map[int]bool{}
	for c := range after {
		codes[c] = true
	}
	for c := range got {
		codes[c] = true
	}
	ok := true
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		delta := after[c] - before[c]
		if delta != float64(got[c]) {
			ok = false
		}
		parts = append(parts, fmt.Sprintf("%d: server +%.0f, client %d", c, delta, got[c]))
	}
	return strings.Join(parts, "; "), ok
}

func total(counts map[int]float64) float64 {
	var t float64
	for _, v := range counts {
		t += v
	}
	return t
}

// scrapeLog is what scraping during a run found.
type scrapeLog struct {
	n   int
	err error
}

func (s scrapeLog) verdict() string {
	if s.err != nil {
		return "FAILED: " + s.err.Error()
	}
	return "each between the counts before and after, never falling"
}

// scrapeDuring scrapes /metrics every 250 ms until stop closes, as
// Prometheus would during the load, and checks that the count of /predict
// answers never falls and never exceeds the requests sent.
func scrapeDuring(client *http.Client, base string, start float64, sent int, stop <-chan struct{}) scrapeLog {
	var s scrapeLog
	last := start
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return s
		case <-tick.C:
		}
		counts, err := predictCounts(client, base)
		if err != nil {
			s.err = err
			return s
		}
		s.n++
		t := total(counts.predict)
		if t < last || t > start+float64(sent) {
			s.err = fmt.Errorf("scrape %d: %.0f /predict answers, after %.0f, of %.0f at most", s.n, t, last, start+float64(sent))
			return s
		}
		last = t
	}
}
