package server

import (
	"context"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agegender/agegender/internal/face"
)

// Micro-batching, as model servers such as Triton do it: decoded images of
// requests that arrive together are estimated in one FacesContext call, so
// that their faces share one run of the age/gender model.
//
// A batch closes when it holds maxBatch images, or when its window has
// passed since its first image and a runner is free. Images keep joining
// while every runner is busy, so under load batches grow by themselves and
// a window of 0 adds no latency when the server is idle. Runners (one per
// CPU slot) take a batch, then a CPU slot from the same semaphore as large
// images, so batches and large images together never run on more slots
// than there are.

// batchItem is one request's image waiting in, or running in, a batch.
type batchItem struct {
	ctx context.Context
	img *image.NRGBA
	// release gives back the request's memory, once its image is done with;
	// it is the batcher's from submit on, so that work abandoned by a timed
	// out request still counts against the budget until it ends.
	release func()
	// queued is when the image was submitted.
	queued time.Time
	// started is set once its batch holds a slot and runs.
	started atomic.Bool
	done    chan batchResult // buffered: runners never block on it
}

type batchResult struct {
	faces []face.Face
	err   error
	// waited is the time from submit to the start of the batch's run.
	waited time.Duration
	size   int
}

type batcher struct {
	est      face.Estimator
	slots    slotTaker
	window   time.Duration
	maxBatch int
	observe  func(size int)

	in      chan *batchItem
	ready   chan []*batchItem
	mu      sync.Mutex // guards closed against submit racing close
	closed  bool
	running sync.WaitGroup
	pending atomic.Int64
	// waiting counts images submitted whose batch has not started.
	waiting atomic.Int64
}

// slotTaker is the CPU-slot semaphore, narrowed to what runners need.
type slotTaker interface {
	Acquire(ctx context.Context, n int64) error
	Release(n int64)
}

func newBatcher(est face.Estimator, slots slotTaker, runners, maxBatch int, window time.Duration, observe func(size int)) *batcher {
	b := &batcher{
		est: est, slots: slots, window: window, maxBatch: maxBatch, observe: observe,
		// Unbuffered: an image is either with its handler or in the
		// collector's hands, never lost in a buffer at close.
		in:    make(chan *batchItem),
		ready: make(chan []*batchItem),
	}
	b.running.Add(1 + runners)
	go b.collect()
	for range runners {
		go b.run()
	}
	return b
}

// submit hands img, and the request's memory (release), to the batcher and
// returns its item, whose done channel gets the result. After close it fails
// and calls release itself.
func (b *batcher) submit(ctx context.Context, img *image.NRGBA, release func()) (*batchItem, error) {
	it := &batchItem{ctx: ctx, img: img, release: release, queued: time.Now(), done: make(chan batchResult, 1)}
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.pending.Add(1)
	}
	b.mu.Unlock()
	if closed {
		release()
		return nil, errBatcherClosed
	}
	defer b.pending.Add(-1)
	b.waiting.Add(1)
	select {
	case b.in <- it:
		return it, nil
	case <-ctx.Done():
		b.waiting.Add(-1)
		release()
		return nil, fmt.Errorf("%w: waiting to join a batch: %w", errBusy, ctx.Err())
	}
}

var errBatcherClosed = fmt.Errorf("%w: shutting down", errBusy)

// collect forms batches and hands each to a free runner.
func (b *batcher) collect() {
	defer b.running.Done()
	defer close(b.ready)
	for {
		first, ok := <-b.in
		if !ok {
			return
		}
		batch := []*batchItem{first}
		windowEnd := time.NewTimer(b.window)
		windowOver := false
		for {
			in, out := b.in, b.ready
			if len(batch) >= b.maxBatch {
				in = nil
			}
			if !windowOver && len(batch) < b.maxBatch {
				out = nil
			}
			select {
			case it, ok := <-in:
				if !ok {
					// Closing: what has been gathered still runs.
					windowEnd.Stop()
					b.ready <- batch
					return
				}
				batch = append(batch, it)
				continue
			case <-windowEnd.C:
				windowOver = true
				continue
			case out <- batch:
			}
			break
		}
		windowEnd.Stop()
	}
}

// run estimates batches, one at a time, each on a CPU slot.
func (b *batcher) run() {
	defer b.running.Done()
	for batch := range b.ready {
		b.runBatch(batch)
	}
}

func (b *batcher) runBatch(batch []*batchItem) {
	// Images whose requests ended while they waited are answered and not run.
	b.waiting.Add(-int64(len(batch)))
	live := batch[:0]
	for _, it := range batch {
		if err := it.ctx.Err(); err != nil {
			it.done <- batchResult{err: fmt.Errorf("%w: waiting in a batch: %w", errBusy, err), waited: time.Since(it.queued)}
			it.release()
			continue
		}
		live = append(live, it)
	}
	if len(live) == 0 {
		return
	}
	// The run stops only once every request in it has ended: one client
	// leaving must not fail the others.
	ctx, cancel := allDone(live)
	defer cancel()
	if err := b.slots.Acquire(ctx, 1); err != nil {
		for _, it := range live {
			it.done <- batchResult{err: fmt.Errorf("%w: no free inference slot: %w", errBusy, err), waited: time.Since(it.queued)}
			it.release()
		}
		return
	}
	defer b.slots.Release(1)
	for _, it := range live {
		it.started.Store(true)
	}
	start := time.Now()
	imgs := make([]*image.NRGBA, len(live))
	for i, it := range live {
		imgs[i] = it.img
	}
	if b.observe != nil {
		b.observe(len(live))
	}
	faces, errs := b.estimate(ctx, imgs)
	for i, it := range live {
		r := batchResult{waited: start.Sub(it.queued), size: len(live)}
		switch {
		case len(faces) != len(imgs) || len(errs) != len(imgs):
			r.err = fmt.Errorf("estimator returned %d results and %d errors for %d images", len(faces), len(errs), len(imgs))
		case errs[i] != nil:
			r.err = fmt.Errorf("estimate age and gender: %w", errs[i])
		default:
			r.faces = faces[i]
		}
		it.done <- r
		it.release()
	}
}

// estimate calls the estimator, turning a panic into an error for every
// image, since a panic on a runner's goroutine would kill the server.
func (b *batcher) estimate(ctx context.Context, imgs []*image.NRGBA) (faces [][]face.Face, errs []error) {
	defer func() {
		if p := recover(); p != nil {
			faces, errs = make([][]face.Face, len(imgs)), make([]error, len(imgs))
			for i := range errs {
				errs[i] = fmt.Errorf("estimator panicked: %v", p)
			}
		}
	}()
	return b.est.FacesContext(ctx, imgs)
}

// allDone returns a context that ends when every item's context has ended.
// A batch of one runs under its request's own context, so that the
// estimator sees why it ended (deadline or client gone); a larger batch's
// ends as cancelled.
func allDone(items []*batchItem) (context.Context, context.CancelFunc) {
	if len(items) == 1 {
		return items[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := atomic.Int64{}
	left.Store(int64(len(items)))
	stops := make([]func() bool, len(items))
	for i, it := range items {
		stops[i] = context.AfterFunc(it.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// close stops taking images, lets the batches already formed run, and
// returns once every runner has finished or ctx ends. Handlers must have
// returned (http.Server.Shutdown), but their abandoned images may still
// be queued.
func (b *batcher) close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	// A submit that passed the closed check may still be sending; it ends
	// when its request's context does, at the latest.
	for b.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for images to join a batch: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	close(b.in)
	idle := make(chan struct{})
	go func() { b.running.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for running batches: %w", ctx.Err())
	}
}
