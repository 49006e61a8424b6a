// Command framing measures where BlazeFace puts the face box and the eyes in
// UTKFace's "aligned & cropped" 200x200 images, so that faces detected in
// wild photos can be cropped with the same framing the model was trained on.
//
// Each crop is padded with 30% grey on every side (the detector needs margin),
// the most confident detection is mapped back into the crop's frame, and the
// medians over all crops are written as the "crop" block of the model
// metadata (training/crop_framing.json, read by training/main.py export).
//
//	go run ./bench/framing -data ../shared/data/utkface -out training/crop_framing.json
package main

import (
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
	"sort"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/agegender/agegender/internal/assets"
	"github.com/agegender/agegender/internal/detect"
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
	out := flag.String("out", "", "write the framing JSON here (default: stdout)")
	limit := flag.Int("limit", 2000, "crops to measure (0: all)")
	flag.Parse()

	lib, err := assets.ORTLibrary.Find("")
	if err != nil {
		return err
	}
	detPath, err := assets.Detector.Find("")
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return err
	}
	defer ort.DestroyEnvironment()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	det, err := detect.New(detPath, opts)
	if err != nil {
		return err
	}
	defer det.Close()

	names, err := filepath.Glob(filepath.Join(*data, "*.jpg"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no .jpg files in %s", *data)
	}
	sort.Strings(names)
	if *limit > 0 && len(names) > *limit {
		names = names[:*limit]
	}
	var bx, by, bs, ex, ey, ed []float64
	missed := 0
	params := detect.DefaultParams()
	params.TileSide = 0
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return err
		}
		dec, err := preprocess.Decode(f, n, preprocess.Limits{})
		f.Close()
		if err != nil {
			return err
		}
		img := preprocess.NRGBA(dec.Image)
		side := float64(max(img.Rect.Dx(), img.Rect.Dy()))
		pad := int(0.3 * side)
		padded := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx()+2*pad, img.Rect.Dy()+2*pad))
		draw.Draw(padded, padded.Rect, image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
		draw.Draw(padded, img.Rect.Add(image.Pt(pad, pad)), img, image.Point{}, draw.Src)
		dets, err := det.Detect(padded, params)
		if err != nil {
			return err
		}
		if len(dets) == 0 {
			missed++
			continue
		}
		d := dets[0]
		p := float64(pad)
		bx = append(bx, (d.Box.X+d.Box.W/2-p)/side)
		by = append(by, (d.Box.Y+d.Box.H/2-p)/side)
		bs = append(bs, math.Max(d.Box.W, d.Box.H)/side)
		re, le := d.Keypoints[detect.RightEye], d.Keypoints[detect.LeftEye]
		ex = append(ex, ((re.X+le.X)/2-p)/side)
		ey = append(ey, ((re.Y+le.Y)/2-p)/side)
		ed = append(ed, math.Hypot(le.X-re.X, le.Y-re.Y)/side)
	}
	if len(bx) == 0 {
		return errors.New("the detector found no face in any crop")
	}
	framing := map[string]any{
		"style":        "utkface-aligned-cropped",
		"box_center_x": median(bx), "box_center_y": median(by), "box_side": median(bs),
		"eye_center_x": median(ex), "eye_center_y": median(ey), "eye_distance": median(ed),
		"measured_on": fmt.Sprintf("%d UTKFace crops (%d without a detection), padded 30%%, BlazeFace back 256; medians as fractions of the crop side", len(bx), missed),
		"spread_iqr":  map[string]float64{"box_center_x": iqr(bx), "box_center_y": iqr(by), "box_side": iqr(bs), "eye_distance": iqr(ed)},
		"command":     strings.Join(append([]string{"go run ./bench/framing"}, os.Args[1:]...), " "),
	}
	b, err := json.MarshalIndent(framing, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *out == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
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
