package predict

import (
	"context"
	"fmt"
	"image"
	"maps"
	"math"
	"slices"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

// An image this small and this close to square is taken to be a face crop
// when even the padded retry finds nothing, so mode auto falls back to the
// whole image rather than reporting no face (Detected false in the output).
const (
	cropMaxSide   = 640
	cropMaxAspect = 2.0
)

// minFaceSide is the shortest side, in pixels, of an image that is sent to
// the model whole (mode off, or the crop fallback of mode auto). Below it
// there is no face to read: a 1x1 image was answered "89 years".
const minFaceSide = 32

// locate returns the faces of img as jobs for the model, per the mode. A
// face that is found is always aligned and cropped by the template, whatever
// the image's size: portraits fed whole and unaligned, as crop-like images
// once were, were 10.1 years off on AAF's validation split against 6.9
// aligned (v2), and training crops every source through this same path.
func (e *Engine) locate(ctx context.Context, img *image.NRGBA) ([]faceJob, error) {
	b := img.Bounds()
	whole := faceJob{
		face: face.Face{Box: face.Box{W: float64(b.Dx()), H: float64(b.Dy())}, Detected: false},
		crop: img,
	}
	if e.opts.Mode == face.DetectOff {
		if min(b.Dx(), b.Dy()) < minFaceSide {
			return nil, fmt.Errorf("image is %dx%d, under the %d px minimum side of a face", b.Dx(), b.Dy(), minFaceSide)
		}
		return []faceJob{whole}, nil
	}
	dets, err := e.detector.DetectContext(ctx, img, e.opts.Detect)
	if err != nil {
		return nil, err
	}
	if len(dets) == 0 && e.opts.Mode == face.DetectAuto {
		if dets, err = e.detectPadded(ctx, img); err != nil {
			return nil, err
		}
		if len(dets) == 0 {
			if looksLikeCrop(b) {
				return []faceJob{whole}, nil
			}
			return nil, nil
		}
	}
	if len(dets) == 0 {
		return nil, face.ErrNoFace
	}
	jobs := make([]faceJob, len(dets))
	for i, d := range dets {
		jobs[i] = e.alignedJob(img, d)
	}
	return jobs, nil
}

// alignedJob is detection d's face with its crop of img, framed as the
// model's training crops were.
func (e *Engine) alignedJob(img *image.NRGBA, d detect.Detection) faceJob {
	return faceJob{face: faceFromDetection(d), crop: preprocess.CropImage(img, AlignedCrop(e.contract.Crop, d))}
}

func looksLikeCrop(b image.Rectangle) bool {
	w, h := float64(b.Dx()), float64(b.Dy())
	return min(w, h) >= minFaceSide && max(w, h) <= cropMaxSide && max(w, h)/min(w, h) <= cropMaxAspect
}

func faceFromDetection(d detect.Detection) face.Face {
	f := face.Face{Score: round(d.Score, 4), Detected: true, Keypoints: make([]face.Point, len(d.Keypoints))}
	f.Box = face.Box{X: round(d.Box.X, 1), Y: round(d.Box.Y, 1), W: round(d.Box.W, 1), H: round(d.Box.H, 1)}
	for k, p := range d.Keypoints {
		f.Keypoints[k] = face.Point{X: round(p.X, 1), Y: round(p.Y, 1)}
	}
	return f
}

// AlignedCrop places the training framing f on a detection. The crop is
// fitted to the keypoints the framing names (or, in older models, to the
// eyes), which sit far more consistently in UTKFace crops than the box does
// (spread 0.02 against 0.10 of the crop side). When that fit disagrees with
// the box's size by more than a third, as on a turned head whose eyes look
// close together, or tilts the face past 60 degrees, the box places the crop.
// The framing's margin then scales the crop around its centre.
func AlignedCrop(f Framing, d detect.Detection) preprocess.Crop {
	c := templateCrop(f, d)
	c.Side *= f.scale()
	return c
}

// templateCrop is AlignedCrop before the margin.
func templateCrop(f Framing, d detect.Detection) preprocess.Crop {
	re, le := d.Keypoints[detect.RightEye], d.Keypoints[detect.LeftEye]
	angle := math.Atan2(le.Y-re.Y, le.X-re.X)
	// A keypoint decode gone wrong (eyes swapped, vertical) would turn the
	// face on its side; faces in photos are rarely tilted past 60 degrees.
	if math.Abs(angle) > math.Pi/3 {
		angle = 0
	}
	cx, cy := d.Box.X+d.Box.W/2, d.Box.Y+d.Box.H/2
	boxSide := max(d.Box.W, d.Box.H)
	if !f.Measured() {
		return preprocess.Crop{CenterX: cx, CenterY: cy, Side: boxSide, Angle: angle}
	}
	side := boxSide / f.BoxSide
	if template, points := f.anchors(d); len(template) >= 2 {
		c, ok := preprocess.FitCrop(template, points)
		if r := c.Side / side; ok && r > 0.75 && r < 4.0/3 && math.Abs(c.Angle) <= math.Pi/3 {
			return c
		}
	}
	// The box centre sits at (BoxCenterX, BoxCenterY) of the crop.
	ox, oy := (0.5-f.BoxCenterX)*side, (0.5-f.BoxCenterY)*side
	cos, sin := math.Cos(angle), math.Sin(angle)
	return preprocess.Crop{
		CenterX: cx + ox*cos - oy*sin,
		CenterY: cy + ox*sin + oy*cos,
		Side:    side,
		Angle:   angle,
	}
}

// anchors pairs where the framing puts keypoints in the crop with where the
// detector found them: every keypoint the framing names that the detector
// knows, or else the two eyes from the eye centre and distance.
func (f Framing) anchors(d detect.Detection) (template, points []face.Point) {
	if len(f.Keypoints) > 0 {
		// Sorted, so that the fit sums in the same order on every run.
		for _, name := range slices.Sorted(maps.Keys(f.Keypoints)) {
			if p, ok := d.Point(name); ok {
				at := f.Keypoints[name]
				template = append(template, face.Point{X: at[0], Y: at[1]})
				points = append(points, p)
			}
		}
		return template, points
	}
	if f.EyeDistance <= 0 {
		return nil, nil
	}
	half := f.EyeDistance / 2
	template = []face.Point{{X: f.EyeCenterX - half, Y: f.EyeCenterY}, {X: f.EyeCenterX + half, Y: f.EyeCenterY}}
	points = []face.Point{d.Keypoints[detect.RightEye], d.Keypoints[detect.LeftEye]}
	return template, points
}
