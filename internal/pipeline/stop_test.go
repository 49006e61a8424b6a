package pipeline

// Tests of how a run stops and how much it holds: a failed write, a cancel,
// the window of inputs in flight.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/testutil/hostile"
)

// A full disk must end the run with an error, not silently drop results or
// keep decoding an endless input stream.
func TestRunStopsOnWriteError(t *testing.T) {
	var yielded atomic.Int64
	rec := &recorder{failAt: 10}
	done := make(chan struct{})
	var sum Summary
	var err error
	go func() {
		defer close(done)
		sum, err = Run(context.Background(), endless(&yielded), &fakeEstimator{}, rec.sink, Options{Workers: 3, Chunk: 4})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the writer failed")
	}
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "write results") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.written()); n != 10 {
		t.Errorf("%d writes, want none after the failing 10th", n)
	}
	if sum.Inputs > 10 {
		t.Errorf("summary counts %d inputs past the failed write", sum.Inputs)
	}
	if y := yielded.Load(); y > 10+3*4*4+2 {
		t.Errorf("%d inputs taken after the writer failed at 10", y)
	}
}

// Cancelling (Ctrl-C) stops taking inputs; what was taken is still written,
// and Run says why it stopped.
func TestRunCancel(t *testing.T) {
	const window = 3 * 4 * 4
	var yielded atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{onWrite: func(n int, _ face.Image) {
		if n == 50 {
			cancel()
		}
	}}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = Run(ctx, endless(&yielded), &fakeEstimator{}, rec.sink, Options{Workers: 3, Chunk: 4})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	got := rec.written()
	if len(got) < 50 || len(got) > 50+window+2 {
		t.Errorf("%d results written, want 50 plus at most the %d in flight", len(got), window)
	}
	if y := yielded.Load(); int(y) > len(got)+1 {
		t.Errorf("%d inputs taken but %d written: taken inputs were lost", y, len(got))
	}
	for i, im := range got {
		if want := fmt.Sprintf("in%06d", i); im.Input != want {
			t.Fatalf("result %d is %s", i, im.Input)
		}
	}

	// Cancelled before it starts: nothing is taken.
	yielded.Store(0)
	rec = &recorder{}
	_, err = Run(ctx, endless(&yielded), &fakeEstimator{}, rec.sink, Options{Workers: 3, Chunk: 4})
	if !errors.Is(err, context.Canceled) || len(rec.written()) != 0 {
		t.Errorf("pre-cancelled run: err %v, %d results", err, len(rec.written()))
	}
}

// Memory must not grow with the batch: at any time at most a window of
// inputs is between the iterator and the writer, even when one slow input
// holds up the in-order writer while the other workers race ahead.
func TestRunBoundsInputsInFlight(t *testing.T) {
	const (
		n       = 20000
		workers = 3
		chunk   = 4
		window  = workers * chunk * 4
		slow    = 100
	)
	var yielded, opened, written, maxTaken, maxOpen atomic.Int64
	raise := func(m *atomic.Int64, v int64) {
		for {
			cur := m.Load()
			if v <= cur || m.CompareAndSwap(cur, v) {
				return
			}
		}
	}
	inputs := func(yield func(input.Input) bool) {
		for i := 0; i < n; i++ {
			raise(&maxTaken, yielded.Add(1)-written.Load())
			in := input.Input{Name: fmt.Sprintf("in%05d", i), Open: func() (io.ReadCloser, error) {
				raise(&maxOpen, opened.Add(1)-written.Load())
				if i == slow {
					time.Sleep(200 * time.Millisecond)
				}
				return io.NopCloser(bytes.NewReader(pngs[1+i%5])), nil
			}}
			if !yield(in) {
				return
			}
		}
	}
	next := 0
	rec := &recorder{onWrite: func(_ int, im face.Image) {
		if want := fmt.Sprintf("in%05d", next); im.Input != want {
			t.Errorf("wrote %s, want %s", im.Input, want)
		}
		next++
		written.Add(1)
	}}
	sum, err := Run(context.Background(), inputs, &fakeEstimator{}, rec.sink, Options{Workers: workers, Chunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inputs != n || next != n {
		t.Fatalf("summary %+v, %d written", sum, next)
	}
	// Slack: the producer holds one input while waiting for a slot, and a
	// slot is freed just before the writer's counter moves.
	if m := maxOpen.Load(); m > window+2 {
		t.Errorf("%d inputs opened but not written at once, window is %d", m, window)
	}
	if m := maxTaken.Load(); m > window+3 {
		t.Errorf("%d inputs taken but not written at once, window is %d", m, window)
	}
	// Without pressure on the window the bound above proves nothing.
	if m := maxTaken.Load(); m < window/2 {
		t.Errorf("at most %d inputs were ever in flight: the slow input did not hold up the run", m)
	}
}

// Ctrl-C during a slow decode stops the decode, not only what follows it: a
// scan bomb once kept a run going 58 s after SIGINT. The limits are lifted
// here so that the bomb gets as far as decoding.
func TestRunCancelStopsADecode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bomb := hostile.ProgressiveJPEG(1000, 1000, 1, 2000)
	in := input.Input{Name: "bomb.jpg", Open: func() (io.ReadCloser, error) {
		cancel() // Ctrl-C arrives once the input is being read
		return io.NopCloser(bytes.NewReader(bomb)), nil
	}}
	rec := &recorder{}
	lim := preprocess.Limits{MaxScans: 1 << 30, MaxScanPasses: 1 << 30}
	_, err := Run(ctx, func(yield func(input.Input) bool) { yield(in) }, &fakeEstimator{}, rec.sink, Options{Workers: 1, Limits: lim})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run gave %v, want context.Canceled", err)
	}
	ims := rec.written()
	if len(ims) != 1 || !errors.Is(ims[0].Err, context.Canceled) || !strings.Contains(ims[0].Err.Error(), "bomb.jpg: decoding stopped") {
		t.Fatalf("rows %+v, want one saying the decode of bomb.jpg stopped", ims)
	}
}
