package main

import (
	"fmt"
	"os"

	"github.com/agegender/agegender/internal/assets"
	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/models"
)

// openEngine finds the native pieces the flags name (or their defaults) and
// starts ONNX Runtime. It is the only place the command line meets ORT; in a
// build without cgo predict.New says how to get the real engine.
func openEngine(c cli.EngineConfig) (cli.Engine, error) {
	lib, err := assets.ORTLibrary.Find(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	var detector string
	if c.Mode != face.DetectOff {
		if detector, err = assets.Detector.Find(c.Detector); err != nil {
			return nil, fmt.Errorf("%w (or use --detect off to skip detection)", err)
		}
	}
	modelBytes, modelName := models.Default(), models.DefaultName
	if c.Model != "" {
		if modelBytes, err = os.ReadFile(c.Model); err != nil {
			return nil, fmt.Errorf("read model: %w", err)
		}
		modelName = c.Model
	}
	eng, err := predict.New(predict.Options{
		LibraryPath: lib, Model: modelBytes, ModelName: modelName,
		DetectorPath: detector, Mode: c.Mode, Detect: c.Detect, Threads: c.Threads,
	})
	if err != nil {
		// A nil *Engine in a non-nil interface would look open to the caller.
		return nil, err
	}
	return eng, nil
}
