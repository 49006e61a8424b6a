package predict

import "math"

// Outputs are the model's answers for a batch of faces.
type Outputs struct {
	Age     []float32
	PFemale []float32
	// AgeDistribution holds Bins probabilities a face, P(age = FirstAge +
	// i BinYears), when the model gives them; nil otherwise.
	AgeDistribution []float32
	Bins            int
}

// DefaultIntervalLevel is the share of a face's age distribution that its
// age interval holds unless the caller asks for another: the level v4's
// temperature was calibrated at, so that 80% of intervals hold the true age.
const DefaultIntervalLevel = 0.8

// ageDistribution is the contract's optional output of the whole age
// distribution, from which each face's interval is read.
type ageDistribution struct {
	Name     string  `json:"name"`
	Bins     int     `json:"bins"`
	FirstAge float64 `json:"first_age"`
	BinYears float64 `json:"bin_years"`
	// CalibratedLevel is the level whose intervals were made to cover that
	// share of true ages on the calibration split.
	CalibratedLevel float64 `json:"calibrated_level"`
}

// centralInterval returns the interval, in years, that holds level of the
// distribution p's mass with equal shares left out below and above it. Bin
// i spreads its mass evenly over [first + (i-0.5)w, first + (i+0.5)w), and
// the quantiles are read off that piecewise linear CDF, as
// training/v4train.py's central_interval reads them. A quantile below zero
// years is zero.
func centralInterval(p []float32, first, w, level float64) (lo, hi float64) {
	var total float64
	for _, v := range p {
		total += float64(v)
	}
	quantile := func(q float64) float64 {
		target, cdf := q*total, 0.0
		for i, v := range p {
			next := cdf + float64(v)
			if next >= target && v > 0 {
				frac := (target - cdf) / float64(v)
				return first + (float64(i)-0.5+min(max(frac, 0), 1))*w
			}
			cdf = next
		}
		return first + (float64(len(p))-0.5)*w
	}
	lo, hi = quantile((1-level)/2), quantile((1+level)/2)
	return math.Max(lo, 0), math.Max(hi, 0)
}
