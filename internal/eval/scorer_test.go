package eval

import (
	"errors"
	"math"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

func mkFace(age float64, gender string, w, h float64) face.Face {
	return face.Face{Box: face.Box{W: w, H: h}, Age: age, Gender: gender, GenderProbability: 0.9, Detected: true}
}

// handScorer is a run with every kind of input and errors of +3, +7, -10
// and +2 years on the four it can score.
func handScorer() *scorer {
	s := newScorer()
	add := func(name string, l *Label, err error, faces ...face.Face) {
		im := face.Image{Input: name, Faces: faces, Err: err}
		if l == nil {
			s.Add(im, Label{}, false)
			return
		}
		s.Add(im, *l, true)
	}
	// The larger face (33, Male) is the prediction, not the first.
	add("a.jpg", &Label{30, face.Male, 0}, nil, mkFace(80, face.Female, 10, 10), mkFace(33, face.Male, 50, 60))
	add("b.jpg", &Label{5, face.Female, 2}, nil, mkFace(12, face.Female, 100, 100))
	add("c.jpg", &Label{70, face.Male, 0}, nil, mkFace(60, face.Female, 100, 100))
	add("d.jpg", &Label{45, face.Female, -1}, nil, mkFace(47, face.Male, 100, 100))
	add("e.jpg", &Label{20, face.Male, 0}, errors.New("e.jpg: unexpected EOF"))
	add("f.jpg", nil, nil, mkFace(20, face.Male, 100, 100))
	add("g.jpg", &Label{20, face.Male, 0}, nil)
	add("h.jpg", nil, errors.New("h.jpg: no such file"))
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkMetrics(t *testing.T, what string, got Metrics, n int, mae, rmse, within, bias, acc float64) {
	t.Helper()
	if got.N != n || !near(got.AgeMAE, mae) || !near(got.AgeRMSE, rmse) || !near(got.AgeWithin5, within) ||
		!near(got.AgeBias, bias) || !near(got.GenderAccuracy, acc) {
		t.Errorf("%s = %+v; want n %d, MAE %v, RMSE %v, within5 %v, bias %v, accuracy %v",
			what, got, n, mae, rmse, within, bias, acc)
	}
}

func TestScorerSummary(t *testing.T) {
	s := handScorer().Summary()

	wantCounts := Counts{Inputs: 8, Scored: 4, Failed: 2, Unlabelled: 1, NoFace: 1, MultiFace: 1}
	if s.Counts != wantCounts {
		t.Errorf("counts = %+v, want %+v", s.Counts, wantCounts)
	}
	checkMetrics(t, "overall", s.Overall, 4, 22.0/4, math.Sqrt(162.0/4), 0.5, 0.5, 0.5)
	if want := (Confusion{MaleAsMale: 1, MaleAsFemale: 1, FemaleAsMale: 1, FemaleAsFemale: 1}); s.Overall.GenderConfusion != want {
		t.Errorf("confusion = %+v, want %+v", s.Overall.GenderConfusion, want)
	}

	if len(s.ByAge) != 5 {
		t.Fatalf("%d age buckets, want 5", len(s.ByAge))
	}
	for i, name := range bucketNames {
		if s.ByAge[i].Name != name {
			t.Errorf("bucket %d is %q, want %q", i, s.ByAge[i].Name, name)
		}
	}
	checkMetrics(t, "0-9", s.ByAge[0].Metrics, 1, 7, 7, 0, 7, 1)
	checkMetrics(t, "10-19", s.ByAge[1].Metrics, 0, 0, 0, 0, 0, 0)
	checkMetrics(t, "20-39", s.ByAge[2].Metrics, 1, 3, 3, 1, 3, 1)
	checkMetrics(t, "40-59", s.ByAge[3].Metrics, 1, 2, 2, 1, 2, 0)
	checkMetrics(t, "60+", s.ByAge[4].Metrics, 1, 10, 10, 0, -10, 0)
	if c := s.ByAge[3].GenderConfusion; c != (Confusion{FemaleAsMale: 1}) {
		t.Errorf("40-59 confusion = %+v", c)
	}

	// d.jpg has no race, so it is in no race group; Black (1) is absent.
	if len(s.ByRace) != 2 || s.ByRace[0].Name != "White" || s.ByRace[1].Name != "Asian" {
		t.Fatalf("race groups = %+v, want White and Asian", s.ByRace)
	}
	checkMetrics(t, "White", s.ByRace[0].Metrics, 2, 6.5, math.Sqrt(109.0/2), 0.5, -3.5, 0.5)
	checkMetrics(t, "Asian", s.ByRace[1].Metrics, 1, 7, 7, 0, 7, 1)

	wantWorst := []string{"c.jpg", "b.jpg", "a.jpg", "d.jpg"}
	if len(s.Worst) != len(wantWorst) {
		t.Fatalf("worst = %+v", s.Worst)
	}
	for i, w := range wantWorst {
		if s.Worst[i].Input != w {
			t.Errorf("worst[%d] = %s, want %s", i, s.Worst[i].Input, w)
		}
	}
	if a := s.Worst[2]; a.PredAge != 33 || a.PredGender != face.Male || a.Faces != 2 {
		t.Errorf("a.jpg scored %+v, want its larger face (33, Male) of 2", a)
	}

	if len(s.Failed) != 2 || s.Failed[0].Input != "e.jpg" || s.Failed[1].Input != "h.jpg" || s.Failed[1].Error != "h.jpg: no such file" {
		t.Errorf("failed = %+v", s.Failed)
	}
	if len(s.Unlabelled) != 1 || s.Unlabelled[0] != "f.jpg" {
		t.Errorf("unlabelled = %v", s.Unlabelled)
	}
	if len(s.NoFace) != 1 || s.NoFace[0] != "g.jpg" {
		t.Errorf("no face = %v", s.NoFace)
	}
}

func TestScorerWithin5IsInclusive(t *testing.T) {
	s := newScorer()
	s.Add(face.Image{Input: "x", Faces: []face.Face{mkFace(35, face.Male, 1, 1)}}, Label{30, face.Male, -1}, true)
	s.Add(face.Image{Input: "y", Faces: []face.Face{mkFace(24.9, face.Male, 1, 1)}}, Label{30, face.Male, -1}, true)
	if got := s.Summary().Overall.AgeWithin5; got != 0.5 {
		t.Errorf("within 5 = %v, want 0.5 (an error of exactly 5 counts, 5.1 does not)", got)
	}
}

func TestScorerWorstKeepsTen(t *testing.T) {
	s := newScorer()
	for i := range 15 {
		s.Add(face.Image{Input: string(rune('a' + i)), Faces: []face.Face{mkFace(float64(30+i), face.Male, 1, 1)}},
			Label{30, face.Male, -1}, true)
	}
	w := s.Summary().Worst
	if len(w) != worstCount || w[0].Input != "o" || w[9].Input != "f" {
		t.Errorf("worst = %v .. %v (%d), want o .. f (10)", w[0].Input, w[len(w)-1].Input, len(w))
	}
}

func TestEmptySummary(t *testing.T) {
	s := newScorer().Summary()
	if s.Counts != (Counts{}) || s.Overall != (Metrics{}) || len(s.ByAge) != 5 || s.ByRace != nil {
		t.Errorf("empty summary = %+v", s)
	}
	if s.Worst == nil || s.Failed == nil || s.Unlabelled == nil || s.NoFace == nil {
		t.Error("empty lists must be [] in JSON, not null")
	}
}

func TestLargestFirstOnTie(t *testing.T) {
	fs := []face.Face{mkFace(1, face.Male, 10, 20), mkFace(2, face.Male, 20, 10), mkFace(3, face.Male, 5, 5)}
	f := fs[face.Largest(fs)]
	if f.Age != 1 {
		t.Errorf("largest picked age %v, want the first of the equal boxes (1)", f.Age)
	}
}

func TestScorerCalibrationAndAdultRaces(t *testing.T) {
	s := handScorer().Summary()
	// Every face says 0.9 and half are right: the whole gap, 0.4, is the error.
	if !near(s.Overall.GenderECE, 0.4) {
		t.Errorf("overall gender ECE = %v, want 0.4", s.Overall.GenderECE)
	}

	sc := newScorer()
	add := func(name string, age float64, race int, pred float64, p float64, right bool) {
		g := face.Male
		if !right {
			g = face.Female
		}
		f := mkFace(pred, g, 10, 10)
		f.GenderProbability = p
		sc.Add(face.Image{Input: name, Faces: []face.Face{f}}, Label{age, face.Male, race}, true)
	}
	add("w1", 30, 0, 32, 0.95, true) // White adults: errors 2 and 4
	add("w2", 50, 0, 46, 0.95, true)
	add("b1", 40, 1, 41, 0.55, false) // Black adult: error 1
	add("b2", 5, 1, 25, 0.55, true)   // a child: not in the adult groups
	sum := sc.Summary()
	if len(sum.AdultByRace) != 2 || sum.AdultByRace[0].Name != "White" || sum.AdultByRace[0].N != 2 || sum.AdultByRace[1].N != 1 {
		t.Fatalf("adult groups = %+v, want White (2) and Black (1)", sum.AdultByRace)
	}
	if !near(sum.AdultRaceMAESpread, 3-1) {
		t.Errorf("adult race MAE spread = %v, want 2", sum.AdultRaceMAESpread)
	}
	// Bin 0.95: 2 faces, all right (gap 0.05); bin 0.55: 2 faces, half right (gap 0.05).
	if !near(sum.Overall.GenderECE, 0.05) {
		t.Errorf("gender ECE = %v, want 0.05", sum.Overall.GenderECE)
	}
}

// The age interval's coverage counts the scored faces whose true age lies
// inside it, ends included, and its width is the mean over those with one;
// a face without an interval counts in neither.
func TestScorerIntervalCoverage(t *testing.T) {
	s := newScorer()
	withInterval := func(age, lo, hi float64) face.Face {
		f := mkFace(age, face.Male, 10, 10)
		f.AgeLow, f.AgeHigh = &lo, &hi
		return f
	}
	s.Add(face.Image{Input: "in.jpg", Faces: []face.Face{withInterval(31, 25, 35)}}, Label{30, face.Male, 0}, true)
	s.Add(face.Image{Input: "edge.jpg", Faces: []face.Face{withInterval(8, 3, 9)}}, Label{9, face.Male, 0}, true)
	s.Add(face.Image{Input: "out.jpg", Faces: []face.Face{withInterval(40, 38, 44)}}, Label{50, face.Male, 0}, true)
	s.Add(face.Image{Input: "none.jpg", Faces: []face.Face{mkFace(20, face.Male, 10, 10)}}, Label{20, face.Male, 0}, true)
	sum := s.Summary()
	o := sum.Overall
	if o.IntervalN != 3 || !near(o.IntervalCoverage, 2.0/3) || !near(o.IntervalWidth, (10+6+6)/3.0) {
		t.Errorf("overall: n %d, coverage %.4f, width %.4f; want 3, 0.6667, 7.3333", o.IntervalN, o.IntervalCoverage, o.IntervalWidth)
	}
	if g := sum.ByAge[0].Metrics; g.IntervalN != 1 || g.IntervalCoverage != 1 {
		t.Errorf("0-9: n %d, coverage %.2f; want 1, 1", g.IntervalN, g.IntervalCoverage)
	}
	if g := sum.ByAge[3].Metrics; g.IntervalN != 1 || g.IntervalCoverage != 0 {
		t.Errorf("40-59: n %d, coverage %.2f; want 1, 0", g.IntervalN, g.IntervalCoverage)
	}
}
