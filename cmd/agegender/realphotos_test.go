//go:build cgo

// The end-to-end tests run the built binary with ONNX Runtime, so they
// build only where cgo is on.

package main_test

// End-to-end tests on real photos: the binary's answers agree with the data
// sets' labels and between commands.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/testutil"
)

// TestRealFaces runs auto detection on UTKFace crops and a WIDER FACE photo.
func TestRealFaces(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	utk := testutil.SharedData(t, "utkface")
	wider := testutil.SharedData(t, "widerface")
	crop := filepath.Join(utk, "26_0_0_20170116183553306.jpg.chip.jpg")
	if _, err := os.Stat(crop); err != nil {
		names, _ := filepath.Glob(filepath.Join(utk, "*.jpg"))
		crop = names[0]
	}
	r := agegender(t, nil, "predict", "--json", crop)
	var objs []struct {
		Faces []struct {
			Detected bool
			Age      float64
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || r.code != 0 {
		t.Fatalf("exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(objs[0].Faces) != 1 || !objs[0].Faces[0].Detected {
		t.Errorf("UTKFace crop: want one detected face, got %+v", objs[0].Faces)
	}
	photo := filepath.Join(wider, "images", "0--Parade", "0_Parade_Parade_0_12.jpg")
	r = agegender(t, nil, "predict", "--json", photo)
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || r.code != 0 {
		t.Fatalf("exit %d %v\n%s", r.code, err, r.stderr)
	}
	if len(objs[0].Faces) < 3 {
		t.Errorf("parade photo: found %d faces, want several", len(objs[0].Faces))
	}
}

// TestEvalAgreesWithBatch scores `batch --jsonl` output independently and
// compares it with `eval --json` on generated, labelled images.
func TestEvalAgreesWithBatch(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	labels := map[string][2]any{}
	for i := 0; i < 12; i++ {
		age, gender := 5+i*7, i%2
		name := fmt.Sprintf("%d_%d_%d_20170101%09d.jpg.chip.png", age, gender, i%5, i)
		writePNG(t, filepath.Join(in, name), 100+i*5, 100, i)
		g := "Male"
		if gender == 1 {
			g = "Female"
		}
		labels[name] = [2]any{float64(age), g}
	}
	out := filepath.Join(dir, "faces.jsonl")
	if r := agegender(t, nil, "batch", "--detect", "off", "-q", "--jsonl", out, in); r.code != 0 {
		t.Fatalf("batch exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var absSum float64
	var n, genderOK int
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var obj struct {
			Input string
			Faces []struct {
				Age    float64
				Gender string
			}
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatal(err)
		}
		l := labels[filepath.Base(obj.Input)]
		f := obj.Faces[0]
		d := f.Age - l[0].(float64)
		if d < 0 {
			d = -d
		}
		absSum += d
		n++
		if f.Gender == l[1].(string) {
			genderOK++
		}
	}
	r := agegender(t, nil, "eval", "--detect", "off", "--json", in)
	if r.code != 0 {
		t.Fatalf("eval exit %d: %s", r.code, r.stderr)
	}
	var s struct {
		Counts  struct{ Scored int }
		Overall struct {
			AgeMAE         float64 `json:"age_mae"`
			GenderAccuracy float64 `json:"gender_accuracy"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	mae, acc := absSum/float64(n), float64(genderOK)/float64(n)
	if s.Counts.Scored != n || abs(s.Overall.AgeMAE-mae) > 0.01 || abs(s.Overall.GenderAccuracy-acc) > 1e-3 {
		t.Errorf("eval: n %d MAE %.3f acc %.3f; batch scored independently: n %d MAE %.3f acc %.3f",
			s.Counts.Scored, s.Overall.AgeMAE, s.Overall.GenderAccuracy, n, mae, acc)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
