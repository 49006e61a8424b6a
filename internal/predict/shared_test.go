//go:build cgo

package predict_test

import (
	"sync"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

// autoLender lends one engine in mode auto to the long tests on the shared
// data sets, and to short ones that need no other engine, so that they can
// run side by side (t.Parallel): a process runs one engine at a time, and
// the engine is safe for concurrent use. The long ones each took a core for
// 20-40 s one after the other.
var autoLender struct {
	mu    sync.Mutex
	e     *predict.Engine
	users int
}

// sharedAutoEngine returns the lent engine, starting it if no test holds
// it. The last test holding it closes it as it ends, so that a later test
// or benchmark can start its own. For parallel tests, which start after the
// sequential ones have closed their engines.
func sharedAutoEngine(t *testing.T) *predict.Engine {
	t.Helper()
	autoLender.mu.Lock()
	defer autoLender.mu.Unlock()
	if autoLender.e == nil {
		// As newEngine(t, face.DetectAuto) starts it, less its Close at
		// the end of this one test.
		e, err := predict.New(predict.Options{
			LibraryPath: testutil.ORTLibrary(t), Model: models.Default().Bytes(), ModelName: models.Default().Label(),
			Mode: face.DetectAuto, Detect: face.DefaultDetectParams(),
			Detector: models.Detector(), DetectorName: models.DetectorName,
		})
		if err != nil {
			t.Fatal(err)
		}
		autoLender.e = e
	}
	autoLender.users++
	t.Cleanup(func() {
		autoLender.mu.Lock()
		defer autoLender.mu.Unlock()
		if autoLender.users--; autoLender.users > 0 {
			return
		}
		if err := autoLender.e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		autoLender.e = nil
	})
	return autoLender.e
}

// onTwoWorkers makes n jobs in order with next, in the calling goroutine,
// and has two workers run do on them: with another long test beside it on
// the lent engine, both cores stay busy to the end. do gets each job's
// index, so that results land in order whichever worker ran it. The
// workers are done before it returns, even when next fails the test, so
// that none uses the engine after the test's cleanup closes it.
func onTwoWorkers[J any](n int, next func(i int) J, do func(i int, j J)) {
	type job struct {
		i int
		j J
	}
	jobs := make(chan job, 2)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range jobs {
				do(x.i, x.j)
			}
		}()
	}
	defer close(jobs)
	for i := range n {
		jobs <- job{i, next(i)}
	}
}
