package predict_test

import (
	"math"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/preprocess"
)

// framing is a measured UTKFace framing (training/crop_framing.json, rounded).
var framing = predict.Framing{
	BoxCenterX: 0.49, BoxCenterY: 0.416, BoxSide: 1.166,
	EyeCenterX: 0.485, EyeCenterY: 0.293, EyeDistance: 0.398,
	Keypoints: map[string][2]float64{"right_eye": {0.287, 0.298}, "left_eye": {0.683, 0.289},
		"mouth_right": {0.40, 0.725}, "mouth_left": {0.58, 0.725}},
}

// legacyFraming names BlazeFace's single mouth point, as models exported
// before YuNet do; it is the centre of YuNet's mouth corners.
var legacyFraming = predict.Framing{
	BoxCenterX: 0.49, BoxCenterY: 0.416, BoxSide: 1.166,
	EyeCenterX: 0.485, EyeCenterY: 0.293, EyeDistance: 0.398,
	Keypoints: map[string][2]float64{"right_eye": {0.287, 0.298}, "left_eye": {0.683, 0.289}, "mouth": {0.491, 0.725}},
}

// faceIn builds the detection of a face framed in crop c exactly as f says.
func faceIn(f predict.Framing, c preprocess.Crop) detect.Detection {
	at := c.Source
	var d detect.Detection
	centre := at(f.BoxCenterX, f.BoxCenterY)
	side := f.BoxSide * c.Side
	d.Box = face.Box{X: centre.X - side/2, Y: centre.Y - side/2, W: side, H: side}
	half := f.EyeDistance / 2
	d.Keypoints[detect.RightEye] = at(f.EyeCenterX-half, f.EyeCenterY)
	d.Keypoints[detect.LeftEye] = at(f.EyeCenterX+half, f.EyeCenterY)
	for k := range detect.NumKeypoints {
		if p, ok := f.Keypoints[detect.KeypointName(k)]; ok {
			d.Keypoints[k] = at(p[0], p[1])
		}
	}
	if p, ok := f.Keypoints["mouth"]; ok {
		d.Keypoints[detect.MouthRight] = at(p[0]-0.09, p[1])
		d.Keypoints[detect.MouthLeft] = at(p[0]+0.09, p[1])
	}
	return d
}

func near(a, b preprocess.Crop, tol float64) bool {
	return math.Abs(a.CenterX-b.CenterX) < tol && math.Abs(a.CenterY-b.CenterY) < tol &&
		math.Abs(a.Side-b.Side) < tol && math.Abs(a.Angle-b.Angle) < 1e-3
}

func TestAlignedCropReproducesTheTrainingFraming(t *testing.T) {
	want := preprocess.Crop{CenterX: 640, CenterY: 380, Side: 150, Angle: 0.35}
	eyesOnly := framing
	eyesOnly.Keypoints = nil
	for name, f := range map[string]predict.Framing{"keypoint template": framing, "eyes only": eyesOnly, "BlazeFace-era template": legacyFraming} {
		if got := predict.AlignedCrop(f, faceIn(f, want)); !near(got, want, 0.5) {
			t.Errorf("%s: AlignedCrop = %+v, want %+v", name, got, want)
		}
	}
}

func TestAlignedCropFallsBackToTheBox(t *testing.T) {
	want := preprocess.Crop{CenterX: 300, CenterY: 200, Side: 120}
	d := faceIn(framing, want)
	// A head turned to profile: the eyes and mouth collapse towards the
	// nose, so a fit to them would give a crop half the size.
	nose := face.Point{X: 300, Y: 200}
	for _, k := range []int{detect.RightEye, detect.LeftEye, detect.MouthRight, detect.MouthLeft} {
		p := d.Keypoints[k]
		d.Keypoints[k] = face.Point{X: nose.X + (p.X-nose.X)*0.4, Y: nose.Y + (p.Y-nose.Y)*0.4}
	}
	got := predict.AlignedCrop(framing, d)
	if math.Abs(got.Side-want.Side) > 0.5 {
		t.Errorf("side %.1f, want the box's %.1f", got.Side, want.Side)
	}

	// No framing measured: the box itself is the crop, turned by the eye line.
	bare := predict.AlignedCrop(predict.Framing{}, d)
	re, le := d.Keypoints[detect.RightEye], d.Keypoints[detect.LeftEye]
	box := preprocess.Crop{CenterX: d.Box.X + d.Box.W/2, CenterY: d.Box.Y + d.Box.H/2, Side: d.Box.W,
		Angle: math.Atan2(le.Y-re.Y, le.X-re.X)}
	if !near(bare, box, 1e-9) {
		t.Errorf("unmeasured framing: %+v, want the box %+v", bare, box)
	}
}
