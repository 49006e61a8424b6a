//go:build !cgo

package detect

import "errors"

// session stands in for ONNX Runtime's, which needs cgo. No Detector is made
// in such a build (predict.New refuses first); these keep the package, its
// pure geometry and its tests building.
type session struct{}

var errNoCgo = errors.New("face detector: built without cgo, so ONNX Runtime is not available")

// Close has nothing to release.
func (d *Detector) Close() error { return nil }

func (d *Detector) run([]float32, int, int) ([][]float32, error) { return nil, errNoCgo }
