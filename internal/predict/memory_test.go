package predict_test

import (
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

// workingMemory is what an engine in mode says the images of sizes take;
// one engine runs at a time in a process, so each is closed before the next.
func workingMemory(t *testing.T, mode face.Mode, sizes ...[2]int) []int64 {
	t.Helper()
	o := predict.Options{LibraryPath: testutil.ORTLibrary(t), Model: models.Default().Bytes(), ModelName: "default",
		Mode: mode, Detect: face.DefaultDetectParams()}
	if mode != face.DetectOff {
		o.Detector, o.DetectorName = models.Detector(), models.DetectorName
	}
	e, err := predict.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := make([]int64, len(sizes))
	for i, s := range sizes {
		out[i] = e.WorkingMemory(s[0], s[1])
	}
	return out
}

// The engine charges what it takes beyond an image's pixels, and budgets
// (batch's and serve's alike) charge what it says: in mode auto the copy of
// its padded retry on top of mode on's, none of it with detection off.
func TestWorkingMemoryChargesTheRetry(t *testing.T) {
	sizes := [][2]int{{200, 200}, {8000, 6000}}
	auto, on, off := workingMemory(t, face.DetectAuto, sizes...), workingMemory(t, face.DetectOn, sizes...), workingMemory(t, face.DetectOff, sizes...)
	// A 200x200 crop's padded copy is 320x320: under the default pass
	// size, so the retry adds its copy and no larger pass.
	if got, want := auto[0]-on[0], int64(4*320*320); got != want {
		t.Errorf("auto charges %d bytes more than on for a 200x200 crop, want the padded copy's %d", got, want)
	}
	if on[0] < 1<<20 {
		t.Errorf("mode on charges %d bytes, want at least the detector's 1 MB of resizes", on[0])
	}
	if off[1] != 0 {
		t.Errorf("mode off charges %d bytes, want none: no detector runs", off[1])
	}
	// A large photo's retry is shrunk to 1024 px first: its copy is capped.
	if d := auto[1] - on[1]; d < 10<<20 || d > 40<<20 {
		t.Errorf("auto charges %d bytes more than on for an 8000x6000 photo, want the capped copy and its pass", d)
	}
}
