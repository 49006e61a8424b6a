package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/report"
)

func resultImage(name string, faces ...face.Face) face.Image {
	return face.Image{Input: name, Detect: face.DetectAuto, Faces: faces}
}

// truth is a generated label, kept apart from the scorer's label parsing.
type truth struct {
	age    int
	female bool
}

// generated makes a run with UTKFace-style names: most inputs with one or
// more faces, some failed, some without faces, some with names that carry
// no label.
func generated() ([]face.Image, map[string]truth) {
	rng := rand.New(rand.NewPCG(4, 1))
	truths := map[string]truth{}
	var ims []face.Image
	for i := range 300 {
		tr := truth{age: 1 + rng.IntN(100), female: rng.IntN(2) == 1}
		name := fmt.Sprintf("set/%d_%d_%d_2017011%010d.jpg.chip.jpg", tr.age, map[bool]int{false: 0, true: 1}[tr.female], rng.IntN(5), i)
		if i%37 == 0 {
			name = fmt.Sprintf("set/IMG_%04d.jpg", i) // no label
		} else {
			truths[name] = tr
		}
		im := resultImage(name)
		switch {
		case i%23 == 0:
			im.Err = errors.New(name + ": unexpected EOF")
		case i%19 == 0:
			// no face
		default:
			for range 1 + rng.IntN(3) {
				g := face.Male
				if rng.IntN(2) == 1 {
					g = face.Female
				}
				im.Faces = append(im.Faces, face.Face{
					Box: face.Box{X: rng.Float64() * 100, Y: rng.Float64() * 100, W: 10 + rng.Float64()*90, H: 10 + rng.Float64()*90},
					Age: rng.Float64() * 90, Gender: g, GenderProbability: 0.5 + rng.Float64()/2, Detected: true,
				})
			}
		}
		ims = append(ims, im)
	}
	return ims, truths
}

// TestSummaryAgreesWithJSONL checks eval's numbers against the batch
// --jsonl output of the same results, scored by separate, plain code: the
// JSONL goes through the real report writer and is read back with
// encoding/json alone.
func TestSummaryAgreesWithJSONL(t *testing.T) {
	ims, truths := generated()

	sc := newScorer()
	var buf bytes.Buffer
	w, err := report.New(report.FormatJSONL, &buf, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range ims {
		l, ok := ParseUTKName(im.Input)
		sc.Add(im, l, ok)
		if err := w.Write(im); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := sc.Summary()

	type line struct {
		Input string `json:"input"`
		Faces []struct {
			Box struct {
				W float64 `json:"w"`
				H float64 `json:"h"`
			} `json:"box"`
			Age    float64 `json:"age"`
			Gender string  `json:"gender"`
		} `json:"faces"`
		Error string `json:"error"`
	}
	var n, correct, failed, noFace, unlabelled int
	var absSum float64
	bucketAbs := map[string]float64{}
	bucketN := map[string]int{}
	sc2 := bufio.NewScanner(&buf)
	for sc2.Scan() {
		var l line
		if err := json.Unmarshal(sc2.Bytes(), &l); err != nil {
			t.Fatalf("JSONL line %q: %v", sc2.Text(), err)
		}
		tr, labelled := truths[l.Input]
		switch {
		case l.Error != "":
			failed++
			continue
		case !labelled:
			unlabelled++
			continue
		case len(l.Faces) == 0:
			noFace++
			continue
		}
		best := 0
		for i, f := range l.Faces {
			if f.Box.W*f.Box.H > l.Faces[best].Box.W*l.Faces[best].Box.H {
				best = i
			}
		}
		f := l.Faces[best]
		n++
		e := math.Abs(f.Age - float64(tr.age))
		absSum += e
		if (f.Gender == "Female") == tr.female {
			correct++
		}
		b := "60+"
		switch {
		case tr.age <= 9:
			b = "0-9"
		case tr.age <= 19:
			b = "10-19"
		case tr.age <= 39:
			b = "20-39"
		case tr.age <= 59:
			b = "40-59"
		}
		bucketAbs[b] += e
		bucketN[b]++
	}
	if err := sc2.Err(); err != nil {
		t.Fatal(err)
	}

	if n == 0 || failed == 0 || noFace == 0 || unlabelled == 0 {
		t.Fatalf("the generated run lacks a kind of input: %d scored, %d failed, %d no face, %d unlabelled", n, failed, noFace, unlabelled)
	}
	if got.Counts.Scored != n || got.Counts.Failed != failed || got.Counts.NoFace != noFace || got.Counts.Unlabelled != unlabelled || got.Counts.Inputs != len(ims) {
		t.Errorf("counts = %+v; JSONL gives %d scored, %d failed, %d no face, %d unlabelled of %d",
			got.Counts, n, failed, noFace, unlabelled, len(ims))
	}
	if mae := absSum / float64(n); !near(got.Overall.AgeMAE, mae) {
		t.Errorf("MAE = %v; JSONL gives %v", got.Overall.AgeMAE, mae)
	}
	if acc := float64(correct) / float64(n); !near(got.Overall.GenderAccuracy, acc) {
		t.Errorf("gender accuracy = %v; JSONL gives %v", got.Overall.GenderAccuracy, acc)
	}
	for _, g := range got.ByAge {
		if g.N != bucketN[g.Name] || (g.N > 0 && !near(g.AgeMAE, bucketAbs[g.Name]/float64(g.N))) {
			t.Errorf("bucket %s: n %d MAE %v; JSONL gives n %d MAE %v", g.Name, g.N, g.AgeMAE, bucketN[g.Name], bucketAbs[g.Name]/float64(bucketN[g.Name]))
		}
	}
}
