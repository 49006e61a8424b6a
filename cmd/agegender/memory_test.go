//go:build cgo

package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/testutil/hostile"
)

// The budget counts the detector's passes: a --det-size far above the
// default on a large photo is refused before decoding, naming the budget,
// rather than taking gigabytes beside it (--det-size 8192 on a 7000x7000
// photo once peaked at 2.78 GB under 384 MB). The figure is serve's too:
// the padded retry's copy (10.7 MB) and the detector's resizes (1 MB) are
// in it. At the default size the same photo fits.
func TestDetectorMemoryIsBudgeted(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	img := filepath.Join(t.TempDir(), "grey-3000.png")
	if err := os.WriteFile(img, hostile.BlankGrayPNG(3000, 3000), 0o644); err != nil {
		t.Fatal(err)
	}
	r := agegender(t, nil, "predict", "--jsonl", "--det-size", "3000", "--max-memory", "256", img)
	if r.code != 2 || !strings.Contains(r.stdout, "needs 749.2 MB, over the memory budget of 256.0 MB") {
		t.Errorf("--det-size 3000: exit %d, want 2 and a row over the budget:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = agegender(t, nil, "predict", "--jsonl", "--max-memory", "256", img)
	if r.code != 0 || strings.Contains(r.stdout, "budget") {
		t.Errorf("default --det-size: exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
