package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/bytesize"
)

// Admission control. Every request is charged, before a pixel is decoded,
// the memory its header says the work will take (memory), and runs on one of
// MaxConcurrent CPU slots (slots). Photos that cost more than a crop go
// through a narrower door first (largeLane, largeMemory), so that a stream of
// expensive uploads, hostile or not, can hold at most MaxConcurrent-1 cores
// and three quarters of the memory: a face crop always finds a core and the
// memory it needs without queueing behind them. The large lane's queue is
// bounded (largeQueueMax), because each large image takes seconds: a longer
// queue would only have its requests time out after holding their uploads.
type admission struct {
	memory      *budget.Budget
	largeMemory *budget.Budget
	largeLane   *semaphore.Weighted
	slots       *semaphore.Weighted
	nslots      int64
	// largeCost is the cost above which a request takes the large lane.
	largeCost int64
	// largeQueued counts large requests waiting or running, up to largeQueueMax.
	largeQueued   atomic.Int64
	largeQueueMax int64
}

// Shares of Config.MaxMemory: large requests together hold at most
// largeShare of it, and a request is large above smallShare of it (24 MB of
// the default 384 MB: a 1280x960 JPEG costs about 22 MB, a 4000x3000 one 110).
const (
	largeShareNum, largeShareDen = 3, 4
	smallShareDen                = 16
)

// largeQueuePerLane bounds the large requests waiting or running per large
// slot: a 25-megapixel photo takes about 2 s on one core, so the last of
// them waits about 8 s, well within the default 30 s timeout.
const largeQueuePerLane = 4

func newAdmission(maxMemory int64, maxConcurrent int) *admission {
	lanes := int64(max(1, maxConcurrent-1))
	return &admission{
		memory:        budget.New(maxMemory),
		largeMemory:   budget.New(maxMemory * largeShareNum / largeShareDen),
		largeLane:     semaphore.NewWeighted(lanes),
		slots:         semaphore.NewWeighted(int64(maxConcurrent)),
		nslots:        int64(maxConcurrent),
		largeCost:     maxMemory / smallShareDen,
		largeQueueMax: lanes * largeQueuePerLane,
	}
}

// large reports whether an image of this cost takes the large lane.
func (a *admission) large(cost int64) bool { return cost > a.largeCost }

// errBusy marks a request that ran out of time waiting for its turn.
var errBusy = errors.New("server busy")

// errQueueFull marks a large image refused because largeQueueMax others are
// already waiting or running.
var errQueueFull = errors.New("too many large images in progress")

// admit waits, within ctx, for the memory and a CPU slot for an image of
// the given cost, and returns the function that gives them back. It wraps
// budget.ErrTooLarge when the cost exceeds what a request of its kind may
// ever hold, errQueueFull when the large lane's queue is full, and errBusy
// when ctx ends first.
func (a *admission) admit(ctx context.Context, cost int64) (_ func(), err error) {
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	take := func(what string, sem *semaphore.Weighted) error {
		if err := sem.Acquire(ctx, 1); err != nil {
			return fmt.Errorf("%w: no free %s: %w", errBusy, what, err)
		}
		held = append(held, func() { sem.Release(1) })
		return nil
	}
	charge := func(b *budget.Budget) error {
		r, err := b.Acquire(ctx, cost)
		if errors.Is(err, budget.ErrTooLarge) {
			return fmt.Errorf("image %w", err)
		}
		if err != nil {
			return fmt.Errorf("%w: waiting for %s of memory: %w", errBusy, bytesize.Amount(cost), err)
		}
		held = append(held, r)
		return nil
	}
	if a.large(cost) {
		// The large budget is checked first so that an image over its share
		// is refused at once rather than after queueing for the lane.
		if cost > a.largeMemory.Total() {
			return nil, fmt.Errorf("image needs %s, %w of %s for one image",
				bytesize.Amount(cost), budget.ErrTooLarge, bytesize.Amount(a.largeMemory.Total()))
		}
		if a.largeQueued.Add(1) > a.largeQueueMax {
			a.largeQueued.Add(-1)
			return nil, fmt.Errorf("image needs %s, over the %s of a crop: %w (limit %d); retry later",
				bytesize.Amount(cost), bytesize.Amount(a.largeCost), errQueueFull, a.largeQueueMax)
		}
		held = append(held, func() { a.largeQueued.Add(-1) })
		if err := take("slot for large images", a.largeLane); err != nil {
			return nil, err
		}
		if err := charge(a.largeMemory); err != nil {
			return nil, err
		}
	}
	if err := charge(a.memory); err != nil {
		return nil, err
	}
	if err := take("inference slot", a.slots); err != nil {
		return nil, err
	}
	return release, nil
}

// admitMemory charges a crop-sized image's memory only, waiting within ctx:
// with micro-batching its CPU slot is taken per batch, by the batcher. It
// fails as admit does.
func (a *admission) admitMemory(ctx context.Context, cost int64) (func(), error) {
	r, err := a.memory.Acquire(ctx, cost)
	if errors.Is(err, budget.ErrTooLarge) {
		return nil, fmt.Errorf("image %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: waiting for %s of memory: %w", errBusy, bytesize.Amount(cost), err)
	}
	return r, nil
}

// waitIdle returns once no inference is running, holding every slot for an
// instant. Inferences can outlive their requests (a running ONNX Runtime
// call cannot be interrupted), so Serve calls this before returning
// and the caller may then close the engine safely.
func (a *admission) waitIdle(ctx context.Context) error {
	if err := a.slots.Acquire(ctx, a.nslots); err != nil {
		return fmt.Errorf("waiting for running inferences: %w", err)
	}
	a.slots.Release(a.nslots)
	return nil
}
