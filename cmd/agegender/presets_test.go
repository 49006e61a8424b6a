//go:build cgo

package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// versionFields runs version --json with args and returns what it printed.
func versionFields(t *testing.T, args ...string) map[string]any {
	t.Helper()
	r := agegender(t, nil, append([]string{"version", "--json"}, args...)...)
	var out map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("version %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	if out["error"] != nil {
		t.Fatalf("version %v: %v", args, out["error"])
	}
	return out
}

// Both presets are in the binary: --model picks one by name, and version
// names the one in use, with its input and the interval level.
func TestPresetsByName(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	def := versionFields(t)
	if def["preset"] != "accurate" || def["model"] != "agegender-v4" || def["age_interval"] != 0.8 {
		t.Errorf("default: preset %v, model %v, interval %v; want accurate, agegender-v4, 0.8", def["preset"], def["model"], def["age_interval"])
	}
	fast := versionFields(t, "--model", "fast")
	if fast["preset"] != "fast" || fast["model"] != "agegender-v4-fast" || fast["input"] == def["input"] {
		t.Errorf("--model fast: preset %v, model %v, input %v (accurate's %v)", fast["preset"], fast["model"], fast["input"], def["input"])
	}
	r := agegender(t, nil, "predict", "--model", "fast", "--json", "../../testdata/astronaut.png")
	if r.code != 0 || !strings.Contains(r.stdout, `"age_low"`) {
		t.Errorf("predict --model fast: exit %d, want faces with intervals\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A --model that is neither a preset nor a readable file says which
// presets there are.
func TestUnknownPresetNamesThePresets(t *testing.T) {
	r := agegender(t, nil, "predict", "--model", "precise", "../../testdata/astronaut.png")
	if r.code == 0 || !strings.Contains(r.stderr, "precise") || !strings.Contains(r.stderr, "accurate, fast") {
		t.Errorf("exit %d, stderr %q: want an error naming precise and the presets", r.code, r.stderr)
	}
}

// A higher --age-interval holds more of the distribution: the interval
// around the same face widens.
func TestAgeIntervalLevel(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	width := func(level string) float64 {
		r := agegender(t, nil, "predict", "--json", "--age-interval", level, "../../testdata/astronaut.png")
		var objs []struct {
			Faces []struct {
				AgeLow  float64 `json:"age_low"`
				AgeHigh float64 `json:"age_high"`
			}
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &objs) != nil || len(objs) != 1 || len(objs[0].Faces) != 1 {
			t.Fatalf("--age-interval %s: exit %d\n%s%s", level, r.code, r.stdout, r.stderr)
		}
		return objs[0].Faces[0].AgeHigh - objs[0].Faces[0].AgeLow
	}
	if w5, w9 := width("0.5"), width("0.95"); !(w5 > 0 && w9 > w5) {
		t.Errorf("interval width %.1f at 0.5 and %.1f at 0.95: want it to widen", w5, w9)
	}
	if r := agegender(t, nil, "predict", "--age-interval", "1", "../../testdata/astronaut.png"); r.code != 1 || !strings.Contains(r.stderr, "--age-interval") {
		t.Errorf("--age-interval 1: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
}
