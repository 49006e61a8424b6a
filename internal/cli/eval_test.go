package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// These fail before the engine starts, so they need no ONNX Runtime.
func TestEvalSetupErrors(t *testing.T) {
	dir := t.TempDir()
	busy := filepath.Join(dir, "busy")
	os.Mkdir(busy, 0o755)
	os.WriteFile(filepath.Join(busy, "keep.txt"), []byte("x"), 0o644)
	badCSV := filepath.Join(dir, "labels.csv")
	os.WriteFile(badCSV, []byte("path,age\nx.jpg,3\n"), 0o644)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"eval"}, "at least one file"},
		{[]string{"eval", dir, "--split", "validation"}, "invalid split"},
		{[]string{"eval", dir, "--labels", filepath.Join(dir, "missing.csv")}, "labels"},
		{[]string{"eval", dir, "--labels", badCSV}, `lacks "gender"`},
		{[]string{"eval", dir, "--report", busy}, "not empty"},
	}
	for _, c := range cases {
		ios, _, errOut := testStreams("")
		if code := Main(c.args, ios, noEngine(t), ""); code != exitError || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, exitError, c.want)
		}
	}
}

// eval charges each image to --max-memory as batch does: an image whose
// estimate would take more than the whole budget fails, named, and the run
// goes on; --workers is checked like batch's.
func TestEvalHasAMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	pngFile(t, filepath.Join(dir, "40_1_0_20170103200329407.jpg.chip.png"), 40, 40)
	pngFile(t, filepath.Join(dir, "50_1_0_20170103200329408.jpg.chip.png"), 44, 40)
	hungry := func(context.Context, face.EngineConfig) (Engine, error) {
		return &fakeEngine{mode: face.DetectOff, work: 65 << 20}, nil // over the 64 MB budget
	}
	code, out, errOut := runCLI(t, hungry, "", "eval", "--quiet", "--detect", "off", "--max-memory", "64", dir)
	if code != exitError || !strings.Contains(errOut, "no input could be scored (2 inputs: 2 failed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "40_1_0_20170103200329407.jpg.chip.png") || !strings.Contains(out, "memory") {
		t.Errorf("the summary does not name the refused file and the memory: %s", out)
	}
	if code, _, errOut := runCLI(t, noEngine(t), "", "eval", "--workers", "1000", dir); code != exitError || !strings.Contains(errOut, "--workers 1000 is out of range") {
		t.Errorf("--workers 1000: exit %d, stderr %q", code, errOut)
	}
}
