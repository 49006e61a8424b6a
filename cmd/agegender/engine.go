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

// detectorEnv names a detector file when --detector-model does not.
const detectorEnv = "AGEGENDER_DETECTOR"

// openEngine finds the native pieces the flags name (or their defaults) and
// starts ONNX Runtime. It is the only place the command line meets ORT; in a
// build without cgo predict.New says how to get the real engine.
func openEngine(c cli.EngineConfig) (cli.Engine, error) {
	lib, err := assets.ORTLibrary.Find(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	var detector []byte
	var detectorName string
	if c.Mode != face.DetectOff {
		if detector, detectorName, err = readDetector(c.Detector); err != nil {
			return nil, err
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
func readDetector(flagValue string) ([]byte, string, error) {
	path, from := flagValue, "--detector-model"
	if path == "" {
		path, from = os.Getenv(detectorEnv), "$"+detectorEnv
	}
	if path == "" {
		return models.Detector(), models.DetectorName, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read face detector (from %s): %w", from, err)
	}
	return data, path, nil
}
