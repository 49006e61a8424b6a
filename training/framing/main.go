// Command framing measures where the face detector (YuNet) puts the face box, the eyes and
// the other keypoints in UTKFace's "aligned & cropped" 200x200 images, so that
// faces detected in wild photos can be cropped with the same framing the model
// was trained on.
//
// Each crop is padded with 30% grey on every side (the detector needs margin)
// and the most confident detection is mapped back into the crop's frame. It
// then chooses how to place a crop: by the eyes alone or by a least-squares
// fit to a set of keypoints. Each way is measured on the even-numbered crops
// and scored on the odd ones by how far its crop's corners fall from the true
// ones; the best one's medians over all crops are written as the "crop" block
// of the model metadata (training/crop_framing.json, read by training/main.py
// export). The scores go to stderr.
//
//	go run ./training/framing -data ../shared/data/utkface -out training/crop_framing.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "framing:", err)
		os.Exit(1)
	}
}

func run() error {
	data := flag.String("data", "../shared/data/utkface", "folder of UTKFace crops")
	outPath := flag.String("out", "", "write the framing JSON here (default: stdout)")
	limit := flag.Int("limit", 2000, "crops to measure (0: all)")
	flag.Parse()

	// Threads as ORT's default: one per core, as this tool ran before it
	// used the engine.
	eng, err := predict.Open(context.Background(), face.EngineConfig{
		Mode: face.DetectOn, Detect: face.DefaultDetectParams(), Threads: runtime.NumCPU(),
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	det := func(img *image.NRGBA, p face.DetectParams) ([]detect.Detection, error) {
		return eng.Detections(context.Background(), img, p)
	}

	names, err := filepath.Glob(filepath.Join(*data, "*.jpg"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no .jpg files in %s", *data)
	}
	sort.Strings(names)
	if *limit > 0 && len(names) > *limit {
		names = names[:*limit]
	}
	samples, missed, err := measureAll(det, names)
	if err != nil {
		return err
	}
	chosen, chosenErr := choose(samples)
	f := framing(samples, chosen)
	bs, ed := make([]float64, len(samples)), make([]float64, len(samples))
	bw, bh := make([]float64, len(samples)), make([]float64, len(samples))
	bx, by := make([]float64, len(samples)), make([]float64, len(samples))
	for i, s := range samples {
		bx[i], by[i], bs[i], ed[i] = s.boxCenterX, s.boxCenterY, s.boxSide, s.eyeDistance
		bw[i], bh[i] = s.boxWidth, s.boxHeight
	}
	out := map[string]any{
		"style":        "utkface-aligned-cropped",
		"box_center_x": f.BoxCenterX, "box_center_y": f.BoxCenterY, "box_side": f.BoxSide,
		// Not read by the engine: the box's own shape, for tests that paste
		// crops and need the box the detector should find.
		"box_width": median(bw), "box_height": median(bh),
		"eye_center_x": f.EyeCenterX, "eye_center_y": f.EyeCenterY, "eye_distance": f.EyeDistance,
		"measured_on": fmt.Sprintf("%d UTKFace crops (%d without a detection), padded 30%%, YuNet-n at long side 640; medians as fractions of the crop side", len(samples), missed),
		"spread_iqr":  map[string]float64{"box_center_x": iqr(bx), "box_center_y": iqr(by), "box_side": iqr(bs), "eye_distance": iqr(ed)},
		"placed_by":   fmt.Sprintf("%s: median corner error %.4f of the crop side on held-out crops", chosen.label, chosenErr),
		"command":     strings.Join(append([]string{"go run ./training/framing"}, os.Args[1:]...), " "),
	}
	if len(f.Keypoints) > 0 {
		out["keypoints"] = f.Keypoints
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *outPath == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(*outPath, b, 0o644)
}

// detectFunc runs the face detector with the given parameters.
type detectFunc func(img *image.NRGBA, p face.DetectParams) ([]detect.Detection, error)

// measureAll runs measure over the crops; missed counts those without a face.
func measureAll(det detectFunc, names []string) (samples []sample, missed int, err error) {
	params := face.DefaultDetectParams()
	for _, n := range names {
		s, ok, err := measure(det, params, n)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			missed++
			continue
		}
		samples = append(samples, s)
	}
	if len(samples) < 2 {
		return nil, 0, errors.New("the detector found a face in fewer than 2 crops")
	}
	return samples, missed, nil
}

// choose picks the way to place crops whose corners land nearest the true
// ones: each way's template is measured on the even-numbered crops and
// scored on the odd ones. The scores go to stderr.
func choose(samples []sample) (candidate, float64) {
	var train, test []sample
	for i, s := range samples {
		if i%2 == 0 {
			train = append(train, s)
		} else {
			test = append(test, s)
		}
	}
	fmt.Fprintf(os.Stderr, "crop corner error on %d held-out crops, as a fraction of the crop side:\n", len(test))
	fmt.Fprintf(os.Stderr, "  %-34s %7s %7s\n", "placed by", "median", "p90")
	var best candidate
	bestErr := math.Inf(1)
	for _, c := range candidates() {
		f := framing(train, c)
		errs := make([]float64, len(test))
		for j, s := range test {
			errs[j] = cornerError(predict.AlignedCrop(f, s.det), s.truth)
		}
		med := quantile(errs, 0.5)
		fmt.Fprintf(os.Stderr, "  %-34s %7.4f %7.4f\n", c.label, med, quantile(errs, 0.9))
		if med < bestErr {
			best, bestErr = c, med
		}
	}
	fmt.Fprintf(os.Stderr, "chosen: %s\n", best.label)
	return best, bestErr
}

// sample is one UTKFace crop as the detector saw it: the detection in the
// padded image, the crop's true place there, and the measurements as
// fractions of the crop side.
type sample struct {
	det                                 detect.Detection
	truth                               preprocess.Crop
	boxCenterX, boxCenterY, boxSide     float64
	boxWidth, boxHeight                 float64
	eyeCenterX, eyeCenterY, eyeDistance float64
	keypoints                           map[string]face.Point // by metadata name
}

// measure pads one crop with 30% grey (the detector needs margin) and maps
// the most confident detection back into the crop's frame.
func measure(det detectFunc, params face.DetectParams, path string) (sample, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return sample{}, false, err
	}
	dec, err := preprocess.Decode(f, path, preprocess.Limits{})
	f.Close()
	if err != nil {
		return sample{}, false, err
	}
	img := preprocess.NRGBA(dec.Image)
	side := float64(max(img.Rect.Dx(), img.Rect.Dy()))
	pad := int(0.3 * side)
	padded := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx()+2*pad, img.Rect.Dy()+2*pad))
	draw.Draw(padded, padded.Rect, image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	draw.Draw(padded, img.Rect.Add(image.Pt(pad, pad)), img, image.Point{}, draw.Src)
	dets, err := det(padded, params)
	if err != nil || len(dets) == 0 {
		return sample{}, false, err
	}
	d, p := dets[0], float64(pad)
	re, le := d.Keypoints[detect.RightEye], d.Keypoints[detect.LeftEye]
	s := sample{
		det: d,
		truth: preprocess.Crop{
			CenterX: p + float64(img.Rect.Dx())/2, CenterY: p + float64(img.Rect.Dy())/2, Side: side,
		},
		boxCenterX:  (d.Box.X + d.Box.W/2 - p) / side,
		boxCenterY:  (d.Box.Y + d.Box.H/2 - p) / side,
		boxSide:     math.Max(d.Box.W, d.Box.H) / side,
		boxWidth:    d.Box.W / side,
		boxHeight:   d.Box.H / side,
		eyeCenterX:  ((re.X+le.X)/2 - p) / side,
		eyeCenterY:  ((re.Y+le.Y)/2 - p) / side,
		eyeDistance: math.Hypot(le.X-re.X, le.Y-re.Y) / side,
	}
	s.keypoints = map[string]face.Point{}
	for _, name := range keypointNames() {
		kp, _ := d.Point(name)
		s.keypoints[name] = face.Point{X: (kp.X - p) / side, Y: (kp.Y - p) / side}
	}
	return s, true, nil
}

// candidate is a way to place the crop: by the eyes alone (no keypoint
// template) or by a least-squares fit to the named keypoints.
type candidate struct {
	label     string
	keypoints []string
}

// keypointNames are the detector's five points and the mouth's centre.
func keypointNames() []string {
	names := []string{"mouth"}
	for k := range detect.NumKeypoints {
		names = append(names, detect.KeypointName(k))
	}
	return names
}

func candidates() []candidate {
	eyes := []string{"right_eye", "left_eye"}
	corners := []string{"mouth_right", "mouth_left"}
	return []candidate{
		{"eyes (centre and distance)", nil},
		{"eyes, mouth centre", slices.Concat(eyes, []string{"mouth"})},
		{"eyes, mouth corners", slices.Concat(eyes, corners)},
		{"eyes, nose, mouth centre", slices.Concat(eyes, []string{"nose", "mouth"})},
		{"eyes, nose, mouth corners", slices.Concat(eyes, []string{"nose"}, corners)},
	}
}

// framing takes the medians over samples; the candidate's keypoints, if
// any, become the template the crop is fitted to.
func framing(samples []sample, c candidate) predict.Framing {
	col := func(get func(sample) float64) float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = get(s)
		}
		return median(v)
	}
	f := predict.Framing{
		Style:       "utkface-aligned-cropped",
		BoxCenterX:  col(func(s sample) float64 { return s.boxCenterX }),
		BoxCenterY:  col(func(s sample) float64 { return s.boxCenterY }),
		BoxSide:     col(func(s sample) float64 { return s.boxSide }),
		EyeCenterX:  col(func(s sample) float64 { return s.eyeCenterX }),
		EyeCenterY:  col(func(s sample) float64 { return s.eyeCenterY }),
		EyeDistance: col(func(s sample) float64 { return s.eyeDistance }),
	}
	if len(c.keypoints) > 0 {
		f.Keypoints = map[string][2]float64{}
		for _, name := range c.keypoints {
			f.Keypoints[name] = [2]float64{
				col(func(s sample) float64 { return s.keypoints[name].X }),
				col(func(s sample) float64 { return s.keypoints[name].Y }),
			}
		}
	}
	return f
}

// cornerError is the mean distance between the corners of got and of want,
// as a fraction of want's side: one figure for shift, scale and rotation.
func cornerError(got, want preprocess.Crop) float64 {
	var sum float64
	for _, u := range [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
		g, w := got.Source(u[0], u[1]), want.Source(u[0], u[1])
		sum += math.Hypot(g.X-w.X, g.Y-w.Y)
	}
	return sum / 4 / want.Side
}

func quantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return math.Round(s[len(s)/2]*10000) / 10000
}

func iqr(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return math.Round((s[len(s)*3/4]-s[len(s)/4])*10000) / 10000
}
