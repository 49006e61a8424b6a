//go:build cgo

package predict_test

import (
	"sync"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
)

// autoLender lends one engine in mode auto to the long tests on the shared
// data sets, so that they can run side by side (t.Parallel): a process runs
// one engine at a time, and the engine is safe for concurrent use. Each
// took a core for 20-40 s one after the other.
var autoLender struct {
	mu    sync.Mutex
	e     *predict.Engine
	users sync.WaitGroup
}

// sharedAutoEngine returns the lent engine, starting it for the first test
// that asks. That test closes it as it ends, once every other test it was
// lent to has ended, so that a later test or benchmark can start its own.
// For parallel tests, which start together after the sequential ones have
// closed their engines.
func sharedAutoEngine(t *testing.T) *predict.Engine {
	t.Helper()
	autoLender.mu.Lock()
	defer autoLender.mu.Unlock()
	if autoLender.e != nil {
		autoLender.users.Add(1)
		t.Cleanup(autoLender.users.Done)
		return autoLender.e
	}
	e := newEngine(t, face.DetectAuto)
	autoLender.e = e
	// Registered after newEngine's Close, so it runs before it.
	t.Cleanup(func() {
		autoLender.mu.Lock()
		defer autoLender.mu.Unlock()
		autoLender.users.Wait()
		autoLender.e = nil
	})
	return e
}
