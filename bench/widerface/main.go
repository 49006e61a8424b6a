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
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	result "github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

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
	modelPath := flag.String("model", "", "age/gender model to score (default: the accurate preset; a preset name or a file)")
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
	eng, err := predict.Open(context.Background(), result.EngineConfig{Model: *modelPath, Detector: *detectorPath,
		Mode: result.DetectOn, Detect: p})
	if err != nil {
		return err
	}
	defer eng.Close()

	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	found, elapsed, err := predictAll(eng, filepath.Join(*root, "images"), photos, *workers)
	if err != nil {
		return err
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

// startProfile starts a CPU profile written to path; stop ends it and
// closes the file.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// predictAll finds and estimates the faces of every photo with a few
// workers, and returns them in the photos' order with the time taken. A
// photo without a face is no error.
func predictAll(eng *predict.Engine, dir string, photos []string, workers int) ([][]result.Face, time.Duration, error) {
	found := make([][]result.Face, len(photos))
	errs := make([]error, len(photos))
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found[i], errs[i] = predictPhoto(eng, filepath.Join(dir, photos[i]))
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
			return nil, 0, fmt.Errorf("%s: %w", photos[i], err)
		}
	}
	return found, elapsed, nil
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
