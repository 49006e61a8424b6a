//go:build cgo

package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/testutil"
)

// agegenderGuarded is agegender with a guard against a hang: a run that
// blocks is killed and reported, where the plain helper would block the test.
func agegenderGuarded(t *testing.T, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t)), env...)
	r := runCommand(t, cmd)
	if ctx.Err() != nil {
		t.Fatalf("%v hung: killed", args)
	}
	return r
}

// --model, --detector-model and --ort-lib get the input checks: a FIFO,
// a device, a kernel file and an empty file are refused with exit 1 and the
// reason, where a FIFO hung the run and /dev/zero grew it without limit.
func TestModelFlagsRefuseWhatBlocks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "m.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	empty := filepath.Join(dir, "empty.onnx")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, 64, 64, 1)
	cases := []struct{ flag, path, want string }{
		{"--model", fifo, "named pipe"},
		{"--model", "/dev/zero", "character device"},
		{"--model", "/proc/self/status", "procfs"},
		{"--model", empty, "empty"},
		{"--detector-model", fifo, "named pipe"},
		{"--detector-model", "/dev/zero", "character device"},
		{"--detector-model", empty, "empty"},
		{"--ort-lib", fifo, "named pipe"},
		{"--ort-lib", "/dev/zero", "character device"},
		{"--ort-lib", "/proc/self/status", "procfs"},
	}
	for _, c := range cases {
		r := agegenderGuarded(t, nil, "predict", c.flag, c.path, img)
		if r.code != 1 || !strings.Contains(r.stderr, c.path) || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s %s: exit %d, stderr %q; want 1 naming the file with %q", c.flag, c.path, r.code, r.stderr, c.want)
		}
	}
	// $AGEGENDER_DETECTOR is checked as the flag is.
	r := agegenderGuarded(t, []string{"AGEGENDER_DETECTOR=" + fifo}, "predict", img)
	if r.code != 1 || !strings.Contains(r.stderr, "named pipe") {
		t.Errorf("$AGEGENDER_DETECTOR FIFO: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A failed write to standard output fails the run: `version > /dev/full`
// exited 0.
func TestVersionToFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("/dev/full: %v", err)
	}
	defer full.Close()
	cmd := exec.Command(binary(t), "version")
	cmd.Env = append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t))
	var errOut strings.Builder
	cmd.Stdout, cmd.Stderr = full, &errOut
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "no space left on device") {
		t.Errorf("version > /dev/full: %v, stderr %q; want exit 1 naming the error", err, errOut.String())
	}
}
