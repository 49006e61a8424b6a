package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// wholeRun runs batch over in into a file of ext and returns its lines.
func wholeRun(t *testing.T, in, ext string) []string {
	t.Helper()
	whole := filepath.Join(t.TempDir(), "whole."+ext)
	if code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--"+ext, whole, in); code == exitError {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	data, _ := os.ReadFile(whole)
	return strings.SplitAfter(string(data), "\n")
}

// csvCell rewrites cell col of a CSV line.
func csvCell(t *testing.T, line string, col int, v string) string {
	t.Helper()
	row, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		t.Fatal(err)
	}
	row[col] = v
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(row)
	w.Flush()
	return b.String()
}

// --resume checks its file against the listing as merge checks shards:
// rows for inputs not in the listing, duplicated or out-of-order rows, bare
// rows without a result and CSV cells that are not numbers are refused,
// naming the file, the line and the reason, and the file is left as it is.
func TestResumeValidatesAgainstListing(t *testing.T) {
	in := shardTree(t)
	j := wholeRun(t, in, "jsonl")
	c := wholeRun(t, in, "csv") // c[0] is the header
	foreign := `{"input":"/etc/shadow","detect":"auto","faces":[]}` + "\n"
	bare := `{"input":` + strings.SplitN(j[1], ",", 2)[0][len(`{"input":`):] + "}\n"
	dir := t.TempDir()
	for _, tc := range []struct {
		name, ext, content, want string
	}{
		{"foreign", "jsonl", j[0] + foreign + j[1], `line 2: a row for "/etc/shadow", which is not in the listing`},
		{"duplicated", "jsonl", j[0] + j[0] + j[1], "line 2: a second row for"},
		{"duplicated later", "jsonl", j[0] + j[1] + j[0], "line 3: a second row for"},
		{"out of order", "jsonl", j[1] + j[0], "line 1: the row for"},
		{"bare", "jsonl", j[0] + bare + j[2], "line 2 is not a whole agegender record"},
		{"csv foreign", "csv", c[0] + c[1] + csvCell(t, c[2], 0, "/etc/shadow") + c[3] + c[4], `line 3: a row for "/etc/shadow", which is not in the listing`},
		{"csv out of order", "csv", c[0] + c[2] + c[1] + c[3], "line 2: the row for"},
		{"csv face", "csv", c[0] + c[1] + csvCell(t, c[2], 1, "one") + c[3], `line 3: face "one" is not a whole number`},
		{"csv detected", "csv", c[0] + c[1] + c[2] + csvCell(t, c[3], 2, "maybe") + c[4], `line 4: detected "maybe" is not true or false`},
		{"csv age", "csv", c[0] + c[1] + c[2] + csvCell(t, c[3], 8, "old") + c[4], `line 4: age "old" is not a number`},
		{"csv no face", "csv", c[0] + c[1] + csvCell(t, c[2], 3, "12") + c[3], `line 3: x "12" is set in a row with no face`},
	} {
		out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+"."+tc.ext)
		if err := os.WriteFile(out, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--"+tc.ext, out, in)
		if code != exitError || !strings.Contains(errOut, out) || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 naming the file with %q", tc.name, code, errOut, tc.want)
		}
		if got, _ := os.ReadFile(out); string(got) != tc.content {
			t.Errorf("%s: the refused file was changed:\n%s", tc.name, got)
		}
	}
}

// A symbolic link at the --resume path is refused, as it is without
// --resume, rather than written through: a link to a file and a dangling one.
func TestResumeRefusesSymlink(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "target.jsonl")
	os.WriteFile(target, []byte(wholeRun(t, in, "jsonl")[0]), 0o644)
	before, _ := os.ReadFile(target)
	for _, dest := range []string{target, filepath.Join(dir, "absent.jsonl")} {
		link := filepath.Join(dir, "out.jsonl")
		os.Remove(link)
		if err := os.Symlink(dest, link); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--jsonl", link, in)
		if code != exitError || !strings.Contains(errOut, "symbolic link") {
			t.Errorf("link to %s: exit %d, stderr %q", dest, code, errOut)
		}
	}
	if got, _ := os.ReadFile(target); string(got) != string(before) {
		t.Errorf("written through the link")
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.jsonl")); err == nil {
		t.Errorf("a dangling link's target was created")
	}
}

// merge refuses what --resume refuses, with the same words: a duplicated
// row is named as one, not as a shard that did not finish.
func TestMergeNamesBadRows(t *testing.T) {
	in := shardTree(t)
	j := wholeRun(t, in, "jsonl")
	c := wholeRun(t, in, "csv")
	dir := t.TempDir()
	bare := `{"input":` + strings.SplitN(j[1], ",", 2)[0][len(`{"input":`):] + "}\n"
	for _, tc := range []struct{ name, ext, content, want string }{
		{"duplicated", "jsonl", j[0] + j[0] + strings.Join(j[1:], ""), "line 2: a second row for"},
		{"duplicated last", "jsonl", strings.Join(j, "") + j[len(j)-2], "a second row for"},
		{"bare", "jsonl", j[0] + bare + strings.Join(j[2:], ""), "line 2 is not a whole agegender record"},
		{"csv face", "csv", c[0] + csvCell(t, c[1], 1, "x") + strings.Join(c[2:], ""), `line 2: face "x" is not a whole number`},
	} {
		shard := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+"."+tc.ext)
		os.WriteFile(shard, []byte(tc.content), 0o644)
		code, _, errOut := runCLIEnv(t, nil, "", "merge", "--out", filepath.Join(dir, "m."+tc.ext), shard, "--", in)
		if code != exitError || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "did not finish") {
			t.Errorf("%s: exit %d, stderr %q; want 1 with %q", tc.name, code, errOut, tc.want)
		}
	}
}

// A --resume file on procfs is refused, not read (its reads can block).
func TestResumeRefusesKernelFile(t *testing.T) {
	in := shardTree(t)
	code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--jsonl", "/proc/self/status", in)
	if code != exitError || !strings.Contains(errOut, "procfs") {
		t.Errorf("exit %d, stderr %q; want 1 naming procfs", code, errOut)
	}
}

// merge's shard outputs and eval's --labels file are opened as inputs are:
// a FIFO is refused, not waited on forever.
func TestMergeAndLabelsRefuseFIFO(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "s.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	code, _, errOut := runCLIEnv(t, nil, "", "merge", "--out", filepath.Join(dir, "m.jsonl"), fifo, "--", in)
	if code != exitError || !strings.Contains(errOut, "named pipe") {
		t.Errorf("merge of a FIFO: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLIEnv(t, nil, "", "eval", "--labels", fifo, in)
	if code == exitOK || !strings.Contains(errOut, "named pipe") {
		t.Errorf("eval --labels FIFO: exit %d, stderr %q", code, errOut)
	}
}
