package budget

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAcquireWaitsUntilReleased(t *testing.T) {
	b := New(100)
	r1, err := b.Acquire(context.Background(), 60)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		r2, err := b.Acquire(context.Background(), 60)
		if err != nil {
			t.Error(err)
		}
		got <- r2
	}()
	select {
	case <-got:
		t.Fatal("second 60 of a 100 budget was admitted while the first was held")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	r1() // a second release must not give the bytes back twice
	select {
	case r2 := <-got:
		r2()
	case <-time.After(2 * time.Second):
		t.Fatal("release did not admit the waiting acquire")
	}
	// After both releases the whole budget is free again, and no more.
	r, err := b.Acquire(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("double release leaked bytes: acquire over a full budget gave %v", err)
	}
	r()
}

func TestAcquireRefusesMoreThanTheWhole(t *testing.T) {
	b := New(1 << 20)
	_, err := b.Acquire(context.Background(), 3<<20)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if want := "needs 3.0 MB, over the memory budget of 1.0 MB"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

func TestAcquireStopsOnCancel(t *testing.T) {
	b := New(10)
	r, _ := b.Acquire(context.Background(), 10)
	defer r()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := b.Acquire(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestTryAcquire(t *testing.T) {
	b := New(10)
	r, ok := b.TryAcquire(7)
	if !ok {
		t.Fatal("7 of a free 10 refused")
	}
	if _, ok := b.TryAcquire(4); ok {
		t.Fatal("4 more admitted over a 10 budget holding 7")
	}
	if _, ok := b.TryAcquire(11); ok {
		t.Fatal("more than the whole admitted")
	}
	r()
	if r2, ok := b.TryAcquire(10); !ok {
		t.Fatal("the whole budget refused after release")
	} else {
		r2()
	}
}

// A holder that must not wait may grow ahead of the waiters: TryAcquire
// fails while anyone waits, so a batch worker that held a file's bytes
// always gave them up and read the file again.
func TestTryGrowGoesAheadOfWaiters(t *testing.T) {
	b := New(100)
	held, _ := b.Acquire(context.Background(), 60)
	waiting := make(chan error, 1)
	go func() {
		r, err := b.Acquire(context.Background(), 60)
		if err == nil {
			r()
		}
		waiting <- err
	}()
	for b.queued() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := b.TryAcquire(10); ok {
		t.Error("TryAcquire went ahead of a waiter")
	}
	more, ok := b.TryGrow(10)
	if !ok {
		t.Fatal("TryGrow of 10 free bytes failed while another waited")
	}
	if _, ok := b.TryGrow(31); ok {
		t.Error("TryGrow took more than is free")
	}
	more()
	held()
	if err := <-waiting; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
}
