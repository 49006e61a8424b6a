package predict

import (
	"math"
	"testing"
)

func TestCentralInterval(t *testing.T) {
	uniform := make([]float32, 100)
	for i := 20; i < 30; i++ {
		uniform[i] = 0.1
	}
	peak := make([]float32, 100)
	peak[30] = 1
	young := make([]float32, 100)
	young[0], young[1] = 0.5, 0.5
	tests := []struct {
		name   string
		p      []float32
		level  float64
		lo, hi float64
	}{
		// Bins 20..29 cover [19.5, 29.5); 10% of the mass lies below 20.5.
		{"uniform 80%", uniform, 0.8, 20.5, 28.5},
		{"uniform 50%", uniform, 0.5, 22, 27},
		// All the mass in bin 30 spreads over [29.5, 30.5).
		{"one bin", peak, 0.8, 29.6, 30.4},
		// A quantile below zero years is zero.
		{"newborn", young, 0.9, 0, 1.4},
	}
	for _, tt := range tests {
		lo, hi := centralInterval(tt.p, 0, 1, tt.level)
		if math.Abs(lo-tt.lo) > 1e-4 || math.Abs(hi-tt.hi) > 1e-4 {
			t.Errorf("%s: %.4f..%.4f, want %.4f..%.4f", tt.name, lo, hi, tt.lo, tt.hi)
		}
	}
}

// An unnormalised distribution (float32 sums a hair off 1) gives the same
// interval as its normalised self.
func TestCentralIntervalScalesWithTheMass(t *testing.T) {
	p := []float32{0.1, 0.2, 0.4, 0.2, 0.1}
	q := make([]float32, len(p))
	for i, v := range p {
		q[i] = v * 1.01
	}
	lo1, hi1 := centralInterval(p, 10, 2, 0.8)
	lo2, hi2 := centralInterval(q, 10, 2, 0.8)
	if math.Abs(lo1-lo2) > 1e-5 || math.Abs(hi1-hi2) > 1e-5 {
		t.Errorf("%.5f..%.5f against %.5f..%.5f", lo1, hi1, lo2, hi2)
	}
}
