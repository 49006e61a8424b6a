//go:build cgo

package predict

import (
	"errors"
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict/detect"
)

// session is ONNX Runtime's; a build without cgo has a stand-in
// (engine_nocgo.go).
type session = ort.DynamicAdvancedSession

// New starts ONNX Runtime and loads the models. It refuses to start a second
// engine in one process, because ORT's environment is process-wide.
func New(o Options) (e *Engine, err error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	if err := startEnvironment(o.LibraryPath); err != nil {
		return nil, err
	}
	// The deferred Close must see the engine even though every error return
	// sets the named result to nil.
	eng := &Engine{opts: o}
	e = eng
	defer func() {
		if err != nil {
			err = errors.Join(err, eng.Close())
		}
	}()

	if err := e.readContract(); err != nil {
		return nil, err
	}
	opts, err := sessionOptions(o.Threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	e.session, err = ort.NewDynamicAdvancedSessionWithONNXData(o.Model, []string{e.contract.Input.Name},
		[]string{e.contract.Outputs.Age.Name, e.contract.Outputs.Gender.Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", o.ModelName, err)
	}
	if o.Mode != face.DetectOff {
		if e.detector, err = detect.New(o.Detector, o.DetectorName, opts); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// setDefaults fills in the zero values that mean a default, and checks the
// detection options before anything is started.
func (o *Options) setDefaults() error {
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 32
	}
	if o.Mode == "" {
		o.Mode = face.DetectAuto
	}
	if o.Mode != face.DetectOff && len(o.Detector) == 0 {
		return fmt.Errorf("detection mode %q needs a face detector model, and none was given; use --detect off to skip detection", o.Mode)
	}
	if err := o.Detect.Validate(); err != nil && o.Mode != face.DetectOff {
		return err
	}
	return nil
}

// startEnvironment loads the ONNX Runtime library and creates its
// process-wide environment, with telemetry off.
func startEnvironment(libraryPath string) error {
	if ort.IsInitialized() {
		return errors.New("an ONNX Runtime engine is already running in this process")
	}
	// ONNX Runtime's telemetry (on in the npm build) starts with the
	// environment: it writes $TMPDIR/mat-debug-<pid>.log and an event
	// database, with the executable's path and a device id, under
	// ~/.cache/Microsoft. DisableTelemetry below comes too late to stop
	// either; only this variable, read when the environment is created, does.
	// It is process-wide, as the environment itself is.
	if err := os.Setenv("ORT_DISABLE_TELEMETRY", "1"); err != nil {
		return fmt.Errorf("turn off ONNX Runtime telemetry: %w", err)
	}
	ort.SetSharedLibraryPath(libraryPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("start ONNX Runtime from %s: %w", libraryPath, err)
	}
	if err := ort.DisableTelemetry(); err != nil {
		ort.DestroyEnvironment()
		return fmt.Errorf("turn off ONNX Runtime telemetry: %w", err)
	}
	return nil
}

// readContract reads the model's metadata, the contract its input and
// outputs follow, and checks the graph against it.
func (e *Engine) readContract() error {
	name := e.opts.ModelName
	meta, err := ort.GetModelMetadataWithONNXData(e.opts.Model)
	if err != nil {
		return fmt.Errorf("read model %s: %w", name, err)
	}
	raw, ok, err := meta.LookupCustomMetadataMap(metadataKey)
	meta.Destroy()
	if err != nil || !ok {
		return fmt.Errorf("model %s has no %q metadata: export it with training/main.py export", name, metadataKey)
	}
	if e.contract, err = parseContract(raw); err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	e.spec = e.contract.Spec()
	e.femaleOut = e.contract.Outputs.Gender.Positive == face.Female
	if err := e.checkShapes(); err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	return nil
}

func sessionOptions(threads int) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime session options: %w", err)
	}
	err = errors.Join(opts.SetIntraOpNumThreads(threads), opts.SetInterOpNumThreads(1))
	if threads > 1 {
		// Spinning threads steal the cores that the other workers need.
		err = errors.Join(err, opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"))
	}
	if err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("ONNX Runtime session options: %w", err)
	}
	return opts, nil
}

// checkShapes makes sure the graph matches its metadata before any image runs.
func (e *Engine) checkShapes() error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(e.opts.Model)
	if err != nil {
		return fmt.Errorf("inspect graph: %w", err)
	}
	var in *ort.InputOutputInfo
	for i := range ins {
		if ins[i].Name == e.contract.Input.Name {
			in = &ins[i]
		}
	}
	if in == nil {
		return fmt.Errorf("graph has no input %q", e.contract.Input.Name)
	}
	want := []int64{-1, int64(e.spec.Channels()), int64(e.spec.Height), int64(e.spec.Width)}
	if len(in.Dimensions) != 4 {
		return fmt.Errorf("input %q has shape %v, want [batch %d %d %d]", in.Name, in.Dimensions, want[1], want[2], want[3])
	}
	for i := 1; i < 4; i++ {
		if in.Dimensions[i] != want[i] {
			return fmt.Errorf("input %q has shape %v, but the metadata says [batch %d %d %d]", in.Name, in.Dimensions, want[1], want[2], want[3])
		}
	}
	found := 0
	for _, o := range outs {
		if o.Name == e.contract.Outputs.Age.Name || o.Name == e.contract.Outputs.Gender.Name {
			found++
		}
	}
	if found != 2 {
		return fmt.Errorf("graph lacks the outputs %q and %q named in its metadata", e.contract.Outputs.Age.Name, e.contract.Outputs.Gender.Name)
	}
	return nil
}

// Info describes the engine.
func (e *Engine) Info() face.EngineInfo {
	det := "off"
	if d := e.detector; d != nil {
		size := e.opts.Detect.InputSide()
		det = fmt.Sprintf("%s, long side %d, min score %.2f (%s)", d.Name(), size, d.MinScore(e.opts.Detect), d.ScoreScale())
		if e.opts.Detect.SecondSide > size {
			det += fmt.Sprintf(", second pass up to %d", e.opts.Detect.SecondSide)
		}
	}
	color := "RGB"
	if e.spec.Gray {
		color = "gray"
	}
	return face.EngineInfo{
		Model: e.contract.Name, ModelVersion: e.contract.Version, ORTVersion: ort.GetVersion(),
		Mode: e.opts.Mode, Detector: det,
		Input: fmt.Sprintf("%dx%d %s", e.spec.Width, e.spec.Height, color),
	}
}

// Close releases the sessions and ONNX Runtime, joining every error.
func (e *Engine) Close() error {
	if e == nil {
		return nil
	}
	var errs []error
	if e.detector != nil {
		errs = append(errs, e.detector.Close())
		e.detector = nil
	}
	if e.session != nil {
		errs = append(errs, e.session.Destroy())
		e.session = nil
	}
	if ort.IsInitialized() {
		errs = append(errs, ort.DestroyEnvironment())
	}
	return errors.Join(errs...)
}

// RunTensor runs the model on n preprocessed faces (NCHW, as Spec makes them)
// and returns each face's age and probability of being female. It is the
// seam the parity tests and benchmarks use.
func (e *Engine) RunTensor(data []float32, n int) (ages, pFemale []float32, err error) {
	if n <= 0 || len(data) != n*e.spec.Len() {
		return nil, nil, fmt.Errorf("model input: %d values for %d faces, want %d each", len(data), n, e.spec.Len())
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(e.spec.Channels()), int64(e.spec.Height), int64(e.spec.Width)), data)
	if err != nil {
		return nil, nil, fmt.Errorf("model input: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil, nil}
	if err := e.session.Run([]ort.Value{in}, outs); err != nil {
		return nil, nil, fmt.Errorf("run age/gender model: %w", err)
	}
	defer outs[0].Destroy()
	defer outs[1].Destroy()
	a, ok1 := outs[0].(*ort.Tensor[float32])
	p, ok2 := outs[1].(*ort.Tensor[float32])
	if !ok1 || !ok2 || len(a.GetData()) != n || len(p.GetData()) != n {
		return nil, nil, fmt.Errorf("age/gender model returned unexpected outputs (want %d float32 values each)", n)
	}
	ages = append([]float32(nil), a.GetData()...)
	pFemale = append([]float32(nil), p.GetData()...)
	if !e.femaleOut {
		for i := range pFemale {
			pFemale[i] = 1 - pFemale[i]
		}
	}
	return ages, pFemale, nil
}
