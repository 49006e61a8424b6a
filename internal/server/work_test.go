package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/bench/hostile/corpus"
	"github.com/agegender/agegender/internal/preprocess"
)

// A scan bomb (a small progressive JPEG of thousands of scans, each walking
// every block) is refused from its markers; and were one admitted, its
// decode stops when its request times out, so that the one CPU slot is free
// for the crop sent next. Two such uploads once held both slots for 90 s.
func TestScanBombCannotHoldASlot(t *testing.T) {
	bomb := corpus.ProgressiveJPEG(1000, 1000, 1, 20000)
	crop := pngBytes(t, 64, 64)
	for _, c := range []struct {
		name   string
		limits preprocess.Limits
		code   int
		want   string
	}{
		{"refused", preprocess.Limits{}, http.StatusBadRequest, "20001 scans, over the 500 scan limit"},
		{"admitted", preprocess.Limits{MaxScans: 1 << 30, MaxScanPasses: 1 << 30}, http.StatusServiceUnavailable, "timed out"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := NewHandler(&fakeEstimator{faces: twoFaces()}, Config{MaxConcurrent: 1, Timeout: time.Second, Limits: c.limits})
			rec := postPredict(t, h, bomb)
			msg, _ := decodeBody(t, rec.Body.Bytes())["error"].(string)
			if rec.Code != c.code || !strings.Contains(msg, c.want) {
				t.Fatalf("bomb: %d %q, want %d saying %q", rec.Code, msg, c.code, c.want)
			}
			if rec := postPredict(t, h, crop); rec.Code != http.StatusOK {
				t.Errorf("crop after the bomb: %d %s, want 200", rec.Code, rec.Body)
			}
		})
	}
}
