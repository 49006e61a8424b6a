package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/bytesize"
)

// Uploads are charged to a budget of their own while they arrive, not to
// the memory budget of the images being analysed: twelve clients that each
// sent 17 MB and stalled once held the whole memory budget, and a crop sent
// meanwhile waited 58 s.
//
// An upload is admitted whole or not at all: before it reads a byte of its
// body it reserves all the memory the body can take, its Content-Length (it
// is read into one buffer of that size), or twice MaxUpload when it declares
// none (chunked: its buffer grows by doubling). Uploads that each held part
// of what they needed and waited for more once deadlocked: two 19 MB
// uploads sent at once both got 408 after a minute. An upload that finds no
// room waits at most Config.uploadQueueWait, then is answered 429 with
// Retry-After; one admitted that stops sending is cut off (pacedBody), so
// that stalled uploads give back what an honest one needs.
//
// The budget is split into tiers by the reservation's size, as admission
// splits CPU slots and memory by cost: a crop (up to cropUpload), a phone
// photo (up to smallUpload) and larger ones each wait only behind their
// own kind, and at most largeUploadsMax large uploads may hold or wait for
// the large tier at once. An upload's bytes move to the memory budget when
// its image is admitted for decoding (imageCost counts them).
type uploadBudget struct {
	tiers [3]uploadTier
	// chunked is what an upload that declares no length reserves.
	chunked int64
	largeIn atomic.Int64
}

// uploadTier holds the reservations of up to upTo bytes (and over the tier
// before's).
type uploadTier struct {
	upTo int64
	b    *budget.Budget
}

const (
	cropUpload  = 128 << 10
	smallUpload = 2 << 20
	// largeUploadsMax bounds the uploads over smallUpload holding or waiting
	// for the large tier; more are answered 429, as large images are past
	// their lane's queue.
	largeUploadsMax = 8
)

// newUploadBudget splits total: an eighth for the crop tier, a quarter for
// the small one, the rest for the large one, each raised if need be to hold
// the largest upload of its tier (for the large one, a chunked one of
// maxUpload bytes), which would otherwise never be admitted.
func newUploadBudget(total, maxUpload int64) *uploadBudget {
	crop := max(total/8, 64*cropUpload)
	small := max(total/4, 4*smallUpload)
	return &uploadBudget{
		tiers: [3]uploadTier{
			{upTo: cropUpload, b: budget.New(crop)},
			{upTo: smallUpload, b: budget.New(small)},
			{upTo: math.MaxInt64 / 4, b: budget.New(max(total-crop-small, 2*maxUpload))},
		},
		chunked: 2 * maxUpload,
	}
}

// errUploadsBusy marks an upload refused because largeUploadsMax others
// over smallUpload hold or wait for memory.
var errUploadsBusy = errors.New("too many large uploads in progress")

// errUploadQueue marks an upload that found no memory to be received into
// within its queue wait.
var errUploadQueue = errors.New("no memory free to receive the upload")

// reserve holds the memory for a body of the declared length (negative:
// unknown), waiting at most wait for it, and returns the function that
// gives it back. It fails with errUploadsBusy at once past largeUploadsMax,
// errUploadQueue when wait passes, and ctx's error when ctx ends first.
func (ub *uploadBudget) reserve(ctx context.Context, declared int64, wait time.Duration) (func(), error) {
	n := declared
	if n < 0 {
		n = ub.chunked
	}
	tier := 0
	for tier < len(ub.tiers)-1 && n > ub.tiers[tier].upTo {
		tier++
	}
	var large func()
	if tier == len(ub.tiers)-1 {
		if ub.largeIn.Add(1) > largeUploadsMax {
			ub.largeIn.Add(-1)
			return nil, fmt.Errorf("upload of %s: %w (limit %d); retry later", bytesize.Amount(n), errUploadsBusy, largeUploadsMax)
		}
		large = func() { ub.largeIn.Add(-1) }
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rel, err := ub.tiers[tier].b.Acquire(wctx, n)
	if err != nil {
		if large != nil {
			large()
		}
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (%s) within %s; retry later", errUploadQueue, bytesize.Amount(n), wait)
		}
		return nil, fmt.Errorf("waiting for memory to hold the upload: %w", err)
	}
	if large == nil {
		return rel, nil
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			rel()
			large()
		}
	}, nil
}
