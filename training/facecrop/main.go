// Command facecrop crops the faces of a training data set exactly as
// agegender frames them for the model: the same engine, detection mode and
// aligned template as `agegender predict` with its default flags, padded
// retry and crop-like fallback included. Training reads nothing else, so it
// sees exactly what inference sees, whatever the source's own framing
// (UTKFace chips, AAF portraits, CelebA-HQ heads).
//
// Labels come from UTKFace file names (-folder) or from a CSV (-labels) with
// a header that starts with file and has either male (CelebA-HQ: 1/0, no age),
// age and gender (AAF: gender 0 male, 1 female), or gender alone
// (wider-faces: -1 for not sure, kept with female -1). For each image the
// largest face is kept, as `agegender eval` scores it, and written as a PNG
// under -out; -out/crops.csv lists file,source,age,female,race,detected,score
// (age, race and female -1 when unknown). Images where no face is found are
// counted and left out. -margin widens every crop around the template by
// that factor (training/v4 cuts the margin it studies out of one wide crop).
//
//	go run ./training/facecrop -folder ../shared/data/utkface -out training/.cache/crops/utkface
//	go run ./training/facecrop -labels ../shared/data/aaf/labels.csv -out training/.cache/crops/aaf
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/agegender/agegender/internal/eval"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/preprocess"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "facecrop:", err)
		os.Exit(1)
	}
}

func run() error {
	folder := flag.String("folder", "", "folder of UTKFace-named images (AGE_GENDER_RACE_*.jpg)")
	labelsPath := flag.String("labels", "", "CSV of file,male or file,age,gender (file relative to the CSV's folder)")
	outDir := flag.String("out", "", "folder for the crops and crops.csv")
	limit := flag.Int("limit", 0, "crop only the first N images (0: all)")
	workers := flag.Int("workers", runtime.NumCPU(), "images cropped in parallel")
	images := flag.String("images", "", "folder the -labels file names are relative to (default: the CSV's own)")
	margin := flag.Float64("margin", 0, "scale each crop's side around the template by this factor (0: the model's own)")
	flag.Parse()
	if (*folder == "") == (*labelsPath == "") || *outDir == "" {
		return errors.New("give -out and exactly one of -folder or -labels")
	}

	var rows []labelRow
	var err error
	if *folder != "" {
		rows, err = readUTKFolder(*folder)
	} else {
		rows, err = readLabels(*labelsPath, *images)
	}
	if err != nil {
		return err
	}
	if *limit > 0 && len(rows) > *limit {
		rows = rows[:*limit]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	eng, err := predict.Open(ctx, face.EngineConfig{Mode: face.DetectAuto, Detect: face.DefaultDetectParams(),
		CropMargin: *margin})
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}

	results := cropAll(ctx, eng, rows, *outDir, max(1, *workers))
	var out strings.Builder
	out.WriteString("file,source,age,female,race,detected,score\n")
	missed, whole := 0, 0
	for i, r := range results {
		if r.err != nil {
			return r.err
		}
		if r.crop == "" {
			missed++
			continue
		}
		if !r.face.Detected {
			whole++
		}
		row := rows[i]
		fmt.Fprintf(&out, "%s,%s,%d,%d,%d,%t,%.4f\n", r.crop, row.file, row.age, row.female, row.race, r.face.Detected, r.face.Score)
	}
	if err := os.WriteFile(filepath.Join(*outDir, "crops.csv"), []byte(out.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "facecrop: %d crops (%d whole images, no face found), %d images without a face, in %s\n",
		len(rows)-missed, whole, missed, *outDir)
	return nil
}

// labelRow is one labelled image; age and race are -1 when the source does
// not give them.
type labelRow struct {
	path   string // as read
	file   string // as named in crops.csv: relative to the folder or CSV
	age    int
	female int
	race   int
}

type cropResult struct {
	crop string // the PNG's name under -out, or "" without a face
	face face.Face
	err  error
}

// cropAll crops every row with a few workers; results keep the rows' order.
func cropAll(ctx context.Context, eng *predict.Engine, rows []labelRow, outDir string, workers int) []cropResult {
	results := make([]cropResult, len(rows))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				name := cropName(rows[i].file)
				f, err := cropOne(ctx, eng, rows[i].path, filepath.Join(outDir, name))
				switch {
				case errors.Is(err, face.ErrNoFace):
				case err != nil:
					results[i].err = err
				default:
					results[i] = cropResult{crop: name, face: f}
				}
			}
		})
	}
	for i := range rows {
		if ctx.Err() != nil {
			results[i].err = ctx.Err()
			continue
		}
		next <- i
		if (i+1)%2000 == 0 {
			fmt.Fprintf(os.Stderr, "facecrop: %d/%d\n", i+1, len(rows))
		}
	}
	close(next)
	wg.Wait()
	return results
}

// readUTKFolder lists the UTKFace-named images of dir, labelled by their names.
func readUTKFolder(dir string) ([]labelRow, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var rows []labelRow
	skipped := 0
	for _, e := range entries {
		l, ok := eval.ParseUTKName(e.Name())
		if !ok || !e.Type().IsRegular() {
			skipped++
			continue
		}
		female := 0
		if l.Gender == face.Female {
			female = 1
		}
		rows = append(rows, labelRow{path: filepath.Join(dir, e.Name()), file: e.Name(), age: int(l.Age), female: female, race: l.Race})
	}
	if skipped > 0 {
		fmt.Fprintf(os.Stderr, "facecrop: %s: %d names skipped (not AGE_GENDER_RACE_*)\n", dir, skipped)
	}
	return rows, nil
}

// readLabels reads a labels CSV: file,male (gender only), file,age,gender
// (gender 0 male, 1 female, as in UTKFace names) or file,gender (gender
// only, -1 for not sure), other columns ignored.
func readLabels(path, images string) ([]labelRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := func(name string) int { return slices.Index(header, name) }
	fileCol, maleCol, ageCol, genderCol := col("file"), col("male"), col("age"), col("gender")
	if fileCol < 0 || (maleCol < 0 && genderCol < 0) {
		return nil, fmt.Errorf("%s: header must have file and male, or file and gender (and age)", path)
	}
	base := images
	if base == "" {
		base = filepath.Dir(path)
	}
	var rows []labelRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		row := labelRow{path: filepath.Join(base, rec[fileCol]), file: rec[fileCol], age: -1, race: -1}
		if maleCol >= 0 {
			male, err := binary(rec[maleCol])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: male %w", path, rec[fileCol], err)
			}
			row.female = 1 - male
		} else if ageCol < 0 {
			// Gender alone, where -1 marks a face its annotators were not sure of.
			if row.female, err = binary(rec[genderCol]); err != nil && rec[genderCol] != "-1" {
				return nil, fmt.Errorf("%s: %s: gender %w or -1", path, rec[fileCol], err)
			}
			if rec[genderCol] == "-1" {
				row.female = -1
			}
		} else {
			if row.female, err = binary(rec[genderCol]); err != nil {
				return nil, fmt.Errorf("%s: %s: gender %w", path, rec[fileCol], err)
			}
			if row.age, err = strconv.Atoi(rec[ageCol]); err != nil || row.age < 0 || row.age > 120 {
				return nil, fmt.Errorf("%s: %s: age %q is not a number of years", path, rec[fileCol], rec[ageCol])
			}
		}
		rows = append(rows, row)
	}
}

func binary(s string) (int, error) {
	switch s {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	}
	return 0, fmt.Errorf("must be 0 or 1, not %q", s)
}

// cropName flattens a relative image path into one PNG file name.
func cropName(file string) string {
	return strings.ReplaceAll(strings.TrimSuffix(file, filepath.Ext(file)), "/", "_") + ".png"
}

// cropOne writes the crop of the largest face of src, as eval scores it, to dst.
func cropOne(ctx context.Context, eng *predict.Engine, src, dst string) (face.Face, error) {
	f, err := os.Open(src)
	if err != nil {
		return face.Face{}, err
	}
	defer f.Close()
	dec, err := preprocess.Decode(f, src, preprocess.Limits{})
	if err != nil {
		return face.Face{}, err
	}
	faces, err := eng.AlignedFaces(ctx, preprocess.NRGBA(dec.Image))
	if err != nil {
		return face.Face{}, fmt.Errorf("%s: %w", src, err)
	}
	if len(faces) == 0 {
		return face.Face{}, face.ErrNoFace
	}
	found := make([]face.Face, len(faces))
	for i, af := range faces {
		found[i] = af.Face
	}
	best := faces[face.Largest(found)]
	w, err := os.Create(dst)
	if err != nil {
		return face.Face{}, err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, best.Crop); err != nil {
		w.Close()
		return face.Face{}, fmt.Errorf("%s: %w", dst, err)
	}
	return best.Face, w.Close()
}
