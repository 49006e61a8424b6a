package pipeline

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/testutil/hostile"
)

// runWithin runs Run and fails the test if it does not return in time: a
// FIFO once blocked a batch forever.
func runWithin(t *testing.T, d time.Duration, ctx context.Context, ins []input.Input, est face.Estimator, o Options) ([]resultRow, error) {
	t.Helper()
	rec := &recorder{}
	errc := make(chan error, 1)
	go func() {
		_, err := Run(ctx, sliceSeq(ins), est, rec.sink, o)
		errc <- err
	}()
	select {
	case err := <-errc:
		var rows []resultRow
		for _, im := range rec.written() {
			rows = append(rows, resultRow{im.Input, im.Err})
		}
		return rows, err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil, nil
	}
}

type resultRow struct {
	name string
	err  error
}

// Only regular files are opened: a FIFO named a.jpg is refused from its
// stat, without blocking, and so are a folder named y.jpg inside a walk and
// a character device named directly.
func TestNonRegularFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "a.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "b.png"), pngs[4], 0o644)
	os.Mkdir(filepath.Join(dir, "sub.jpg"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub.jpg", "c.png"), pngs[5], 0o644)
	var ins []input.Input
	for in := range input.Walk([]string{dir, "/dev/null"}, input.DefaultExtensions) {
		ins = append(ins, in)
	}
	rows, err := runWithin(t, 10*time.Second, context.Background(), ins, &fakeEstimator{}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		fifo: "named pipe", filepath.Join(dir, "b.png"): "", filepath.Join(dir, "sub.jpg", "c.png"): "",
		"/dev/null": "character device",
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %v, want one each for %v", rows, want)
	}
	for _, r := range rows {
		reason, ok := want[r.name]
		switch {
		case !ok:
			t.Errorf("unexpected row %s", r.name)
		case reason == "" && r.err != nil:
			t.Errorf("%s: %v", r.name, r.err)
		case reason != "" && (r.err == nil || !strings.Contains(r.err.Error(), reason) || !strings.Contains(r.err.Error(), r.name)):
			t.Errorf("%s: error %v, want it named with %q", r.name, r.err, reason)
		}
	}
}

// A hundred header-only files declaring 10000x10000 each are refused by a
// small budget before any pixel is allocated, and good images still pass
// through a budget that fits only a few of them at once, without deadlock.
func TestBudgetRefusesBombsAndAdmitsTheRest(t *testing.T) {
	var ins []input.Input
	for i := range 100 {
		ins = append(ins, input.Reader("bomb"+string(rune('a'+i%26)), bytes.NewReader(hostile.PNGHeaderOnly(10000, 10000))))
		ins = append(ins, input.Reader("ok", bytes.NewReader(pngs[1+i%5])))
	}
	b := budget.New(3 * (int64(len(pngs[5])) + 5*2*8))
	rows, err := runWithin(t, 20*time.Second, context.Background(), ins, &fakeEstimator{}, Options{Workers: 3, Chunk: 4, Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 200 {
		t.Fatalf("%d rows, want 200", len(rows))
	}
	for _, r := range rows {
		bomb := strings.HasPrefix(r.name, "bomb")
		if bomb && (r.err == nil || !errors.Is(r.err, budget.ErrTooLarge)) {
			t.Errorf("%s: %v, want over the memory budget", r.name, r.err)
		}
		if !bomb && r.err != nil && !errors.Is(r.err, errModel) {
			t.Errorf("%s: %v", r.name, r.err)
		}
	}
	// Everything was given back: the whole budget is free again.
	if release, ok := b.TryAcquire(b.Total()); !ok {
		t.Error("budget not fully released after the run")
	} else {
		release()
	}
}

// After Ctrl-C, images already queued are reported as cancelled, not
// decoded and sent to the model: when every queued image was still processed, a
// cancelled run of slow images took 58 s. Here the cancel comes with the
// model's first call, which then waits for it.
func TestCancelStopsQueuedWork(t *testing.T) {
	var ins []input.Input
	for range 40 {
		ins = append(ins, input.Reader("slow", bytes.NewReader(pngs[4])))
	}
	ctx, cancel := context.WithCancel(context.Background())
	est := &cancellingEstimator{cancel: cancel}
	o := Options{Workers: 2, Chunk: 2}
	rows, err := runWithin(t, 20*time.Second, ctx, ins, est, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	// The listing stops at the cancel; the inputs taken before it are
	// reported, all as cancelled.
	for i, r := range rows {
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("row %d: %v, want a cancelled input", i, r.err)
		}
	}
	// Only the images already taken by a worker may reach the model.
	if n := est.images.Load(); n > int64(o.Workers*o.Chunk) {
		t.Errorf("%d of %d images reached the model after the cancel; at most %d were in flight", n, len(ins), o.Workers*o.Chunk)
	}
}

// cancellingEstimator cancels the run on its first call and answers every
// call only once the run is cancelled, failing its images.
type cancellingEstimator struct {
	cancel context.CancelFunc
	images atomic.Int64
}

func (e *cancellingEstimator) Mode() face.Mode { return face.DetectAuto }

func (e *cancellingEstimator) WorkingMemory(int, int) int64 { return 0 }

func (e *cancellingEstimator) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	e.images.Add(int64(len(imgs)))
	e.cancel()
	<-ctx.Done()
	errs := make([]error, len(imgs))
	for i := range errs {
		errs[i] = ctx.Err()
	}
	return make([][]face.Face, len(imgs)), errs
}

// Files of /proc and /sys are "regular" but are kernel interfaces whose
// reads can block forever (/proc/kmsg): they are refused from the file
// system they are on, named directly or reached through a link inside a
// walked folder.
func TestKernelFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	for name, target := range map[string]string{"k.jpg": "/proc/self/status", "s.jpg": "/sys/kernel/mm/transparent_hugepage/enabled"} {
		if _, err := os.Stat(target); err != nil {
			t.Skipf("%s: %v", target, err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var ins []input.Input
	for in := range input.Walk([]string{dir, "/proc/self/status"}, input.DefaultExtensions) {
		ins = append(ins, in)
	}
	rows, err := runWithin(t, 10*time.Second, context.Background(), ins, &fakeEstimator{}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []resultRow{{filepath.Join(dir, "k.jpg"), nil}, {filepath.Join(dir, "s.jpg"), nil}, {"/proc/self/status", nil}}
	if len(rows) != len(want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
	for i, r := range rows {
		if r.name != want[i].name || r.err == nil || !strings.Contains(r.err.Error(), "not a regular file: a file of ") {
			t.Errorf("row %d: %s %v, want %s refused as a kernel file", i, r.name, r.err, want[i].name)
		}
	}
}

// blockingReader never answers, like a file on a hung mount.
type blockingReader struct {
	entered chan struct{}
	stop    chan struct{}
}

func (b *blockingReader) Read([]byte) (int, error) {
	close(b.entered)
	<-b.stop
	return 0, io.EOF
}
func (b *blockingReader) Close() error { return nil }

// A read that blocks does not hold an interrupted run: Ctrl-C acts.
func TestBlockedReadYieldsToCancel(t *testing.T) {
	b := &blockingReader{entered: make(chan struct{}), stop: make(chan struct{})}
	defer close(b.stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := input.Input{Name: "stuck.jpg", Idle: input.NoIdleLimit, Open: func() (io.ReadCloser, error) { return b, nil }}
	go func() { <-b.entered; cancel() }()
	rows, err := runWithin(t, 10*time.Second, ctx, []input.Input{in}, &fakeEstimator{}, Options{Workers: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if len(rows) != 1 || rows[0].err == nil {
		t.Errorf("rows %v, want stuck.jpg cancelled", rows)
	}
}
