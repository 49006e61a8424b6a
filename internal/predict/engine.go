// Package predict owns the ONNX Runtime lifecycle and turns decoded images
// into faces with age and gender: it detects and aligns faces as the model's
// metadata asks, batches the crops of several images into one model run, and
// is safe for concurrent workers.
package predict

import (
	"context"
	"errors"
	"image"
	"math"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

// Options configure an Engine.
type Options struct {
	// LibraryPath is the ONNX Runtime shared library (see internal/assets).
	LibraryPath string
	// Model is the age/gender ONNX file's bytes; ModelName names it in errors.
	Model     []byte
	ModelName string
	// Preset is the embedded preset's name when Model is one ("" for a
	// file), for Info.
	Preset string
	// Detector is the face detector ONNX file's bytes (YuNet or SCRFD,
	// recognised by its tensor names); DetectorName names it in errors. It
	// may be empty only with Mode off.
	Detector     []byte
	DetectorName string
	Mode         face.Mode
	Detect       face.DetectParams
	// Threads is ORT's intra-op thread count per session. The engine is meant
	// to be shared by one worker per core, each run using one thread, which
	// beat several intra-op threads on 2 cores; 0 means 1.
	Threads int
	// MaxBatch bounds the faces sent to the model in one run; 0 means 32.
	MaxBatch int
	// IntervalLevel is the share of each face's age distribution its age
	// interval holds; 0 means DefaultIntervalLevel.
	IntervalLevel float64
	// CropMargin, when above 0, replaces the margin of the model's framing:
	// training/facecrop crops with a wider margin than any candidate model
	// uses, so that one cropping serves a study of margins.
	CropMargin float64
}

// Engine runs detection and the age/gender model. Create one per process
// and share it; Close releases ONNX Runtime.
type Engine struct {
	opts      Options
	contract  contract
	spec      preprocess.Spec
	session   *session
	detector  *detect.Detector
	femaleOut bool // whether the gender output is P(Female)
}

// WorkingMemory is about the most memory, in bytes, that estimating the
// faces of a decoded width x height image takes beyond the image itself and
// what the engine holds anyway: the detector's resizes, its passes larger
// than the default input size, and in mode auto the padded copy it retries
// on with that copy's passes. Memory budgets (batch's and serve's) add it
// to the image's own cost, so that a large --det-size or the retry of a
// large photo is charged for, or refused, rather than unseen.
func (e *Engine) WorkingMemory(width, height int) int64 {
	if e.detector == nil || width <= 0 || height <= 0 {
		return 0
	}
	sizes := []image.Point{{width, height}}
	n := int64(resizeBytes)
	if e.opts.Mode == face.DetectAuto {
		sizes = append(sizes, paddedSize(width, height))
		n += paddedCost(width, height)
	}
	return n + e.detector.Memory(e.opts.Detect, sizes...)
}

// Detections runs the engine's face detector with p in place of the engine's
// own parameters, for tools that study raw detections (training/framing), so that
// they need no ONNX Runtime environment of their own.
func (e *Engine) Detections(ctx context.Context, img *image.NRGBA, p face.DetectParams) ([]detect.Detection, error) {
	if e.detector == nil {
		return nil, errors.New("the engine runs with detection off: it has no detector")
	}
	return e.detector.DetectContext(ctx, img, p)
}

// Mode is the detection mode the engine runs in.
func (e *Engine) Mode() face.Mode { return e.opts.Mode }

// faceJob is one face waiting for the model: where it came from and its crop.
type faceJob struct {
	image int
	face  face.Face
	crop  *image.NRGBA
}

// Faces finds and estimates the faces of each image. Faces from all the
// images go through the model together, which is where batching pays. errs[i]
// is set when image i failed; the other images still get their faces.
func (e *Engine) Faces(imgs []*image.NRGBA) (faces [][]face.Face, errs []error) {
	return e.FacesContext(context.Background(), imgs)
}

// FacesContext is Faces that stops detecting once ctx is done; the images not
// finished by then fail with ctx's error.
func (e *Engine) FacesContext(ctx context.Context, imgs []*image.NRGBA) (faces [][]face.Face, errs []error) {
	faces = make([][]face.Face, len(imgs))
	errs = make([]error, len(imgs))
	var jobs []faceJob
	for i, img := range imgs {
		found, err := e.locate(ctx, img)
		if err != nil {
			errs[i] = err
			continue
		}
		for k := range found {
			found[k].image = i
		}
		jobs = append(jobs, found...)
	}
	for start := 0; start < len(jobs); start += e.opts.MaxBatch {
		chunk := jobs[start:min(len(jobs), start+e.opts.MaxBatch)]
		if err := e.estimate(chunk); err != nil {
			for _, j := range chunk {
				errs[j.image] = err
			}
		}
	}
	for _, j := range jobs {
		if errs[j.image] == nil {
			j.face.Index = len(faces[j.image])
			faces[j.image] = append(faces[j.image], j.face)
		}
	}
	for i := range faces {
		if errs[i] != nil {
			faces[i] = nil
		} else if faces[i] == nil {
			faces[i] = []face.Face{}
		}
	}
	return faces, errs
}

// estimate runs the model on the crops and fills in age and gender.
func (e *Engine) estimate(jobs []faceJob) error {
	per := e.spec.Len()
	data := make([]float32, len(jobs)*per)
	for i, j := range jobs {
		e.spec.Tensor(j.crop, data[i*per:(i+1)*per])
	}
	out, err := e.RunTensor(data, len(jobs))
	if err != nil {
		return err
	}
	d := e.contract.Outputs.AgeDistribution
	for i := range jobs {
		f := &jobs[i].face
		f.Age = round(float64(out.Age[i]), 2)
		g, gp := face.GenderFromFemale(float64(out.PFemale[i]))
		f.Gender, f.GenderProbability = g, round(gp, 4)
		if out.Bins > 0 {
			lo, hi := centralInterval(out.AgeDistribution[i*out.Bins:(i+1)*out.Bins], d.FirstAge, d.BinYears, e.opts.IntervalLevel)
			lo, hi = round(lo, 1), round(hi, 1)
			f.AgeLow, f.AgeHigh = &lo, &hi
		}
	}
	return nil
}

// Spec is the model's input contract.
func (e *Engine) Spec() preprocess.Spec { return e.spec }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	r := math.Round(v*p) / p
	if r == 0 {
		// A -0 from rounding a hair below zero would print as "-0".
		return 0
	}
	return r
}
