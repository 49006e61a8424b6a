package cli

import (
	"context"

	"github.com/agegender/agegender/internal/face"
)

// Engine is the inference engine as the commands use it: internal/predict's
// in the binary, a fake in this package's tests.
type Engine interface {
	face.Estimator
	Info() face.EngineInfo
	// WorkingMemory is what estimating a width x height image takes beyond
	// its pixels (the detector's passes), charged to the memory budget.
	WorkingMemory(width, height int) int64
	Close() error
}

// EngineConfig is what the engine flags ask for, checked.
type EngineConfig struct {
	// ORTLibrary, Model and Detector are the flags' paths; empty means the
	// defaults (found next to the binary or in .deps, the embedded model).
	ORTLibrary, Model, Detector string
	Mode                        face.Mode
	Detect                      face.DetectParams
	// Threads is ONNX Runtime's intra-op thread count per inference.
	Threads int
}

// OpenEngine starts an engine; reading its files stops when ctx ends
// (Ctrl-C). Commands call it after every flag is checked and the output is
// opened, so that a setup error leaves nothing behind; the caller closes the
// engine.
type OpenEngine func(ctx context.Context, c EngineConfig) (Engine, error)
