package eval

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/input"
)

func TestWriteReport(t *testing.T) {
	sc := handScorer()
	sum := sc.Summary()
	sum.Model, sum.Detect, sum.Split = "agegender.onnx", "off", "val"
	dir := filepath.Join(t.TempDir(), "report")
	if err := WriteReport(dir, sum, sc.Points()); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{ageScatterFile, maeByBucketFile, genderByBucketFile} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
			t.Errorf("%s is only %v", name, b)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, summaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if !reflect.DeepEqual(back, sum) {
		t.Errorf("summary.json reads back as\n%+v\nwant\n%+v", back, sum)
	}

	html, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`src="age_scatter.png"`, `src="mae_by_bucket.png"`, `src="gender_by_bucket.png"`,
		`href="summary.json"`, "5.50", "c.jpg", "h.jpg: no such file", "age 40-59", "White"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}

	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Errorf("report folder has %d entries, want the 5 files and the output marker (no temporary files left)", len(entries))
	}
}

// A report written inside the input folder is not read back as input by
// the next run's walk: --annotate's folder was marked, --report's was not.
func TestReportInsideInputsIsNotInput(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.png"), []byte("x"), 0o644)
	sc := handScorer()
	if err := WriteReport(filepath.Join(root, "report"), sc.Summary(), sc.Points()); err != nil {
		t.Fatal(err)
	}
	for in := range input.Walk([]string{root}, input.DefaultExtensions) {
		if filepath.Base(in.Name) != "a.png" {
			t.Errorf("the walk of the input folder yields %s", in.Name)
		}
	}
}

func TestWriteReportEmpty(t *testing.T) {
	sc := newScorer()
	if err := WriteReport(t.TempDir(), sc.Summary(), sc.Points()); err != nil {
		t.Fatalf("a report with nothing scored: %v", err)
	}
}

// TestReportDirRule checks that a report only goes into a new or empty folder,
// or over an earlier report, leaving other files there alone.
func TestReportDirRule(t *testing.T) {
	sc := handScorer()
	write := func(dir string) error { return WriteReport(dir, sc.Summary(), sc.Points()) }

	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "thesis.tex"), []byte("mine"), 0o644)
	if err := write(busy); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("write into a folder with other files: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(busy, summaryFile)); err == nil {
		t.Error("a refused folder got a summary.json")
	}

	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, summaryFile), []byte(`{"total": 3}`), 0o644)
	if err := write(foreign); err == nil {
		t.Error("a summary.json that is not ours was overwritten")
	}

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if err := write(file); err == nil {
		t.Error("a report was written over a file")
	}

	rerun := t.TempDir()
	if err := write(rerun); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rerun, "notes.txt"), []byte("kept"), 0o644)
	if err := write(rerun); err != nil {
		t.Errorf("re-run into an earlier report: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(rerun, "notes.txt")); err != nil || string(b) != "kept" {
		t.Errorf("re-run touched another file: %q, %v", b, err)
	}
}
