package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/agegender/agegender/internal/face"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const goldenDir = "../../testdata/golden"

// TestMain pins tablewriter's width rules, which it otherwise takes from the
// locale (box-drawing characters are double width in CJK locales), so that the
// table goldens do not depend on the machine running the tests.
func TestMain(m *testing.M) {
	twwidth.SetEastAsian(false)
	os.Exit(m.Run())
}

func years(v float64) *float64 { return &v }

// fixtures covers each shape of row: several faces (with age intervals), an
// undetected whole-image face, a failed input, an input without faces, and a
// name CSV must quote (from a model without intervals).
func fixtures() []face.Image {
	return []face.Image{
		{
			Input: "photos/family.jpg", Width: 1920, Height: 1080, Detect: face.DetectAuto,
			Faces: []face.Face{
				{
					Index: 0, Box: face.Box{X: 412.4, Y: 118.6, W: 201.5, H: 254.49}, Score: 0.98765,
					Keypoints: []face.Point{{X: 470.25, Y: 200.5}, {X: 550, Y: 198.75}, {X: 512, Y: 250}, {X: 511, Y: 300}, {X: 430, Y: 220}, {X: 600, Y: 215}},
					Age:       34.4567, AgeLow: years(29.04), AgeHigh: years(40.96),
					Gender: face.Female, GenderProbability: 0.91234, Detected: true,
				},
				{
					Index: 1, Box: face.Box{X: -0.3, Y: 90.5, W: 150, H: 180.2}, Score: 0.5004,
					Age: 7.05, AgeLow: years(0), AgeHigh: years(11.5), Gender: face.Male, GenderProbability: 0.5, Detected: true,
				},
			},
		},
		{
			Input: "crops/face_001.png", Width: 224, Height: 224, Detect: face.DetectAuto,
			Faces: []face.Face{
				{Index: 0, Box: face.Box{W: 224, H: 224}, Age: 61.96, AgeLow: years(52.3), AgeHigh: years(70.1),
					Gender: face.Male, GenderProbability: 0.7777, Detected: false},
			},
		},
		{
			Input: "truncated.jpg", Detect: face.DetectAuto,
			Err: errors.New("decode truncated.jpg: unexpected EOF"),
		},
		{
			Input: "landscape.jpg", Width: 640, Height: 480, Detect: face.DetectAuto,
		},
		{
			Input: `odd, "quoted" name.jpg`, Width: 300, Height: 400, Detect: face.DetectOff,
			Faces: []face.Face{
				{Index: 0, Box: face.Box{W: 300, H: 400}, Age: 25, Gender: face.Female, GenderProbability: 0.999, Detected: false},
			},
		},
	}
}

func render(t *testing.T, f Format, opts Options, ims []face.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(f, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range ims {
		if err := w.Write(im); err != nil {
			t.Fatalf("Write(%s): %v", im.Input, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		opts   Options
	}{
		{"table_tty.txt", FormatTable, Options{TTY: true}},
		{"table.txt", FormatTable, Options{}},
		{"results.csv", FormatCSV, Options{}},
		{"results.json", FormatJSON, Options{}},
		{"results.jsonl", FormatJSONL, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.format, tt.opts, fixtures())
			path := filepath.Join(goldenDir, tt.name)
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden (run with -update if intended)\ngot:\n%s\nwant:\n%s", tt.name, got, want)
			}
		})
	}
}

func TestCSVRoundTrip(t *testing.T) {
	ims := fixtures()
	want := 0
	for _, im := range ims {
		want += max(len(im.Faces), 1)
	}
	recs, err := csv.NewReader(bytes.NewReader(render(t, FormatCSV, Options{}, ims))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != want+1 {
		t.Fatalf("got %d records, want header + %d rows", len(recs), want)
	}
	if got := strings.Join(recs[0], ","); got != strings.Join(columns[:], ",") {
		t.Errorf("header = %s", got)
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if len(r) != len(columns) {
			t.Errorf("row %q has %d fields, want %d", r, len(r), len(columns))
		}
		seen[r[0]] = true
	}
	for _, im := range ims {
		if !seen[im.Input] {
			t.Errorf("input %q missing from CSV", im.Input)
		}
	}
}

func TestJSONParses(t *testing.T) {
	ims := fixtures()
	var got []map[string]any
	if err := json.Unmarshal(render(t, FormatJSON, Options{}, ims), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ims) {
		t.Fatalf("got %d objects, want %d", len(got), len(ims))
	}
	for i, o := range got {
		if _, ok := o["faces"].([]any); !ok {
			t.Errorf("object %d: faces = %#v, want an array", i, o["faces"])
		}
		_, hasErr := o["error"]
		if hasErr != ims[i].Failed() {
			t.Errorf("object %d: error present = %v, want %v", i, hasErr, ims[i].Failed())
		}
	}
}

func TestJSONLParses(t *testing.T) {
	ims := fixtures()
	lines := strings.Split(strings.TrimSuffix(string(render(t, FormatJSONL, Options{}, ims)), "\n"), "\n")
	if len(lines) != len(ims) {
		t.Fatalf("got %d lines, want %d", len(lines), len(ims))
	}
	for i, l := range lines {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Errorf("line %d: %v", i, err)
		}
	}
}

func TestEmpty(t *testing.T) {
	if got := string(render(t, FormatJSON, Options{}, nil)); got != "[]\n" {
		t.Errorf("json with no writes = %q, want %q", got, "[]\n")
	}
	if got := string(render(t, FormatJSONL, Options{}, nil)); got != "" {
		t.Errorf("jsonl with no writes = %q, want nothing", got)
	}
	if got, want := string(render(t, FormatCSV, Options{}, nil)), strings.Join(columns[:], ",")+"\n"; got != want {
		t.Errorf("csv with no writes = %q, want %q", got, want)
	}
	for _, tty := range []bool{false, true} {
		if got := string(render(t, FormatTable, Options{TTY: tty}, nil)); !strings.Contains(strings.ToLower(got), "gender") {
			t.Errorf("table (TTY %v) with no writes lacks its header: %q", tty, got)
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatCSV, FormatJSON, FormatJSONL} {
		w, err := New(f, new(bytes.Buffer), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(fixtures()[0]); err == nil {
			t.Errorf("%s: Write after Close succeeded", f)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: second Close: %v", f, err)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("xml", new(bytes.Buffer), Options{}); err == nil {
		t.Error("New(xml) succeeded")
	}
}

func TestFixed(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		prec int
		want string
	}{
		{-0.3, 0, "0"}, {-0.04, 1, "0.0"}, {-1.6, 0, "-2"}, {254.49, 0, "254"}, {0.9995, 3, "1.000"}, {34.4567, 1, "34.5"},
	} {
		if got := fixed(tt.v, tt.prec); got != tt.want {
			t.Errorf("fixed(%v, %d) = %q, want %q", tt.v, tt.prec, got, tt.want)
		}
	}
}
