package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/agegender/agegender/internal/outfile"
)

// Report file names. summary.json marks a folder as an eval report.
const (
	summaryFile        = "summary.json"
	IndexFile          = "index.html"
	ageScatterFile     = "age_scatter.png"
	maeByBucketFile    = "mae_by_bucket.png"
	genderByBucketFile = "gender_by_bucket.png"
)

// CheckReportDir says whether WriteReport may write into dir. It may when dir
// does not exist, is empty, or holds a summary.json from an earlier eval (a
// re-run, whose five files are then replaced and any other file left alone).
// Any other folder is refused, so that a mistyped --report never overwrites
// files that are not ours. Call it before a long run to fail early.
func CheckReportDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("report folder %s is a file", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("report folder: %w", err)
	}
	if len(entries) == 0 || isOurSummary(filepath.Join(dir, summaryFile)) {
		return nil
	}
	return fmt.Errorf("report folder %s is not empty and has no %s from an earlier eval; give a new or empty folder", dir, summaryFile)
}

// isOurSummary reports whether path is a JSON object with our counts, not
// just any file that happens to be called summary.json.
func isOurSummary(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe struct {
		Counts *Counts `json:"counts"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Counts != nil
}

// WriteJSON writes s as summary.json holds it and `eval --json` prints it:
// indented, with names and paths left unescaped for reading.
func WriteJSON(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// WriteReport writes summary.json, three plots and an index.html showing
// them into dir, creating it if needed (see CheckReportDir for which folders
// it accepts) and marking it as an output folder (outfile.MarkFolder), which
// folder walks skip. Everything is rendered before anything is written, and each
// file is written to a temporary file and renamed, so a failure never leaves
// a half-written file; summary.json goes first, so that even a report cut
// short is recognised as ours by the next run.
func WriteReport(dir string, s Summary, points []Point) error {
	if err := CheckReportDir(dir); err != nil {
		return err
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, s); err != nil {
		return fmt.Errorf("encode %s: %w", summaryFile, err)
	}
	scatter, err := ageScatter(s, points)
	if err != nil {
		return err
	}
	mae, err := maeByBucket(s)
	if err != nil {
		return err
	}
	gender, err := genderByBucket(s)
	if err != nil {
		return err
	}
	html, err := renderHTML(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report folder: %w", err)
	}
	// Marked as --annotate's folder is: a report inside the input folder
	// was read back as input (its plots) by the next run.
	if err := outfile.MarkFolder(dir); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{summaryFile, js.Bytes()},
		{ageScatterFile, scatter},
		{maeByBucketFile, mae},
		{genderByBucketFile, gender},
		{IndexFile, html},
	} {
		if err := writeFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	f, err := outfile.Create(path, true)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
