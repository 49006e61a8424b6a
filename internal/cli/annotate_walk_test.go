package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An --annotate folder inside an input folder is not walked: its copies
// were read back as inputs (81 rows for 50 inputs), nesting deeper on each
// rerun; a later run, and merge's listing, skip it too.
func TestAnnotateFolderIsNotWalked(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	ann := filepath.Join(in, "annotated")
	want := ""
	for run := 0; run < 2; run++ {
		out := filepath.Join(dir, "o.jsonl")
		os.Remove(out)
		code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--force", "--annotate", ann, "--jsonl", out, in)
		if code == exitError {
			t.Fatalf("run %d: exit %d, %q", run, code, errOut)
		}
		data, _ := os.ReadFile(out)
		if n := strings.Count(string(data), "\n"); n != 42 || strings.Contains(string(data), ann) {
			t.Errorf("run %d: %d rows (want 42), annotated copies read: %v", run, n, strings.Contains(string(data), ann))
		}
		if run == 0 {
			want = string(data)
		} else if string(data) != want {
			t.Errorf("the second run's rows differ from the first's")
		}
	}
	if entries, _ := os.ReadDir(ann); len(entries) == 0 {
		t.Fatalf("no annotated copies were written")
	}
	merged := filepath.Join(dir, "m.jsonl")
	if code, _, errOut := runCLIEnv(t, nil, "", "merge", "--out", merged, filepath.Join(dir, "o.jsonl"), "--", in); code != exitOK {
		t.Errorf("merge over the same folder: exit %d, %q", code, errOut)
	}
}

// --annotate naming the input folder itself: the copies land in a subfolder
// of it; a rerun reads none of them back.
func TestAnnotateIntoInputFolder(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	for run := 0; run < 2; run++ {
		out := filepath.Join(dir, "o.jsonl")
		os.Remove(out)
		code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--force", "--annotate", in, "--jsonl", out, in)
		if code == exitError {
			t.Fatalf("run %d: exit %d, %q", run, code, errOut)
		}
		data, _ := os.ReadFile(out)
		if n := strings.Count(string(data), "\n"); n != 42 || strings.Contains(string(data), ".annotated.jpg") {
			t.Errorf("run %d: %d rows (want 42), annotated copies read: %v", run, n, strings.Contains(string(data), ".annotated.jpg"))
		}
	}
}
