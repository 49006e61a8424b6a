package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitWritesAndAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")

	f, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	f.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("abort left files: %v", entries)
	}

	f, err = Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("a,b\n")
	if _, err := os.Stat(p); err == nil {
		t.Fatal("target exists before commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "a,b\n" {
		t.Fatalf("got %q", b)
	}
}

func TestExistingFileNeedsForce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.csv")
	os.WriteFile(p, []byte("keep me"), 0o644)
	_, err := Create(p, false)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("want an error naming --force, got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "keep me" {
		t.Fatal("existing file was touched")
	}
	f, err := Create(p, true)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("got %q", b)
	}
}
