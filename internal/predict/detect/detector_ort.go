//go:build cgo

package detect

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// session is ONNX Runtime's; a build without cgo has a stand-in.
type session = ort.DynamicAdvancedSession

// New loads the detector model; ORT's environment must be initialised.
func New(modelPath string, opts *ort.SessionOptions) (*Detector, error) {
	s, err := ort.NewDynamicAdvancedSession(modelPath, []string{inputName}, outputNames, opts)
	if err != nil {
		return nil, fmt.Errorf("load face detector %s: %w", modelPath, err)
	}
	return &Detector{session: s, anchors: Anchors()}, nil
}

// Close releases the session.
func (d *Detector) Close() error {
	if d == nil || d.session == nil {
		return nil
	}
	err := d.session.Destroy()
	d.session = nil
	return err
}

// run feeds one letterboxed NHWC input to the model and returns its scores
// and box regressions, both output pairs joined.
func (d *Detector) run(data []float32) (scores, regs []float32, err error) {
	in, err := ort.NewTensor(ort.NewShape(1, inputSize, inputSize, 3), data)
	if err != nil {
		return nil, nil, fmt.Errorf("detector input: %w", err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(outputNames))
	if err := d.session.Run([]ort.Value{in}, outs); err != nil {
		return nil, nil, fmt.Errorf("run face detector: %w", err)
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	var f [4][]float32
	for i, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			return nil, nil, fmt.Errorf("detector output %s is not float32", outputNames[i])
		}
		f[i] = t.GetData()
	}
	scores = append(append([]float32(nil), f[0]...), f[1]...)
	regs = append(append([]float32(nil), f[2]...), f[3]...)
	return scores, regs, nil
}
