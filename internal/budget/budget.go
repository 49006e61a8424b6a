// Package budget bounds the memory that concurrent work holds at once. Every
// image is charged, before it is decoded, the bytes its header says decoding
// will take; work waits while the budget is spent, so that whatever arrives
// (a hundred headers that each declare 10000x10000), the pixels held across
// all goroutines stay under one figure.
package budget

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/agegender/agegender/internal/bytesize"
)

// ErrTooLarge means one piece of work asks for more than the whole budget, so
// that waiting could never admit it.
var ErrTooLarge = errors.New("over the memory budget")

// Budget is a weighted semaphore over bytes. It is safe for concurrent use;
// the zero value is not usable, call New.
type Budget struct {
	sem   *semaphore.Weighted
	total int64
}

// New returns a budget of total bytes; total must be positive.
func New(total int64) *Budget {
	if total <= 0 {
		panic(fmt.Sprintf("budget.New(%d): the total must be positive", total))
	}
	return &Budget{sem: semaphore.NewWeighted(total), total: total}
}

// Total is the budget's size in bytes.
func (b *Budget) Total() int64 { return b.total }

// Acquire reserves n bytes, waiting until they are free or ctx ends. It
// refuses at once, wrapping ErrTooLarge, when n exceeds the whole budget. The
// returned release gives the bytes back; calling it more than once is safe,
// so that an early release and a deferred one can both be written.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	if n < 0 {
		n = 0
	}
	if n > b.total {
		return nil, fmt.Errorf("needs %s, %w of %s", bytesize.Amount(n), ErrTooLarge, bytesize.Amount(b.total))
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { b.sem.Release(n) }) }, nil
}

// TryAcquire reserves n bytes only if they are free now. A holder that waits
// for more while keeping what it has can deadlock with another doing the
// same; such a holder tries instead, and on failure gives back what it holds
// before it waits.
func (b *Budget) TryAcquire(n int64) (release func(), ok bool) {
	n = max(n, 0)
	if n > b.total || !b.sem.TryAcquire(n) {
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { b.sem.Release(n) }) }, true
}
