package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkOneLinePerMessage fails if stderr holds anything a terminal acts on,
// or more lines than the messages it should hold.
func checkOneLinePerMessage(t *testing.T, what, stderr string, lines int) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\r", "\x07", "\u202e"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("%s: stderr holds %q: %q", what, bad, stderr)
		}
	}
	if n := strings.Count(stderr, "\n"); n != lines {
		t.Errorf("%s: %d lines on stderr, want %d: %q", what, n, lines, stderr)
	}
}

// Names reach stderr escaped: in the error line, and in warnings.
func TestStderrEscapesNames(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	evil := filepath.Join(dir, "x\x1b]0;owned\x07\nagegender: fake.jsonl\u202e")
	code, _, errOut := runCLIEnv(t, nil, "", "merge", "--out", filepath.Join(dir, "m.jsonl"), evil, "--", in)
	if code != exitError {
		t.Fatalf("merge of a missing shard: exit %d", code)
	}
	checkOneLinePerMessage(t, "error line", errOut, 1)

	// A stale temporary file of an output named with escapes is warned about.
	out := filepath.Join(dir, "o\x1b[2J\n.jsonl")
	if err := os.WriteFile(filepath.Join(dir, ".o\x1b[2J\n.jsonl.123.tmp"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", out, filepath.Join(in, "d0"))
	if code != exitOK {
		t.Fatalf("batch: exit %d, %q", code, errOut)
	}
	checkOneLinePerMessage(t, "warning", errOut, 1)
}
