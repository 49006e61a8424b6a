// Package budget bounds the memory that concurrent work holds at once. Every
// image is charged, before it is decoded, the bytes its header says decoding
// will take; work waits while the budget is spent, so that whatever arrives
// (a hundred headers that each declare 10000x10000), the pixels held across
// all goroutines stay under one figure.
package budget

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/agegender/agegender/internal/bytesize"
)

// ErrTooLarge means one piece of work asks for more than the whole budget, so
// that waiting could never admit it.
var ErrTooLarge = errors.New("over the memory budget")

// Budget is a weighted semaphore over bytes whose waiters are served in
// order. It is safe for concurrent use; the zero value is not usable, call
// New.
type Budget struct {
	total int64
	mu    sync.Mutex
	used  int64
	// waiters are the Acquires waiting, first come first served, so that a
	// large one is not passed over forever by small ones.
	waiters list.List
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when the bytes are the waiter's
}

// New returns a budget of total bytes; total must be positive.
func New(total int64) *Budget {
	if total <= 0 {
		panic(fmt.Sprintf("budget.New(%d): the total must be positive", total))
	}
	return &Budget{total: total}
}

// Total is the budget's size in bytes.
func (b *Budget) Total() int64 { return b.total }

// Acquire reserves n bytes, waiting until they are free or ctx ends. It
// refuses at once, wrapping ErrTooLarge, when n exceeds the whole budget. The
// returned release gives the bytes back; calling it more than once is safe,
// so that an early release and a deferred one can both be written.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	n = max(n, 0)
	if n > b.total {
		return nil, fmt.Errorf("needs %s, %w of %s", bytesize.Amount(n), ErrTooLarge, bytesize.Amount(b.total))
	}
	b.mu.Lock()
	if b.used+n <= b.total && b.waiters.Len() == 0 {
		b.used += n
		b.mu.Unlock()
		return b.releaser(n), nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return b.releaser(n), nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Admitted as ctx ended: give the bytes back.
		b.used -= n
		b.admit()
	default:
		b.waiters.Remove(elem)
		// A large waiter at the head may have held smaller ones back.
		b.admit()
	}
	return nil, ctx.Err()
}

// TryAcquire reserves n bytes only if they are free now and nobody waits
// for bytes: a holder that waits for more while keeping what it has can
// deadlock with another doing the same; such a holder tries instead, and
// on failure gives back what it holds before it waits.
func (b *Budget) TryAcquire(n int64) (release func(), ok bool) {
	return b.try(max(n, 0), false)
}

// TryGrow is TryAcquire for a holder that has already waited its turn: it
// takes n bytes if they are free now even while others wait, since giving
// up what it holds and queueing again would only make it do its work twice
// (a batch worker that read a file would read it again).
func (b *Budget) TryGrow(n int64) (release func(), ok bool) {
	return b.try(max(n, 0), true)
}

func (b *Budget) try(n int64, ahead bool) (func(), bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.total || (!ahead && b.waiters.Len() > 0) {
		return nil, false
	}
	b.used += n
	return b.releaser(n), true
}

// releaser gives n bytes back once, however often it is called.
func (b *Budget) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.used -= n
			b.admit()
		})
	}
}

// admit hands the free bytes to the waiters in order, stopping at the
// first that does not fit. b.mu must be held.
func (b *Budget) admit() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*waiter)
		if b.used+w.n > b.total {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// queued counts the Acquires waiting, for tests.
func (b *Budget) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}
