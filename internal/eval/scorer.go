package eval

import (
	"cmp"
	"math"
	"slices"

	"github.com/agegender/agegender/internal/face"
)

// worstCount is how many of the largest age errors a Summary lists.
const worstCount = 10

// scorer accumulates the results of a run. It keeps one Point per scored
// input (for the plots and the worst list) and the names of the inputs it
// could not score, so its memory grows with the inputs: fine for labelled
// evaluation sets, which are thousands, not millions, of files.
type scorer struct {
	points     []Point
	failed     []Failure
	unlabelled []string
	noFace     []string
}

// newScorer returns an empty scorer.
func newScorer() *scorer {
	return &scorer{points: []Point{}, failed: []Failure{}, unlabelled: []string{}, noFace: []string{}}
}

// Add scores one input; labelled says whether label is known. An input that
// failed counts as failed whether labelled or not, so that errors are never
// hidden among unlabelled files; a labelled input without faces counts as
// no_face; otherwise its largest face (by box area, the first on a tie) is
// the prediction, since an evaluation image shows one labelled person.
func (s *scorer) Add(im face.Image, label Label, labelled bool) {
	switch {
	case im.Failed():
		s.failed = append(s.failed, Failure{Input: im.Input, Error: im.ErrorText()})
	case !labelled:
		s.unlabelled = append(s.unlabelled, im.Input)
	case len(im.Faces) == 0:
		s.noFace = append(s.noFace, im.Input)
	default:
		f := im.Faces[face.Largest(im.Faces)]
		s.points = append(s.points, Point{
			Input: im.Input, TrueAge: label.Age, PredAge: f.Age,
			TrueGender: label.Gender, PredGender: f.Gender, GenderProbability: f.GenderProbability,
			Race: label.Race, Faces: len(im.Faces), AgeLow: f.AgeLow, AgeHigh: f.AgeHigh,
		})
	}
}

// Points returns the scored inputs in input order. The slice is the
// scorer's own; do not modify it.
func (s *scorer) Points() []Point { return s.points }

// Summary computes the metrics of everything added so far. The engine and
// split fields are left for the caller, which knows them.
func (s *scorer) Summary() Summary {
	sum := Summary{
		Counts: Counts{
			Scored: len(s.points), Failed: len(s.failed),
			Unlabelled: len(s.unlabelled), NoFace: len(s.noFace),
		},
		Overall:    metrics(s.points),
		Failed:     slices.Clone(s.failed),
		Unlabelled: slices.Clone(s.unlabelled),
		NoFace:     slices.Clone(s.noFace),
	}
	sum.Counts.Inputs = sum.Counts.Scored + sum.Counts.Failed + sum.Counts.Unlabelled + sum.Counts.NoFace
	byAge := make([][]Point, len(bucketNames))
	byRace := make([][]Point, len(races))
	adultByRace := make([][]Point, len(races))
	for _, p := range s.points {
		if p.Faces > 1 {
			sum.Counts.MultiFace++
		}
		b := bucketOf(p.TrueAge)
		byAge[b] = append(byAge[b], p)
		if raceName(p.Race) != "" {
			byRace[p.Race] = append(byRace[p.Race], p)
			if p.TrueAge >= adultAge {
				adultByRace[p.Race] = append(adultByRace[p.Race], p)
			}
		}
	}
	for i, ps := range byAge {
		sum.ByAge = append(sum.ByAge, Group{Name: bucketNames[i], Metrics: metrics(ps)})
	}
	sum.ByRace = raceGroups(byRace)
	sum.AdultByRace = raceGroups(adultByRace)
	if len(sum.AdultByRace) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, g := range sum.AdultByRace {
			lo, hi = min(lo, g.AgeMAE), max(hi, g.AgeMAE)
		}
		sum.AdultRaceMAESpread = hi - lo
	}
	sum.Worst = worst(s.points, worstCount)
	return sum
}

// adultAge is the youngest true age counted in Summary.AdultByRace.
const adultAge = 20

// raceGroups scores the races that have points, in race order.
func raceGroups(byRace [][]Point) []Group {
	var out []Group
	for i, ps := range byRace {
		if len(ps) > 0 {
			out = append(out, Group{Name: races[i], Metrics: metrics(ps)})
		}
	}
	return out
}

// eceBins is how many equal-width bins of confidence (0.5 to 1) the gender
// calibration error is taken over.
const eceBins = 10

// calibrationError is Metrics.GenderECE of ps.
func calibrationError(ps []Point) float64 {
	// A bin's weighted gap, share x |accuracy - mean confidence|, is
	// |right - summed confidence| / all; an empty bin adds 0.
	var conf, right [eceBins]float64
	for _, p := range ps {
		b := min(eceBins-1, max(0, int((p.GenderProbability-0.5)*2*eceBins)))
		conf[b] += p.GenderProbability
		if p.PredGender == p.TrueGender {
			right[b]++
		}
	}
	ece := 0.0
	for b := range conf {
		ece += math.Abs(right[b]-conf[b]) / float64(len(ps))
	}
	return ece
}

// metrics scores a set of points; an empty set scores 0 everywhere, since
// JSON has no NaN.
func metrics(ps []Point) Metrics {
	m := Metrics{N: len(ps)}
	if m.N == 0 {
		return m
	}
	var abs, sq, signed float64
	within, correct := 0, 0
	for _, p := range ps {
		e := p.AgeError()
		abs += math.Abs(e)
		sq += e * e
		signed += e
		if math.Abs(e) <= 5 {
			within++
		}
		if p.PredGender == p.TrueGender {
			correct++
		}
		if has, inside := p.Covered(); has {
			m.IntervalN++
			m.IntervalWidth += *p.AgeHigh - *p.AgeLow
			if inside {
				m.IntervalCoverage++
			}
		}
		switch {
		case p.TrueGender == face.Male && p.PredGender == face.Male:
			m.GenderConfusion.MaleAsMale++
		case p.TrueGender == face.Male:
			m.GenderConfusion.MaleAsFemale++
		case p.PredGender == face.Male:
			m.GenderConfusion.FemaleAsMale++
		default:
			m.GenderConfusion.FemaleAsFemale++
		}
	}
	n := float64(m.N)
	m.AgeMAE = abs / n
	m.AgeRMSE = math.Sqrt(sq / n)
	m.AgeWithin5 = float64(within) / n
	m.AgeBias = signed / n
	m.GenderAccuracy = float64(correct) / n
	m.GenderECE = calibrationError(ps)
	if m.IntervalN > 0 {
		m.IntervalCoverage /= float64(m.IntervalN)
		m.IntervalWidth /= float64(m.IntervalN)
	}
	return m
}

// worst returns the k points with the largest absolute age error, largest
// first; ties go by input name so that the list is deterministic.
func worst(ps []Point, k int) []Point {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Point) int {
		if c := cmp.Compare(math.Abs(b.AgeError()), math.Abs(a.AgeError())); c != 0 {
			return c
		}
		return cmp.Compare(a.Input, b.Input)
	})
	if len(out) > k {
		out = out[:k]
	}
	return slices.Clip(out)
}
