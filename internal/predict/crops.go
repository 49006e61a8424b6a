package predict

import (
	"context"
	"errors"
	"image"

	"github.com/agegender/agegender/internal/face"
)

// AlignedFace is a detected face and its crop, framed the way the model's
// training crops were.
type AlignedFace struct {
	Face face.Face
	Crop *image.NRGBA
}

// AlignedFaces detects the faces of img, retrying with padding as mode auto
// does, and returns each with its aligned crop, most confident first. Unlike
// Faces it always re-frames, even a crop-sized image: training uses it to
// crop other data sets (CelebA-HQ) exactly as Go crops faces in photos.
func (e *Engine) AlignedFaces(img *image.NRGBA) ([]AlignedFace, error) {
	if e.detector == nil {
		return nil, errors.New("aligned faces need the detector: the engine was opened with detection off")
	}
	ctx := context.Background()
	dets, err := e.detector.DetectContext(ctx, img, e.opts.Detect)
	if err == nil && len(dets) == 0 {
		dets, err = e.detectPadded(ctx, img)
	}
	if err != nil {
		return nil, err
	}
	out := make([]AlignedFace, len(dets))
	for i, d := range dets {
		j := e.alignedJob(img, d)
		out[i] = AlignedFace{Face: j.face, Crop: j.crop}
	}
	return out, nil
}
