package pipeline

import (
	"context"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
)

// workerMemory is how one worker holds Options.Budget (none when nil): an
// input's bytes are held before they are read, and what decoding takes once
// its header is read (decode.go). A worker never waits while it holds: with
// images of its batch held it tries, and on failure sends them through the
// model first (flush), releasing them.
type workerMemory struct {
	ctx     context.Context
	b       *budget.Budget
	holding func() bool
	flush   func()
}

// total is the budget's size, 0 for none.
func (m *workerMemory) total() int64 {
	if m == nil || m.b == nil {
		return 0
	}
	return m.b.Total()
}

// wait holds n bytes, waiting for them when the worker holds nothing else.
func (m *workerMemory) wait(n int64) (func(), error) {
	if m.b == nil {
		return func() {}, nil
	}
	if m.holding() {
		if release, ok := m.b.TryAcquire(n); ok {
			return release, nil
		}
		m.flush()
	}
	return m.b.Acquire(m.ctx, n)
}

// grow holds n more bytes for an input whose bytes the worker holds, only
// if they are free now (ahead of other workers waiting to read: this one
// waited its turn), sending the batch through the model first if that
// frees them.
func (m *workerMemory) grow(n int64) (func(), bool) {
	if m.b == nil {
		return func() {}, true
	}
	if release, ok := m.b.TryGrow(n); ok {
		return release, true
	}
	if !m.holding() {
		return nil, false
	}
	m.flush()
	return m.b.TryGrow(n)
}

// cost is what an image of header h holds while est decodes and
// estimates it (Header.CostWith), and its annotated copy with Inspect.
func (o Options) cost(h preprocess.Header, est face.Estimator) int64 {
	n := h.CostWith(est)
	if o.Inspect != nil {
		n += int64(h.Width) * int64(h.Height) * o.InspectCost
	}
	return n
}
