package predict

import (
	"errors"
	"image"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
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
	dets, err := e.detector.Detect(img, e.opts.Detect)
	if err == nil && len(dets) == 0 {
		dets, err = e.detectPadded(img)
	}
	if err != nil {
		return nil, err
	}
	out := make([]AlignedFace, len(dets))
	for i, d := range dets {
		out[i] = AlignedFace{Face: faceFromDetection(d), Crop: preprocess.CropImage(img, AlignedCrop(e.contract.Crop, d))}
	}
	return out, nil
}
