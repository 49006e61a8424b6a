package eval

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"slices"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/pipeline"
)

// oneFace finds one face aged 30 in every image.
type oneFace struct{}

func (oneFace) FacesContext(_ context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	faces := make([][]face.Face, len(imgs))
	for i := range imgs {
		faces[i] = []face.Face{{Box: face.Box{W: 8, H: 8}, Age: 30, Gender: face.Male, GenderProbability: 0.9}}
	}
	return faces, make([]error, len(imgs))
}

func (oneFace) Mode() face.Mode { return face.DetectOff }

func (oneFace) WorkingMemory(int, int) int64 { return 0 }

// Run skips the files outside the split before decoding them, and keeps
// the inputs that failed before, so that they are reported.
func TestRunKeepsTheSplit(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 8, 8)))
	val := "a/10_0_0_20170103200329407.jpg.chip.jpg" // in the val split, aged 10
	in := slices.Values([]input.Input{
		input.Reader(val, bytes.NewReader(b.Bytes())),
		input.Reader("a/30_0_0_20170104000000000.jpg.chip.jpg", bytes.NewReader(b.Bytes())), // train
		{Name: "a/missing.jpg", Err: os.ErrNotExist},                                        // failed: kept
	})
	sum, points, err := Run(context.Background(), in, oneFace{}, ParseUTKName, SplitVal, pipeline.Options{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Counts
	if c.Inputs != 2 || c.Scored != 1 || c.Failed != 1 || sum.Excluded != 1 || sum.Split != "val" || len(points) != 1 {
		t.Fatalf("counts %+v, excluded %d, split %q, %d points", c, sum.Excluded, sum.Split, len(points))
	}
	if sum.Overall.AgeMAE != 20 {
		t.Errorf("age MAE %v, want 20 (30 estimated for 10)", sum.Overall.AgeMAE)
	}
}
