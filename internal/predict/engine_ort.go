//go:build cgo

package predict

import (
	"errors"
	"fmt"
	"os"
	"slices"

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
	if o.CropMargin > 0 {
		e.contract.Crop.Margin = o.CropMargin
	}
	opts, err := sessionOptions(o.Threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	e.session, err = ort.NewDynamicAdvancedSessionWithONNXData(o.Model, []string{e.contract.Input.Name},
		e.outputNames(), opts)
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
	if o.IntervalLevel == 0 {
		o.IntervalLevel = DefaultIntervalLevel
	}
	if !(o.IntervalLevel > 0 && o.IntervalLevel < 1) {
		return fmt.Errorf("age interval level %g is not between 0 and 1 (0.8 holds 80%% of each age distribution)", o.IntervalLevel)
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
	for _, name := range e.outputNames() {
		if !slices.ContainsFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == name }) {
			return fmt.Errorf("graph lacks the output %q named in its metadata", name)
		}
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
	level := 0.0
	if e.contract.Outputs.AgeDistribution.Name != "" {
		level = e.opts.IntervalLevel
	}
	return face.EngineInfo{
		IntervalLevel: level, Preset: e.opts.Preset, Model: e.contract.Name, ModelVersion: e.contract.Version, ORTVersion: ort.GetVersion(),
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
// and returns each face's age, probability of being female and, when the
// model gives one, age distribution. It is the seam the parity tests and
// benchmarks use.
func (e *Engine) RunTensor(data []float32, n int) (Outputs, error) {
	if n <= 0 || len(data) != n*e.spec.Len() {
		return Outputs{}, fmt.Errorf("model input: %d values for %d faces, want %d each", len(data), n, e.spec.Len())
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(e.spec.Channels()), int64(e.spec.Height), int64(e.spec.Width)), data)
	if err != nil {
		return Outputs{}, fmt.Errorf("model input: %w", err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(e.outputNames()))
	if err := e.session.Run([]ort.Value{in}, outs); err != nil {
		return Outputs{}, fmt.Errorf("run age/gender model: %w", err)
	}
	vals := make([][]float32, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			return Outputs{}, fmt.Errorf("age/gender model output %q is not float32", e.outputNames()[i])
		}
		vals[i] = t.GetData()
	}
	bins := e.contract.Outputs.AgeDistribution.Bins
	if len(vals[0]) != n || len(vals[1]) != n || (len(vals) > 2 && len(vals[2]) != n*bins) {
		return Outputs{}, fmt.Errorf("age/gender model returned unexpected outputs (want %d faces' values)", n)
	}
	out := Outputs{Age: slices.Clone(vals[0]), PFemale: slices.Clone(vals[1])}
	if len(vals) > 2 {
		out.AgeDistribution, out.Bins = slices.Clone(vals[2]), bins
	}
	if !e.femaleOut {
		for i := range out.PFemale {
			out.PFemale[i] = 1 - out.PFemale[i]
		}
	}
	return out, nil
}

// outputNames are the graph outputs the engine reads, in the order
// RunTensor reads them: age, gender and, when the model has one, the age
// distribution.
func (e *Engine) outputNames() []string {
	names := []string{e.contract.Outputs.Age.Name, e.contract.Outputs.Gender.Name}
	if d := e.contract.Outputs.AgeDistribution; d.Name != "" {
		names = append(names, d.Name)
	}
	return names
}
