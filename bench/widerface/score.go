package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	result "github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict/detect"
)

// bands are the face sizes recall is given for: the true box's shorter
// side at least this many pixels.
var bands = []float64{20, 40, 80}

// groupUpper are the ages at which a predicted age leaves each perceived
// group for the next. The labels give no years; these are fixed once
// (young adult under 30, adult 30-44, middle age 45-59, senior 60 and up)
// so that models are compared on one mapping, never tuned per model.
var groupUpper = []float64{30, 45, 60}

// ageGroup is the index in ageGroups of a predicted age.
func ageGroup(age float64) int {
	for i, hi := range groupUpper {
		if age < hi {
			return i
		}
	}
	return len(groupUpper)
}

// Summary is what the scorer prints.
type Summary struct {
	Photos         int                `json:"photos"`
	RecallBySize   map[string]float64 `json:"recall_by_min_side"`
	FacesBySize    map[string]int     `json:"valid_faces_by_min_side"`
	FalsePerPhoto  float64            `json:"false_boxes_per_photo"`
	Detections     int                `json:"detections"`
	GenderAccuracy float64            `json:"gender_accuracy"`
	GenderN        int                `json:"gender_n"`
	MedianAge      map[string]float64 `json:"median_age_by_group"`
	// AgeGroupExact and AgeGroupWithinOne are the shares of faces with a
	// perceived age group whose predicted age falls in that group (by
	// groupUpper), or in it or a neighbouring one.
	AgeGroupExact     float64        `json:"age_group_exact"`
	AgeGroupWithinOne float64        `json:"age_group_within_one"`
	AgeN              map[string]int `json:"age_n_by_group"`
	PhotosPerSecond   float64        `json:"photos_per_second"`
	Params            string         `json:"params"`
}

func score(photos []string, gt map[string][]truth, found [][]result.Face) Summary {
	s := Summary{Photos: len(photos), RecallBySize: map[string]float64{}, FacesBySize: map[string]int{},
		MedianAge: map[string]float64{}, AgeN: map[string]int{}}
	hits := map[string]int{}
	var falses, genderOK, groupN, groupExact, groupNear int
	ages := map[string][]float64{}
	for i, name := range photos {
		truths := gt[name]
		faces := found[i]
		s.Detections += len(faces)
		match := matchBoxes(truths, faces)
		for d, f := range faces {
			best := 0.0
			for _, t := range truths {
				best = math.Max(best, detect.IoU(t.box, f.Box))
			}
			if best < 0.5 {
				falses++
			}
			_ = d
		}
		for k, t := range truths {
			if t.invalid {
				continue
			}
			side := math.Min(t.box.W, t.box.H)
			d, ok := match[k]
			for _, b := range bands {
				if side >= b {
					key := fmt.Sprintf(">=%.0f", b)
					s.FacesBySize[key]++
					if ok {
						hits[key]++
					}
				}
			}
			if !ok {
				continue
			}
			if t.gender != "" {
				s.GenderN++
				if faces[d].Gender == t.gender {
					genderOK++
				}
			}
			if t.age != "" {
				ages[t.age] = append(ages[t.age], faces[d].Age)
				diff := ageGroup(faces[d].Age) - slices.Index(ageGroups, t.age)
				groupN++
				if diff == 0 {
					groupExact++
				}
				if diff >= -1 && diff <= 1 {
					groupNear++
				}
			}
		}
	}
	for k, n := range s.FacesBySize {
		s.RecallBySize[k] = round(float64(hits[k])/float64(n), 3)
	}
	s.FalsePerPhoto = round(float64(falses)/float64(len(photos)), 3)
	if s.GenderN > 0 {
		s.GenderAccuracy = round(float64(genderOK)/float64(s.GenderN), 3)
	}
	if groupN > 0 {
		s.AgeGroupExact = round(float64(groupExact)/float64(groupN), 3)
		s.AgeGroupWithinOne = round(float64(groupNear)/float64(groupN), 3)
	}
	for g, a := range ages {
		sort.Float64s(a)
		s.MedianAge[g] = round(a[len(a)/2], 1)
		s.AgeN[g] = len(a)
	}
	return s
}

// matchBoxes pairs truth boxes with detections one to one, best IoU first,
// keeping pairs at IoU >= 0.5. It returns truth index -> detection index.
func matchBoxes(truths []truth, faces []result.Face) map[int]int {
	type pair struct {
		t, d int
		iou  float64
	}
	var pairs []pair
	for ti, t := range truths {
		for di, f := range faces {
			if v := detect.IoU(t.box, f.Box); v >= 0.5 {
				pairs = append(pairs, pair{ti, di, v})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].iou > pairs[j].iou })
	out := map[int]int{}
	used := map[int]bool{}
	for _, p := range pairs {
		if _, ok := out[p.t]; ok || used[p.d] {
			continue
		}
		out[p.t] = p.d
		used[p.d] = true
	}
	return out
}

// printCurve scores the detections again at each threshold from lo up: the
// detector runs once, at lo, and a higher threshold only drops boxes.
// Steps go up by step; step must be positive.
func printCurve(w io.Writer, photos []string, gt map[string][]truth, found [][]result.Face, lo, step, maxFalse float64) {
	fmt.Fprintf(w, "%-9s %8s %8s %8s %12s\n", "min-score", ">=20", ">=40", ">=80", "false/photo")
	var best *Summary
	bestAt := 0.0
	for k := 0; lo+step*float64(k) < 1; k++ {
		t := lo + step*float64(k)
		kept := make([][]result.Face, len(found))
		for i, faces := range found {
			for _, f := range faces {
				if f.Score >= t {
					kept[i] = append(kept[i], f)
				}
			}
		}
		s := score(photos, gt, kept)
		fmt.Fprintf(w, "%-9.2f %8.3f %8.3f %8.3f %12.3f\n", t, s.RecallBySize[">=20"], s.RecallBySize[">=40"], s.RecallBySize[">=80"], s.FalsePerPhoto)
		if best == nil && s.FalsePerPhoto <= maxFalse {
			best, bestAt = &s, t
		}
	}
	if best != nil {
		fmt.Fprintf(w, "lowest threshold with <= %.2f false boxes per photo: %.2f (recall %.3f / %.3f / %.3f, %.3f false)\n\n",
			maxFalse, bestAt, best.RecallBySize[">=20"], best.RecallBySize[">=40"], best.RecallBySize[">=80"], best.FalsePerPhoto)
	}
}

func (s Summary) print(w io.Writer) {
	fmt.Fprintf(w, "WIDER FACE sample: %d photos, %d detections (%s)\n", s.Photos, s.Detections, s.Params)
	for _, b := range bands {
		k := fmt.Sprintf(">=%.0f", b)
		fmt.Fprintf(w, "  recall, min side %-5s px: %.3f  (%d valid faces)\n", k, s.RecallBySize[k], s.FacesBySize[k])
	}
	fmt.Fprintf(w, "  false boxes per photo:     %.3f\n", s.FalsePerPhoto)
	fmt.Fprintf(w, "  gender accuracy:           %.3f  (%d labelled faces found)\n", s.GenderAccuracy, s.GenderN)
	for _, g := range ageGroups {
		fmt.Fprintf(w, "  median age, %-12s %5.1f  (n=%d)\n", g+":", s.MedianAge[g], s.AgeN[g])
	}
	fmt.Fprintf(w, "  age group exact / within one: %.3f / %.3f  (young adult <30, adult <45, middle age <60, senior)\n",
		s.AgeGroupExact, s.AgeGroupWithinOne)
	fmt.Fprintf(w, "  photos per second:         %.2f\n", s.PhotosPerSecond)
}

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}
