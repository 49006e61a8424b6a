package cli

// The flags several commands share, and their checks.

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/models"
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
	interval                float64
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
	fs.Float64Var(&f.interval, "age-interval", 0.8, "share of each face's age distribution that age_low..age_high holds, 0.5..0.99 (0.8 is the level calibrated to cover the true age that often)")
	fs.IntVar(&f.threads, "threads", 1, fmt.Sprintf("ONNX Runtime threads per inference, 1..%d; workers run inferences in parallel, so the default worker count is cores / threads", maxThreads))
}

// registerModelFlags registers the flags that locate ONNX Runtime and the
// model, which version shares with the commands that run the model.
func registerModelFlags(fs *pflag.FlagSet, ortLib, model *string) {
	fs.StringVar(ortLib, "ort-lib", "", "ONNX Runtime library (default: $AGEGENDER_ORT_LIB, next to the binary, then .deps/lib from make setup)")
	fs.StringVar(model, "model", models.DefaultPreset, "age/gender model: an embedded preset, "+models.PresetList()+", or an ONNX file with agegender metadata (./NAME for a file named like a preset)")
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
	if !(f.interval >= 0.5 && f.interval <= 0.99) {
		return "", face.DetectParams{}, usagef("--age-interval %g is out of range: use 0.5..0.99", f.interval)
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
	return f.opener(ctx, face.EngineConfig{
		ORTLibrary: f.ortLib, Model: f.model, Detector: f.detector,
		Mode: mode, Detect: params, Threads: f.threads, IntervalLevel: f.interval,
	})
}

// Flag ranges. Each bound is far past any useful value and well short of
// what would exhaust the machine: --workers 100000000 once died of OOM
// allocating its channels instead of giving a usage error.
const (
	maxWorkers  = 256
	maxThreads  = 64
	minMemoryMB = 64
	maxMemoryMB = 1 << 20
	defMemoryMB = 384
	memorySlack = 128 << 20 // the engine, buffers and the collector outside the budget
	bytesPerMiB = 1 << 20
)

// runFlags are the flags of the commands that run a batch of inputs
// (predict, batch and eval).
type runFlags struct {
	workers  int
	memoryMB int
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("parallel workers, 1..%d (default: cores / --threads, at least 1)", maxWorkers))
	fs.IntVar(&f.memoryMB, "max-memory", defMemoryMB, fmt.Sprintf(
		"MB of decoded images held at once across workers, %d..%d; a larger image is refused, others wait their turn", minMemoryMB, maxMemoryMB))
}

func (f *runFlags) validate() error {
	if f.workers < 0 || f.workers > maxWorkers {
		return usagef("--workers %d is out of range: use 1..%d, or 0 for cores / --threads", f.workers, maxWorkers)
	}
	if f.memoryMB < minMemoryMB || f.memoryMB > maxMemoryMB {
		return usagef("--max-memory %d is out of range: use %d..%d MB", f.memoryMB, minMemoryMB, maxMemoryMB)
	}
	return nil
}

// workerCount sizes the pool to the machine: each worker runs one inference
// at a time on threads ONNX Runtime threads, so unless --workers is given,
// workers × threads is the core count (--threads 4 on 16 cores: 4 workers,
// not 16 running 64 threads that fight for the cores).
func workerCount(workers, threads, cores int) int {
	if workers > 0 {
		return workers
	}
	return max(1, cores/max(1, threads))
}

// budget returns the memory budget for decoded images and sets the Go
// runtime's soft memory limit a little above it: the budget bounds what is
// live, the limit makes the collector return it before the heap doubles.
func (f *runFlags) budget() *budget.Budget {
	total := int64(f.memoryMB) * bytesPerMiB
	debug.SetMemoryLimit(total + memorySlack)
	return budget.New(total)
}

// checkOutputFlags refuses an output path that starts with '-' (other than
// "-", stdout): pflag takes the word after --jsonl as its value even when it
// is the next flag, so `batch DIR --jsonl --quiet` wrote a file named
// "--quiet" and dropped --quiet. A file that really starts with '-' can be
// named ./-x. flags maps each flag's name to its value; empty values are unset.
func checkOutputFlags(flags ...[2]string) error {
	for _, f := range flags {
		name, v := f[0], f[1]
		if v != "-" && strings.HasPrefix(v, "-") {
			return usagef("--%s %q: an output path that starts with '-' looks like a flag; for a file of that name write ./%s", name, v, v)
		}
	}
	return nil
}

// registerListing registers how batch lists its inputs (--ext, --null).
// merge takes the same flags and lists the batch's arguments again, so
// that its input order is batch's by construction.
func registerListing(fs *pflag.FlagSet, l *job.Listing, extHelp string) {
	fs.StringSliceVar(&l.Exts, "ext", nil, extHelp)
	fs.BoolVarP(&l.Null, "null", "0", false, "with -, paths on stdin are NUL-separated")
}
