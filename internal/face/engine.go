package face

import "fmt"

// EngineConfig is what a command asks of the engine: the one set of engine
// options, filled from the flags (internal/cli) or a tool's own and handed
// as it is to predict.Open, which reads the files it names.
type EngineConfig struct {
	// ORTLibrary is the ONNX Runtime library (--ort-lib); empty searches
	// next to the binary, then .deps/lib.
	ORTLibrary string
	// Model is the age/gender model (--model): the name of an embedded
	// preset, else a file's path; empty is the default preset. A file that
	// shares a preset's name is given as ./NAME.
	Model string
	// Detector is the face detector file (--detector-model); empty falls
	// back to DetectorFromEnv, then to the embedded YuNet. No detector is
	// read with Mode off.
	Detector string
	// DetectorFromEnv is $AGEGENDER_DETECTOR's value, read by the caller
	// (cmd/agegender), so that the engine reads no environment; empty for
	// tools that take the detector from their flags alone.
	DetectorFromEnv string
	Mode            Mode
	Detect          DetectParams
	// Threads is ONNX Runtime's intra-op thread count per inference; 0
	// means 1.
	Threads int
	// IntervalLevel is the share of each age distribution the age
	// interval holds; 0 means the engine's default (0.8).
	IntervalLevel float64
	// CropMargin, when above 0, replaces the margin of the model's
	// framing: training/facecrop crops with a wider margin than any
	// candidate model uses, so that one cropping serves a study of margins.
	CropMargin float64
}

// EngineInfo describes a loaded engine, for `version`, eval's summary and
// /health.
type EngineInfo struct {
	// Preset is the embedded preset in use ("accurate", "fast"), or ""
	// for a model file.
	Preset       string
	Model        string
	ModelVersion string
	ORTVersion   string
	Mode         Mode
	// Input is the model's input, e.g. "64x64 RGB".
	Input    string
	Detector string
	// IntervalLevel is the share of each age distribution the age
	// interval holds, or 0 for a model that gives no distribution.
	IntervalLevel float64
}

// Describe names the model in a line: "agegender-v4 2026-12-07+1a2b3c4d
// (preset accurate, input 160x160 RGB)"; a model file has no preset.
func (i EngineInfo) Describe() string {
	what := "input " + i.Input
	if i.Preset != "" {
		what = "preset " + i.Preset + ", " + what
	}
	return fmt.Sprintf("%s %s (%s)", i.Model, i.ModelVersion, what)
}

// Fields describe the engine as version --json and GET /health report it.
func (i EngineInfo) Fields() map[string]any {
	out := map[string]any{
		"model": i.Model, "model_version": i.ModelVersion, "ort_version": i.ORTVersion,
		"detect": string(i.Mode), "input": i.Input, "detector": i.Detector,
	}
	if i.Preset != "" {
		out["preset"] = i.Preset
	}
	if i.IntervalLevel > 0 {
		out["age_interval"] = i.IntervalLevel
	}
	return out
}
