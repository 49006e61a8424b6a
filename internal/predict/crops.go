package predict

import (
	"context"
	"image"

	"github.com/agegender/agegender/internal/face"
)

// AlignedFace is a face the engine would estimate and the crop it would give
// the model for it.
type AlignedFace struct {
	Face face.Face
	Crop *image.NRGBA
}

// AlignedFaces returns the faces of img with their crops exactly as Faces
// frames them, in the engine's mode, most confident first: training crops
// every data set through it (training/facecrop), so that the model trains on
// what inference gives it. In mode auto a crop-like image without a face
// comes back whole, with Detected false, as Faces estimates it.
func (e *Engine) AlignedFaces(ctx context.Context, img *image.NRGBA) ([]AlignedFace, error) {
	jobs, err := e.locate(ctx, img)
	if err != nil {
		return nil, err
	}
	out := make([]AlignedFace, len(jobs))
	for i, j := range jobs {
		out[i] = AlignedFace{Face: j.face, Crop: j.crop}
	}
	return out, nil
}
