//go:build cgo

package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

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
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	for i := 0; i < 1500; i++ {
		writePNG(t, filepath.Join(in, fmt.Sprintf("%04d.png", i)), 48+i%17, 48+i%13, i)
	}
	clean := filepath.Join(dir, "clean.jsonl")
	if r := agegender(t, nil, "batch", "--detect", "off", "-q", "--jsonl", clean, in); r.code != 0 {
		t.Fatalf("clean run: exit %d: %s", r.code, r.stderr)
	}
	want := inputsOf(t, clean)
	for _, target := range []string{filepath.Join(dir, "local.jsonl"), "s3://bkt/out/part.jsonl" + s3.Query} {
		args := []string{"batch", "--detect", "off", "-q", "--workers", "2", "--resume", "--jsonl", target, in}
		cmd := exec.Command(binary(t), args...)
		cmd.Env = append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(700 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		saved := filepath.Join(dir, "saved.jsonl")
		if strings.HasPrefix(target, "s3://") {
			data, ok := s3.Get(t, "bkt", "out/part.jsonl")
			if !ok {
				t.Fatalf("%s: no object after SIGTERM; exit %d, stderr %q", target, code, stderr.String())
			}
			os.WriteFile(saved, data, 0o644)
		} else {
			data, _ := os.ReadFile(target)
			os.WriteFile(saved, data, 0o644)
		}
		done := inputsOf(t, saved)
		if code == 0 && len(done) == len(want) {
			t.Logf("%s: the run finished before SIGTERM; nothing to resume", target)
		} else if code != 1 || !strings.Contains(stderr.String(), "--resume does the rest") {
			t.Errorf("%s: after SIGTERM exit %d, stderr %q", target, code, stderr.String())
		}
		if !slices.Equal(done, want[:len(done)]) {
			t.Fatalf("%s: the %d rows kept after SIGTERM are not the first inputs in order", target, len(done))
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
