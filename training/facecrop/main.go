// Command facecrop crops every face data set that training adds to UTKFace
// (CelebA-HQ) with our own detector and alignment, so that its crops are
// framed as Go frames a face in a photo, and as UTKFace's crops are.
//
// For each image listed in a labels CSV (file,male,...) it keeps the most
// confident detection, writes its aligned crop as a PNG under -out, and
// writes -out/crops.csv (file,male,score). Images with no detection are
// counted and left out.
//
//	go run ./training/facecrop -labels ../shared/data/celebahq/labels.csv -out training/.cache/celebahq-crops
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agegender/agegender/internal/assets"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/models"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "facecrop:", err)
		os.Exit(1)
	}
}

func run() error {
	labelsPath := flag.String("labels", "../shared/data/celebahq/labels.csv", "CSV of file,male,... (file relative to the CSV's folder)")
	outDir := flag.String("out", "training/.cache/celebahq-crops", "folder for the crops and crops.csv")
	limit := flag.Int("limit", 0, "crop only the first N images (0: all)")
	flag.Parse()

	rows, err := readLabels(*labelsPath)
	if err != nil {
		return err
	}
	if *limit > 0 && len(rows) > *limit {
		rows = rows[:*limit]
	}
	lib, err := assets.ORTLibrary.Find("")
	if err != nil {
		return err
	}
	eng, err := predict.New(predict.Options{LibraryPath: lib, Model: models.Default(), ModelName: models.DefaultName,
		Detector: models.Detector(), DetectorName: models.DetectorName, Mode: face.DetectOn, Detect: face.DefaultDetectParams()})
	if err != nil {
		return err
	}
	defer eng.Close()

	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	var out strings.Builder
	out.WriteString("file,male,score\n")
	base := filepath.Dir(*labelsPath)
	missed := 0
	for i, r := range rows {
		best, err := cropOne(eng, filepath.Join(base, r.file), filepath.Join(*outDir, cropName(r.file)))
		if errors.Is(err, face.ErrNoFace) {
			missed++
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%s,%d,%.4f\n", cropName(r.file), r.male, best.Score)
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, "facecrop: %d/%d\n", i+1, len(rows))
		}
	}
	if err := os.WriteFile(filepath.Join(*outDir, "crops.csv"), []byte(out.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "facecrop: %d crops, %d images without a face, in %s\n", len(rows)-missed, missed, *outDir)
	return nil
}

type labelRow struct {
	file string
	male int
}

func readLabels(path string) ([]labelRow, error) {
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
	if len(header) < 2 || header[0] != "file" || header[1] != "male" {
		return nil, fmt.Errorf("%s: header must start with file,male", path)
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
		male, err := strconv.Atoi(rec[1])
		if err != nil || (male != 0 && male != 1) {
			return nil, fmt.Errorf("%s: %s: male must be 0 or 1, not %q", path, rec[0], rec[1])
		}
		rows = append(rows, labelRow{file: rec[0], male: male})
	}
}

// cropName flattens a relative image path into one PNG file name.
func cropName(file string) string {
	return strings.ReplaceAll(strings.TrimSuffix(file, filepath.Ext(file)), "/", "_") + ".png"
}

// cropOne writes the aligned crop of the most confident face of src to dst.
func cropOne(eng *predict.Engine, src, dst string) (face.Face, error) {
	f, err := os.Open(src)
	if err != nil {
		return face.Face{}, err
	}
	defer f.Close()
	dec, err := preprocess.Decode(f, src, preprocess.Limits{})
	if err != nil {
		return face.Face{}, err
	}
	faces, err := eng.AlignedFaces(preprocess.NRGBA(dec.Image))
	if err != nil {
		return face.Face{}, fmt.Errorf("%s: %w", src, err)
	}
	if len(faces) == 0 {
		return face.Face{}, face.ErrNoFace
	}
	w, err := os.Create(dst)
	if err != nil {
		return face.Face{}, err
	}
	if err := png.Encode(w, faces[0].Crop); err != nil {
		w.Close()
		return face.Face{}, fmt.Errorf("%s: %w", dst, err)
	}
	return faces[0].Face, w.Close()
}
