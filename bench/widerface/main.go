// Command widerface scores detection and estimation on real photos: the 500
// WIDER FACE validation photos in ../shared/data/widerface, with every face
// box and perceived gender and age group for 2,113 faces.
//
// It prints recall at IoU >= 0.5 per face size band, false boxes per photo
// (detections overlapping no annotated face at IoU >= 0.5), gender accuracy
// on the labelled faces that were found, the median predicted age per
// perceived age group, and photos per second (decode + detect + estimate).
//
//	go run ./bench/widerface [-workers 2] [-min-score 0.5] [-det-size 640] [-det-second-size 1024]
//	    [-detector-model F] [-curve 0.3] [-model M] [-json]
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	result "github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

type truth struct {
	box     result.Box
	invalid bool
	gender  string // Male, Female or "" (not labelled / not sure)
	age     string // perceived age group or ""
}

var bands = []float64{20, 40, 80}
var ageGroups = []string{"Young Adult", "Adult", "Middle age", "Senior"}

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

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "widerface:", err)
		os.Exit(1)
	}
}

func run() error {
	root := flag.String("data", "../shared/data/widerface", "WIDER FACE sample folder")
	workers := flag.Int("workers", runtime.NumCPU(), "photos processed in parallel")
	limit := flag.Int("limit", 0, "score only the first N photos (0: all)")
	asJSON := flag.Bool("json", false, "print JSON")
	curveFrom := flag.Float64("curve", 0, "detect at this score threshold, then print recall and false boxes per photo at every threshold from it up in steps of 0.05, and the lowest that keeps false boxes at or under -max-false")
	maxFalse := flag.Float64("max-false", 0.4, "false boxes per photo the -curve operating point may reach")
	step := flag.Float64("step", 0.05, "threshold step of -curve")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof -top)")
	dump := flag.String("dump", "", "also write every detection with its best IoU to this JSONL file (for tuning)")
	modelPath := flag.String("model", "", "age/gender model to score (default: the embedded models/agegender.onnx)")
	p := result.DefaultDetectParams()
	flag.Float64Var(&p.MinScore, "min-score", p.MinScore, "detector score threshold")
	flag.IntVar(&p.InputSize, "det-size", p.InputSize, "detection input long side")
	flag.IntVar(&p.SecondSide, "det-second-size", p.SecondSide, "second detection pass long side for larger photos (0: none)")
	detectorPath := flag.String("detector-model", "", "face detector ONNX file (default: the embedded YuNet)")
	flag.Float64Var(&p.MinSize, "min-face-size", p.MinSize, "drop faces smaller than this")
	flag.Parse()
	if *curveFrom > 0 {
		if !(*step > 0) {
			return fmt.Errorf("-step %g: want a positive step", *step)
		}
		p.MinScore = *curveFrom
	}

	photos, gt, err := readTruth(*root)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(photos) {
		photos = photos[:*limit]
	}
	eng, err := predict.Open(context.Background(), predict.Config{Model: *modelPath, Detector: *detectorPath,
		Mode: result.DetectOn, Detect: p})
	if err != nil {
		return err
	}
	defer eng.Close()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	found := make([][]result.Face, len(photos))
	errs := make([]error, len(photos))
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found[i], errs[i] = predictPhoto(eng, filepath.Join(*root, "images", photos[i]))
			}
		}()
	}
	for i := range photos {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil && !errors.Is(err, result.ErrNoFace) {
			return fmt.Errorf("%s: %w", photos[i], err)
		}
	}
	if *dump != "" {
		if err := writeDump(*dump, photos, gt, found); err != nil {
			return err
		}
	}
	if *curveFrom > 0 {
		printCurve(os.Stdout, photos, gt, found, *curveFrom, *step, *maxFalse)
	}
	s := score(photos, gt, found)
	s.PhotosPerSecond = round(float64(len(photos))/elapsed.Seconds(), 2)
	s.Params = fmt.Sprintf("%s, min-face-size %.0f, workers %d", eng.Info().Detector, p.MinSize, *workers)
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	s.print(os.Stdout)
	return nil
}

func predictPhoto(eng *predict.Engine, path string) ([]result.Face, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := preprocess.Decode(f, path, preprocess.Limits{})
	if err != nil {
		return nil, err
	}
	faces, errs := eng.Faces([]*image.NRGBA{preprocess.NRGBA(dec.Image)})
	return faces[0], errs[0]
}

// readTruth parses boxes.txt and joins demographics.csv onto its boxes.
func readTruth(root string) ([]string, map[string][]truth, error) {
	f, err := os.Open(filepath.Join(root, "boxes.txt"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var photos []string
	gt := map[string][]truth{}
	line := func() (string, error) {
		if !sc.Scan() {
			return "", io.ErrUnexpectedEOF
		}
		return strings.TrimSpace(sc.Text()), nil
	}
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		n, err := strconv.Atoi(l)
		if err != nil {
			return nil, nil, fmt.Errorf("boxes.txt: count for %s: %w", name, err)
		}
		var boxes []truth
		for k := 0; k < n; k++ {
			l, err := line()
			if err != nil {
				return nil, nil, err
			}
			var x, y, w, h float64
			var inv int
			if _, err := fmt.Sscan(l, &x, &y, &w, &h, &inv); err != nil {
				return nil, nil, fmt.Errorf("boxes.txt: %s box %d: %w", name, k, err)
			}
			boxes = append(boxes, truth{box: result.Box{X: x, Y: y, W: w, H: h}, invalid: inv == 1})
		}
		if n == 0 {
			line() // WIDER writes a dummy box line for photos without faces
		}
		photos = append(photos, name)
		gt[name] = boxes
	}
	df, err := os.Open(filepath.Join(root, "demographics.csv"))
	if err != nil {
		return nil, nil, err
	}
	defer df.Close()
	rows, err := csv.NewReader(df).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("demographics.csv: %w", err)
	}
	for _, r := range rows[1:] {
		k, err := strconv.Atoi(r[1])
		if err != nil || k >= len(gt[r[0]]) {
			continue
		}
		t := &gt[r[0]][k]
		if r[2] == "Male" || r[2] == "Female" {
			t.gender = r[2]
		}
		for _, g := range ageGroups {
			if r[3] == g {
				t.age = g
			}
		}
	}
	return photos, gt, nil
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

// writeDump records each detection and each valid truth box, so thresholds
// can be studied without rerunning the detector.
func writeDump(path string, photos []string, gt map[string][]truth, found [][]result.Face) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for i, name := range photos {
		for _, face := range found[i] {
			best, bestSide := 0.0, 0.0
			var bestBox result.Box
			for _, t := range gt[name] {
				if v := detect.IoU(t.box, face.Box); v > best {
					best, bestSide, bestBox = v, math.Min(t.box.W, t.box.H), t.box
				}
			}
			enc.Encode(map[string]any{"photo": name, "score": face.Score, "side": math.Max(face.Box.W, face.Box.H),
				"iou": best, "truth_side": bestSide, "box": face.Box, "truth": bestBox, "keypoints": face.Keypoints})
		}
	}
	return f.Close()
}
