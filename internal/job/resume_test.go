package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/report"
)

func TestReadPlan(t *testing.T) {
	in := names(3)
	jsonl := records(t, report.FormatJSONL, 1, in...)
	csv := records(t, report.FormatCSV, 2, in...)
	lastCSV := strings.Index(csv, in[2]) // where the last input's rows start
	for _, tc := range []struct {
		name     string
		format   report.Format
		file     string
		done     int
		redoLast bool
		cut      int64
		notes    []string
	}{
		{"empty", report.FormatJSONL, "", 0, false, -1, nil},
		{"whole JSON Lines", report.FormatJSONL, jsonl, 3, false, -1,
			[]string{"agegender: resuming f: 3 inputs already done"}},
		{"a torn last line", report.FormatJSONL, jsonl[:len(jsonl)-3], 2, false, int64(strings.Index(jsonl, `{"input":"d/02.png"`)),
			[]string{"agegender: f: the last row was cut short by a killed run; removed, its input is done again",
				"agegender: resuming f: 2 inputs already done"}},
		{"CSV redoes its last input", report.FormatCSV, csv, 3, true, int64(lastCSV),
			[]string{"agegender: resuming f: 2 inputs already done; its last input (d/02.png) is done again, since CSV cannot show whether all its faces were written"}},
	} {
		p, err := readPlan(strings.NewReader(tc.file), "f", tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(p.done) != tc.done || p.redoLast != tc.redoLast || p.cut != tc.cut || !slices.Equal(p.notes, tc.notes) {
			t.Errorf("%s: done %d, redo last %v, cut at %d, notes %q; want %d, %v, %d, %q",
				tc.name, len(p.done), p.redoLast, p.cut, p.notes, tc.done, tc.redoLast, tc.cut, tc.notes)
		}
	}
	if _, err := readPlan(strings.NewReader("not a record\n"), "f", report.FormatJSONL); err == nil || !strings.Contains(err.Error(), "it is left as it is") {
		t.Errorf("a file that is not ours: %v", err)
	}
}

// Pending checks the file against the listing before any input runs, and
// cuts or leaves the file only once it knows.
func TestPendingChecksTheListing(t *testing.T) {
	in := names(5)
	rec := func(names ...string) string { return records(t, report.FormatJSONL, 1, names...) }
	for _, tc := range []struct {
		name    string
		file    string
		pending []string
		refused string
	}{
		{"a prefix", rec(in[0], in[1]), in[2:], ""},
		{"a torn prefix", rec(in[0], in[1])[:len(rec(in[0]))+10], in[1:], ""},
		{"out of order", rec(in[0], in[2]), nil, `line 2: the row for "d/02.png" is out of order: the listing has "d/01.png" before it`},
		{"a duplicate", rec(in[0], in[0]), nil, `line 2: a second row for "d/00.png", whose first is on line 1`},
		{"not in the listing", rec(in[0], "x.png"), nil, `line 2: a row for "x.png", which is not in the listing`},
	} {
		path := filepath.Join(t.TempDir(), "out.jsonl")
		os.WriteFile(path, []byte(tc.file), 0o644)
		r, err := Resume(context.Background(), nil, path, report.FormatJSONL, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for p := range r.Pending(listing(in...), func(string) {}) {
			got = append(got, p.Name)
		}
		if err := r.Abort(context.Background()); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(path)
		switch {
		case tc.refused != "":
			if r.Refused() == nil || !strings.Contains(r.Refused().Error(), tc.refused) || len(got) > 0 {
				t.Errorf("%s: refused %v after yielding %q, want %q", tc.name, r.Refused(), got, tc.refused)
			}
			if string(after) != tc.file {
				t.Errorf("%s: a refused file was changed", tc.name)
			}
		case r.Refused() != nil || !slices.Equal(got, tc.pending):
			t.Errorf("%s: pending %q (refused %v), want %q", tc.name, got, r.Refused(), tc.pending)
		case !strings.HasPrefix(tc.file, string(after)) || strings.Count(string(after), "\n") != len(in)-len(tc.pending):
			t.Errorf("%s: file left as %q", tc.name, after)
		}
	}
}

// What cannot be appended to is refused with an error that says so in
// job's terms, for the command to word with its flags.
func TestResumeRefusesWhatCannotBeAppendedTo(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(filepath.Join(dir, "target.jsonl"), link)
	for _, tc := range []struct {
		path   string
		format report.Format
	}{
		{"-", report.FormatJSONL},
		{filepath.Join(dir, "a.json"), report.FormatJSON},
		{filepath.Join(dir, "a.txt"), report.FormatTable},
	} {
		_, err := Resume(context.Background(), nil, tc.path, tc.format, 0)
		var na *NotAppendableError
		if !errors.As(err, &na) || na.Path != tc.path || na.Format != tc.format {
			t.Errorf("%s as %s: %v, want a NotAppendableError", tc.path, tc.format, err)
		}
	}
	_, err := Resume(context.Background(), nil, link, report.FormatJSONL, 0)
	var re *ResumeError
	if !errors.As(err, &re) || re.Path != link || re.Refused || !strings.Contains(re.Err.Error(), "symbolic link") {
		t.Errorf("resume through a symbolic link: %v, want a ResumeError", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "target.jsonl")); err == nil {
		t.Error("a write went through the link")
	}
}

// A hard link at the path is refused like a symbolic one, and the file it
// shares is left as it is.
func TestResumeRefusesAHardLink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "precious.jsonl")
	os.WriteFile(other, []byte("{\"input\":\"x\"}\n{\"inp"), 0o644)
	link := filepath.Join(dir, "out.jsonl")
	if err := os.Link(other, link); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if _, err := Resume(context.Background(), nil, link, report.FormatJSONL, 0); err == nil || !strings.Contains(err.Error(), "2 hard links") {
		t.Errorf("resume through a hard link: %v", err)
	}
	if got, _ := os.ReadFile(other); string(got) != "{\"input\":\"x\"}\n{\"inp" {
		t.Errorf("the linked file became %q", got)
	}
}
