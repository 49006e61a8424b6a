package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/agegender/agegender/internal/face"
)

// engineFlags are the flags every command that runs the model shares.
type engineFlags struct {
	ortLib, model, detector string
	detect                  string
	minScore                float64
	maxFaces                int
	minFaceSize             float64
	detSize, detSecondSize  int
	threads                 int
	opener                  OpenEngine
}

func (f *engineFlags) register(fs *pflag.FlagSet, open OpenEngine) {
	f.opener = open
	d := face.DefaultDetectParams()
	registerModelFlags(fs, &f.ortLib, &f.model)
	fs.StringVar(&f.detector, "detector-model", "", "face detector ONNX file, YuNet or SCRFD with keypoints, recognised by its inputs and outputs (default: $AGEGENDER_DETECTOR, else the built-in YuNet)")
	fs.StringVar(&f.detect, "detect", string(face.DetectAuto), "face detection: auto (detect; a tight crop with no detection is used whole), on (no face is an error), off (whole image is one face)")
	fs.Float64Var(&f.minScore, "min-score", d.MinScore, "minimum detection score, 0..1, on the detector's own scale (0: the detector's default, YuNet 0.7, SCRFD 0.45; 'agegender version' shows the one in use)")
	fs.IntVar(&f.maxFaces, "max-faces", 0, "keep at most this many faces per image, most confident first (0: all)")
	fs.Float64Var(&f.minFaceSize, "min-face-size", d.MinSize, "ignore faces smaller than this many pixels")
	fs.IntVar(&f.detSize, "det-size", d.InputSize, fmt.Sprintf("long side in pixels photos are shrunk to for detection, %d..%d; 320 and 480 are faster and miss more small faces", face.MinInputSize, face.MaxSide))
	fs.IntVar(&f.detSecondSize, "det-second-size", d.SecondSide, "for photos larger than --det-size, a second detection pass at up to this long side, for the smallest faces (0: none)")
	fs.IntVar(&f.threads, "threads", 1, fmt.Sprintf("ONNX Runtime threads per inference, 1..%d; workers run inferences in parallel, so the default worker count is cores / threads", maxThreads))
}

// registerModelFlags registers the flags that locate ONNX Runtime and the
// model, which version shares with the commands that run the model.
func registerModelFlags(fs *pflag.FlagSet, ortLib, model *string) {
	fs.StringVar(ortLib, "ort-lib", "", "ONNX Runtime library (default: $AGEGENDER_ORT_LIB, next to the binary, then .deps/lib from make setup)")
	fs.StringVar(model, "model", "", "age/gender ONNX model with agegender metadata (default: the embedded models/agegender.onnx)")
}

// params checks the flags' values and ranges before anything is opened.
func (f *engineFlags) params() (face.Mode, face.DetectParams, error) {
	mode, err := face.ParseMode(f.detect)
	if err != nil {
		return "", face.DetectParams{}, usageError{err}
	}
	params := face.DefaultDetectParams()
	params.MinScore, params.MaxFaces, params.MinSize = f.minScore, f.maxFaces, f.minFaceSize
	params.InputSize, params.SecondSide = f.detSize, f.detSecondSize
	if err := params.Validate(); err != nil {
		return "", face.DetectParams{}, usageError{err}
	}
	if f.threads < 1 || f.threads > maxThreads {
		return "", face.DetectParams{}, usagef("--threads %d is out of range: use 1..%d", f.threads, maxThreads)
	}
	return mode, params, nil
}

// open starts the engine the flags ask for; ctx interrupts reading its files.
func (f *engineFlags) open(ctx context.Context) (Engine, error) {
	mode, params, err := f.params()
	if err != nil {
		return nil, err
	}
	return f.opener(ctx, EngineConfig{
		ORTLibrary: f.ortLib, Model: f.model, Detector: f.detector,
		Mode: mode, Detect: params, Threads: f.threads,
	})
}
