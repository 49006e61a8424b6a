//go:build cgo

package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/agegender/agegender/internal/testutil"
)

// Preemption as schedulers do it: SIGTERM, then time to stop. batch --resume
// keeps every finished row (locally, and in a bucket, where it writes the
// object on the way out), says so, and the same command finishes the rest.
func TestResumeAfterSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary several times")
	}
	s3 := testutil.StartFakeS3(t, "bkt")
	in := resumeInputs(t)
	want := inputsOf(t, cleanRun(t, "jsonl"))
	dir := t.TempDir()
	for _, target := range []string{filepath.Join(dir, "local.jsonl"), "s3://bkt/out/part.jsonl" + s3.Query} {
		args := resumeArgs("--workers", "2", "--resume", "--jsonl", target, in)
		// The run's own TMPDIR, where an object's spool is the only file.
		tmp := t.TempDir()
		written := func() int { return rowsIn(target) }
		if strings.HasPrefix(target, "s3://") {
			written = func() int { return spooledRows(tmp) }
		}
		code, stderr := terminateAfter(t, args, tmp, written, 30)
		saved := filepath.Join(dir, "saved.jsonl")
		if strings.HasPrefix(target, "s3://") {
			data, ok := s3.Get(t, "bkt", "out/part.jsonl")
			if !ok {
				t.Fatalf("%s: no object after SIGTERM; exit %d, stderr %q", target, code, stderr)
			}
			os.WriteFile(saved, data, 0o644)
		} else {
			data, _ := os.ReadFile(target)
			os.WriteFile(saved, data, 0o644)
		}
		done := inputsOf(t, saved)
		if code == 0 && len(done) == len(want) {
			t.Logf("%s: the run finished before SIGTERM; nothing to resume", target)
		} else if code != 1 || !strings.Contains(stderr, "--resume does the rest") {
			t.Errorf("%s: after SIGTERM exit %d, stderr %q", target, code, stderr)
		}
		if len(done) < 30 || !slices.Equal(done, want[:len(done)]) {
			t.Fatalf("%s: the %d rows kept after SIGTERM are not the first inputs in order, at least the 30 written before it", target, len(done))
		}
		if r := agegender(t, nil, args...); r.code != 0 {
			t.Fatalf("%s: resume: exit %d: %s", target, r.code, r.stderr)
		}
		if strings.HasPrefix(target, "s3://") {
			data, _ := s3.Get(t, "bkt", "out/part.jsonl")
			os.WriteFile(saved, data, 0o644)
		} else {
			data, _ := os.ReadFile(target)
			os.WriteFile(saved, data, 0o644)
		}
		if got := inputsOf(t, saved); !slices.Equal(got, want) {
			t.Errorf("%s: after resuming, %d inputs, want %d in one run's order", target, len(got), len(want))
		}
		t.Logf("figures: SIGTERM %s: %d of %d rows kept, the rest resumed", strings.SplitN(target, "?", 2)[0], len(done), len(want))
	}
}

// terminateAfter starts the binary with args and TMPDIR tmp, sends it
// SIGTERM once written() reaches rows, and returns its exit code and
// stderr. Not after a time, as before: a loaded machine may write nothing
// in 700 ms (a run once kept 0 of 1,500 rows), and the inputs must outlast
// the wait.
func terminateAfter(t *testing.T, args []string, tmp string, written func() int, rows int) (int, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	grown, stop := make(chan struct{}), make(chan struct{})
	go waitForRows(written, rows, grown, stop)
	select {
	case err := <-exited:
		close(stop)
		t.Fatalf("%v: exited (%v) before writing %d rows: %s", args, err, rows, stderr.String())
	case <-grown:
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// spooledRows counts the rows of the fullest file in dir: a run's spool of
// the object it writes.
func spooledRows(dir string) int {
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	n := 0
	for _, p := range names {
		n = max(n, rowsIn(p))
	}
	return n
}
