package annotate

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
)

// Inputs that differ only in folder or extension once shared an annotation:
// a/x.jpg and a/x.png, a/b.jpg and a_b.jpg.
func TestPathKeepsTheRelativePath(t *testing.T) {
	w := &Writer{dir: "out"}
	seen := map[string]string{}
	for _, in := range []string{"a/x.jpg", "a/x.png", "a/b.jpg", "a_b.jpg", "../a/b.jpg", "/abs/a/b.jpg", "./c.jpg", "-"} {
		p := w.Path(in)
		if prev, dup := seen[p]; dup {
			t.Errorf("%s and %s both map to %s", prev, in, p)
		}
		seen[p] = in
		if rel, err := filepath.Rel("out", p); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s maps to %s, outside the folder", in, p)
		}
	}
	if got, want := w.Path("a/x.png"), filepath.Join("out", "a", "x.png.annotated.jpg"); got != want {
		t.Errorf("Path(a/x.png) = %s, want %s", got, want)
	}
}

func TestWriteCollisions(t *testing.T) {
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for _, force := range []bool{false, true} {
		out := filepath.Join(dir, map[bool]string{false: "plain", true: "forced"}[force])
		w, err := NewWriter(out, force)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{"a/x.jpg", "a/x.png", "a/b.jpg", "a_b.jpg"} {
			if err := w.Write(img, face.Image{Input: in}); err != nil {
				t.Errorf("force %v: %s: %v", force, in, err)
			}
		}
		// Two inputs of one run mapped to one path: the second fails even
		// with --force instead of replacing the first.
		err = w.Write(img, face.Image{Input: "./a/x.jpg"})
		if err == nil || !strings.Contains(err.Error(), "written during this run") {
			t.Errorf("force %v: in-run collision gave %v", force, err)
		}
		// A new run over the same folder needs --force.
		w2, _ := NewWriter(out, force)
		w2.since = time.Now().Add(time.Second) // as if it started later
		err = w2.Write(img, face.Image{Input: "a/x.jpg"})
		if force && err != nil {
			t.Errorf("forced rewrite: %v", err)
		}
		if !force && (err == nil || !strings.Contains(err.Error(), "--force")) {
			t.Errorf("rewrite without --force: %v", err)
		}
		if left, _ := filepath.Glob(filepath.Join(out, "a", ".*.tmp")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

// The input itself is never replaced, even with --force: here the
// annotation's path is a link to the input.
func TestWriteNeverReplacesTheInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.jpg")
	os.WriteFile(in, []byte("original"), 0o644)
	w, _ := NewWriter(filepath.Join(dir, "out"), true)
	p := w.Path(in)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.Symlink(in, p); err != nil {
		t.Fatal(err)
	}
	err := w.Write(image.NewNRGBA(image.Rect(0, 0, 4, 4)), face.Image{Input: in})
	if err == nil || !strings.Contains(err.Error(), "input itself") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(in); string(b) != "original" {
		t.Error("input replaced")
	}
}

// Object keys that a file path would clean to one (s3://b/p/./x.jpg and
// s3://b/p/x.jpg once shared one copy) get copies of their own, and so do
// a real "@up" folder and "..".
func TestPathKeepsObjectKeysApart(t *testing.T) {
	w := &Writer{dir: "out"}
	seen := map[string]string{}
	for _, in := range []string{"s3://b/p/x.jpg", "s3://b/p/./x.jpg", "s3://b/p//x.jpg", "s3://b/x.jpg", "s3://b/p/../x.jpg",
		"gs://b/p/x.jpg", "../x.jpg", "@up/x.jpg", "@dot/x.jpg"} {
		p := w.Path(in)
		if prev, dup := seen[p]; dup {
			t.Errorf("%s and %s both map to %s", prev, in, p)
		}
		seen[p] = in
		if rel, err := filepath.Rel("out", p); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s maps to %s, outside the folder", in, p)
		}
	}
}

// A linked folder inside the annotation folder is refused, not followed:
// the copy once went where the link pointed, outside --annotate.
func TestWriteRefusesALinkedFolder(t *testing.T) {
	out, outside := filepath.Join(t.TempDir(), "out"), t.TempDir()
	w, err := NewWriter(out, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(out, "a")); err != nil {
		t.Fatal(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	err = w.Write(img, face.Image{Input: "a/b/x.jpg"})
	if err == nil || !strings.Contains(err.Error(), "is a link; annotated copies are written only inside the --annotate folder") {
		t.Errorf("write through a linked folder: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the linked folder got %d entries", len(entries))
	}
}
