package safeio

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesWhatCanBlock(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "a.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	procLink := filepath.Join(dir, "kmsg.jpg")
	if err := os.Symlink("/proc/self/status", procLink); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{fifo, "named pipe"},
		{"/dev/zero", "character device"},
		{"/proc/self/status", "procfs"},
		{"/proc/kmsg", "procfs"},
		{procLink, "procfs"},
		{"/sys/kernel/mm/transparent_hugepage/enabled", "sysfs"},
		{dir, "folder"},
	}
	for _, c := range cases {
		if _, err := os.Stat(c.path); err != nil {
			t.Logf("%s: %v; skipped", c.path, err)
			continue
		}
		f, err := Open(c.path)
		if err == nil {
			f.Close()
			t.Errorf("Open(%s) opened it", c.path)
			continue
		}
		if !errors.Is(err, errNotRegular) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s) = %v, want errNotRegular saying %q", c.path, err, c.want)
		}
	}
}

func TestReadFileBoundsSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.onnx")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.onnx")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ReadFile(ctx, big, 1024, "model"); err == nil || !strings.Contains(err.Error(), "over the 1 KB limit") {
		t.Errorf("2 KB file under a 1 KB limit: %v", err)
	}
	if _, err := ReadFile(ctx, empty, 1024, "model"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := ReadFile(ctx, "/dev/zero", 1024, "model"); err == nil || !strings.Contains(err.Error(), "model /dev/zero: not a regular file: a character device") {
		t.Errorf("/dev/zero: %v", err)
	}
	if data, err := ReadFile(ctx, big, 4096, "model"); err != nil || len(data) != 2048 {
		t.Errorf("2 KB file under a 4 KB limit: %d bytes, %v", len(data), err)
	}
}

// blocked is a reader whose reads never answer, like a stalled S3 body.
type blocked struct{ stop chan struct{} }

func (b blocked) Read([]byte) (int, error) { <-b.stop; return 0, io.EOF }

func TestIdleReaderGivesUp(t *testing.T) {
	b := blocked{stop: make(chan struct{})}
	defer close(b.stop)
	r := NewIdleReader(context.Background(), io.MultiReader(strings.NewReader("abc"), b), time.Millisecond)
	data, err := io.ReadAll(r)
	if string(data) != "abc" || !errors.Is(err, ErrStalled) {
		t.Fatalf("got %q, %v; want the bytes before the stall, then ErrStalled", data, err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrStalled) {
		t.Fatalf("read after a stall: %v, want ErrStalled again", err)
	}
}

func TestIdleReaderStopsOnCancel(t *testing.T) {
	b := blocked{stop: make(chan struct{})}
	defer close(b.stop)
	ctx, cancel := context.WithCancel(context.Background())
	r := NewIdleReader(ctx, b, time.Hour)
	go cancel()
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, context.Canceled) {
		t.Fatalf("read on cancel: %v, want context.Canceled", err)
	}
}

func TestOpenNoFollowRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.jsonl")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{target, filepath.Join(dir, "missing")} {
		link := filepath.Join(dir, "out.jsonl")
		os.Remove(link)
		if err := os.Symlink(dest, link); err != nil {
			t.Fatal(err)
		}
		if f, err := OpenNoFollow(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			if f != nil {
				f.Close()
			}
			t.Errorf("link to %s: %v, want a refusal naming the link", dest, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "x" {
		t.Errorf("target changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("a dangling link's target was created")
	}
	f, err := OpenNoFollow(filepath.Join(dir, "new.jsonl"))
	if err != nil {
		t.Fatalf("new file: %v", err)
	}
	f.Close()
}
