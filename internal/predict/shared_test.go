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
