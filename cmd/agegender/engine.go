package main

import (
	"context"
	"fmt"
	"os"

	"github.com/agegender/agegender/internal/assets"
	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/models"
)

// detectorEnv names a detector file when --detector-model does not.
const detectorEnv = "AGEGENDER_DETECTOR"

// maxModelBytes bounds a model or detector file, which is read whole into
// memory: the embedded model is 1.4 MB and the largest SCRFD 17 MB, so 256 MB
// leaves room for any model that runs on CPU and stops --model /dev/zero-like
// files long before they matter.
const maxModelBytes = 256 << 20

// openEngine finds the native pieces the flags name (or their defaults) and
// starts ONNX Runtime. It is the only place the command line meets ORT; in a
// build without cgo predict.New says how to get the real engine.
func openEngine(c cli.EngineConfig) (cli.Engine, error) {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	lib, err := assets.ORTLibrary.Find(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	var detector []byte
	var detectorName string
	if c.Mode != face.DetectOff {
		if detector, detectorName, err = readDetector(ctx, c.Detector); err != nil {
			return nil, err
		}
	}
	modelBytes, modelName := models.Default(), models.DefaultName
	if c.Model != "" {
		if modelBytes, err = safeio.ReadFile(ctx, c.Model, maxModelBytes, "read model (from --model)"); err != nil {
			return nil, err
		}
		modelName = c.Model
	}
	eng, err := predict.New(predict.Options{
		LibraryPath: lib, Model: modelBytes, ModelName: modelName,
		Detector: detector, DetectorName: detectorName, Mode: c.Mode, Detect: c.Detect, Threads: c.Threads,
	})
	if err != nil {
		// A nil *Engine in a non-nil interface would look open to the caller.
		return nil, err
	}
	return eng, nil
}

// readDetector returns the detector the flag or $AGEGENDER_DETECTOR names,
// else the embedded YuNet.
func readDetector(ctx context.Context, flagValue string) ([]byte, string, error) {
	path, from := flagValue, "--detector-model"
	if path == "" {
		path, from = os.Getenv(detectorEnv), "$"+detectorEnv
	}
	if path == "" {
		return models.Detector(), models.DetectorName, nil
	}
	// An empty file is refused here: predict.New would take it for no
	// detector at all and say that none was given.
	data, err := safeio.ReadFile(ctx, path, maxModelBytes, fmt.Sprintf("read face detector (from %s)", from))
	if err != nil {
		return nil, "", err
	}
	return data, path, nil
}
