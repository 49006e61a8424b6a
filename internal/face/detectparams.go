package face

import "fmt"

// DetectParams tune detection. The zero value means every default.
type DetectParams struct {
	// MinScore drops detections less confident than this; 0 takes the
	// detector's own threshold, since each detector scores on its own scale.
	MinScore float64
	// MaxFaces keeps only the most confident faces; 0 keeps all.
	MaxFaces int
	// MinSize drops faces whose box is smaller than this many source pixels.
	MinSize float64
	// InputSize is the long side, in pixels, a photo is shrunk to for
	// detection (never enlarged); 0 means DefaultInputSize.
	InputSize int
	// SecondSide, when above InputSize, adds a pass at up to this long side
	// for photos larger than InputSize, merged with the first: the smallest
	// faces are found better near the photo's own size. 0: one pass.
	SecondSide int
	// NMSThreshold is the IoU above which overlapping boxes are merged; 0
	// takes the detector's own.
	NMSThreshold float64
}

// InputSide is the detection input's long side p asks for, the default when
// unset.
func (p DetectParams) InputSide() int {
	if p.InputSize <= 0 {
		return DefaultInputSize
	}
	return p.InputSize
}

// DefaultInputSize is the detection input's long side: on the 500-photo
// WIDER FACE sample YuNet found more faces of 40 px and up at 640 than at the
// photos' own size, in a third of the time (../shared/models/README.md).
const DefaultInputSize = 640

// DefaultDetectParams are the built-in settings.
func DefaultDetectParams() DetectParams {
	return DetectParams{InputSize: DefaultInputSize}
}

// Validate rejects values that cannot work. NaN fails every range check,
// which comparisons written as "x < 0 || x > 1" would let through.
func (p DetectParams) Validate() error {
	if !(p.MinScore >= 0 && p.MinScore <= 1) {
		return fmt.Errorf("min score %g is outside 0..1", p.MinScore)
	}
	if p.MaxFaces < 0 {
		return fmt.Errorf("max faces %d must not be negative", p.MaxFaces)
	}
	if !(p.MinSize >= 0 && p.MinSize <= MaxSide) {
		return fmt.Errorf("min face size %g is outside 0..%d pixels", p.MinSize, MaxSide)
	}
	if p.InputSize != 0 && (p.InputSize < MinInputSize || p.InputSize > MaxSide) {
		return fmt.Errorf("detection size %d is out of range: use %d..%d pixels", p.InputSize, MinInputSize, MaxSide)
	}
	if p.SecondSide != 0 && (p.SecondSide < MinInputSize || p.SecondSide > MaxSide) {
		return fmt.Errorf("second detection size %d is out of range: use 0 (none) or %d..%d pixels", p.SecondSide, MinInputSize, MaxSide)
	}
	if !(p.NMSThreshold >= 0 && p.NMSThreshold <= 1) {
		return fmt.Errorf("NMS threshold %g is outside 0..1", p.NMSThreshold)
	}
	return nil
}

// MinInputSize and MaxSide bound the detection sizes and the face size
// filter. Under 64 px the detector's coarsest stride sees two cells; past
// 8192 px one pass would cost seconds and gigabytes.
const (
	MinInputSize = 64
	MaxSide      = 8192
)
