//go:build cgo

package detect

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// session is ONNX Runtime's; a build without cgo has a stand-in.
type session = ort.DynamicAdvancedSession

// New loads a detector model, recognising its format by its input and output
// names; name says where it came from, for errors. ORT's environment must be
// initialised.
func New(model []byte, name string, opts *ort.SessionOptions) (*Detector, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("read face detector %s: %w", name, err)
	}
	fam, err := recognise(infoNames(ins), infoNames(outs))
	if err != nil {
		return nil, fmt.Errorf("face detector %s: %w", name, err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{fam.input}, fam.outputNames(), opts)
	if err != nil {
		return nil, fmt.Errorf("load face detector %s: %w", name, err)
	}
	return &Detector{session: s, family: fam}, nil
}

func infoNames(infos []ort.InputOutputInfo) []string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name
	}
	return names
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

// run feeds one 1 x 3 x h x w input to the model and returns copies of its
// outputs, in outputNames order.
func (d *Detector) run(data []float32, w, h int) ([][]float32, error) {
	in, err := ort.NewTensor(ort.NewShape(1, 3, int64(h), int64(w)), data)
	if err != nil {
		return nil, fmt.Errorf("face detector input: %w", err)
	}
	defer in.Destroy()
	names := d.family.outputNames()
	outs := make([]ort.Value, len(names))
	if err := d.session.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("run face detector: %w", err)
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	res := make([][]float32, len(outs))
	for i, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("face detector output %s is not float32", names[i])
		}
		res[i] = append([]float32(nil), t.GetData()...)
	}
	return res, nil
}
