package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
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

// A file created at the target while the run goes on is never replaced
// without --force; the results stay in the temporary file the error names.
func TestFileCreatedDuringTheRunIsKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.csv")
	f, err := Create(p, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("results")
	os.WriteFile(p, []byte("someone else's"), 0o644)
	err = f.Commit()
	if err == nil || !strings.Contains(err.Error(), "created by something else") || !strings.Contains(err.Error(), f.Name()) {
		t.Fatalf("commit over a new file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "someone else's" {
		t.Errorf("the file that appeared was replaced: %q", b)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != "results" {
		t.Errorf("results lost: %q", b)
	}
}

// Two runs to one target: the first to finish wins, the second fails
// clearly instead of silently replacing it.
func TestTwoRunsToOneTarget(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.csv")
	a, errA := Create(p, false)
	b, errB := Create(p, false)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	a.WriteString("a")
	b.WriteString("b")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err == nil || !strings.Contains(err.Error(), "created by something else") {
		t.Fatalf("second run: %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "a" {
		t.Errorf("target holds %q, want the first run's", got)
	}
	if stale := Stale(p); len(stale) != 1 || stale[0] != b.Name() {
		t.Errorf("Stale = %v, want the second run's kept results %s", stale, b.Name())
	}
}

// A FIFO target is refused even with --force; a character device is
// written in place and stays a device (it was replaced by a regular file).
func TestNonRegularTargets(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := Create(fifo, true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO with --force: %v", err)
	}
	if _, err := Create("/dev/null", false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("/dev/null without --force: %v", err)
	}
	// A copy of /dev/null in a temporary folder where mknod is allowed
	// (root), so that a regression replaces the copy, not the real one;
	// elsewhere /dev/null itself, which a non-root run cannot replace.
	dev := filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		if os.Geteuid() == 0 {
			t.Fatalf("mknod as root: %v", err)
		}
		dev = "/dev/null"
	}
	f, err := Create(dev, true)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("rows")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dev); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v %v", dev, st.Mode(), err)
	}
}

func TestStaleNamesLeftoverTemporaries(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	left := filepath.Join(dir, ".out.csv.12345.tmp")
	os.WriteFile(left, nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".other.csv.1.tmp"), nil, 0o644)
	if got := Stale(p); len(got) != 1 || got[0] != left {
		t.Errorf("Stale = %v, want [%s]", got, left)
	}
}

// A dangling link at the output path is there before the run, not
// "created by something else during the run": it is refused up front, and
// --force replaces the link (never writing through it).
func TestDanglingLinkOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	target := filepath.Join(dir, "absent.csv")
	if err := os.Symlink(target, out); err != nil {
		t.Fatal(err)
	}
	f, err := Create(out, false)
	if err == nil {
		f.Abort()
		t.Fatal("a dangling link at the output was accepted")
	}
	if !strings.Contains(err.Error(), "symbolic link") || strings.Contains(err.Error(), "during the run") {
		t.Errorf("error %q, want it to name the link as there already", err)
	}
	f, err = Create(out, true)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(out); err != nil || !st.Mode().IsRegular() {
		t.Errorf("--force did not replace the link with the file")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("written through the link")
	}
}
