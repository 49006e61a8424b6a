package predict

import (
	"context"
	"fmt"

	"github.com/agegender/agegender/internal/assets"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/models"
)

// DetectorEnv names a detector file when EngineConfig.Detector does not;
// the caller reads it (EngineConfig.DetectorFromEnv), so that the engine
// reads no environment of its own.
const DetectorEnv = "AGEGENDER_DETECTOR"

// maxModelBytes bounds a model or detector file, which is read whole into
// memory: the embedded presets are 14 MB at most and the largest SCRFD 17 MB, so 256 MB
// leaves room for any model that runs on CPU and stops --model /dev/zero-like
// files long before they matter.
const maxModelBytes = 256 << 20

// Open finds the ONNX Runtime library, reads the model and detector files
// c names (or takes the embedded ones), and starts an engine with New. Reading stops when ctx ends. It is how the command line, the
// benchmarks and the training tools all assemble the engine, so that they
// run the same one.
func Open(ctx context.Context, c face.EngineConfig) (*Engine, error) {
	lib, err := assets.ORTLibrary.Find(c.ORTLibrary)
	if err != nil {
		return nil, err
	}
	var detector []byte
	var detectorName string
	if c.Mode != face.DetectOff {
		if detector, detectorName, err = readDetector(ctx, c.Detector, c.DetectorFromEnv); err != nil {
			return nil, err
		}
	}
	model, modelName, preset, err := readModel(ctx, c.Model)
	if err != nil {
		return nil, err
	}
	return New(Options{
		LibraryPath: lib, Model: model, ModelName: modelName, Preset: preset,
		Detector: detector, DetectorName: detectorName, Mode: c.Mode, Detect: c.Detect, Threads: c.Threads,
		CropMargin: c.CropMargin, IntervalLevel: c.IntervalLevel,
	})
}

// readModel returns the model that name names (a preset, or else a file),
// its name for messages, and the preset's name ("" for a file).
func readModel(ctx context.Context, name string) (model []byte, label, preset string, err error) {
	if name == "" {
		name = models.DefaultPreset
	}
	if p, ok := models.LookupPreset(name); ok {
		return p.Bytes(), p.Label(), p.Name, nil
	}
	if model, err = safeio.ReadFile(ctx, name, maxModelBytes, "read model (from --model)"); err != nil {
		return nil, "", "", fmt.Errorf("%w (--model takes a file or a preset: %s)", err, models.PresetNames())
	}
	return model, name, "", nil
}

// readDetector returns the detector the flag or, without one, the
// environment names, else the embedded YuNet.
func readDetector(ctx context.Context, flagValue, envValue string) ([]byte, string, error) {
	path, from := flagValue, "--detector-model"
	if path == "" {
		path, from = envValue, "$"+DetectorEnv
	}
	if path == "" {
		return models.Detector(), models.DetectorName, nil
	}
	// An empty file is refused here: New would take it for no detector at
	// all and say that none was given.
	data, err := safeio.ReadFile(ctx, path, maxModelBytes, fmt.Sprintf("read face detector (from %s)", from))
	if err != nil {
		return nil, "", err
	}
	return data, path, nil
}
