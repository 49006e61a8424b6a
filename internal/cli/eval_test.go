package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		if code := Main(c.args, ios, noEngine(t)); code != exitError || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, exitError, c.want)
		}
	}
}
