//go:build !cgo

package predict

import (
	"errors"

	"github.com/agegender/agegender/internal/face"
)

// errNoCgo is what New says in a build without cgo: ONNX Runtime is a C
// library, so such a build can check flags and inputs but not run the model.
var errNoCgo = errors.New("this agegender was built without cgo, so it cannot load ONNX Runtime: " +
	"rebuild it with CGO_ENABLED=1 and a C compiler (`make build`)")

// session stands in for ONNX Runtime's, which needs cgo.
type session struct{}

// New fails: see errNoCgo.
func New(Options) (*Engine, error) { return nil, errNoCgo }

// Info describes the engine; without ONNX Runtime there is little to say.
func (e *Engine) Info() face.EngineInfo { return face.EngineInfo{Mode: e.opts.Mode} }

// Close has nothing to release.
func (e *Engine) Close() error { return nil }

// RunTensor fails: see errNoCgo.
func (e *Engine) RunTensor([]float32, int) (Outputs, error) {
	return Outputs{}, errNoCgo
}
