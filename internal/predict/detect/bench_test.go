//go:build cgo

package detect_test

import (
	"fmt"
	"image"
	"image/color"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict/detect"
	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/models"
)

// benchDetector loads the built-in YuNet with one intra-op thread, the
// setting the speed goal (<= 20 ms per 1280x960 photo) is stated for.
func benchDetector(b *testing.B) *detect.Detector {
	ort.SetSharedLibraryPath(testutil.ORTLibrary(b))
	if err := ort.InitializeEnvironment(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ort.DestroyEnvironment() })
	opts, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatal(err)
	}
	defer opts.Destroy()
	opts.SetIntraOpNumThreads(1)
	opts.SetInterOpNumThreads(1)
	d, err := detect.New(models.Detector(), models.DetectorName, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

func photo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

// BenchmarkDetect1280x960 reports ms per photo, resize and decode included,
// at each detection size, and with a second pass at 1024.
func BenchmarkDetect1280x960(b *testing.B) {
	d := benchDetector(b)
	img := photo(1280, 960)
	for _, p := range []face.DetectParams{{InputSize: 320}, {InputSize: 480}, {InputSize: 640}, {InputSize: 640, SecondSide: 1024}} {
		name := fmt.Sprintf("size-%d", p.InputSize)
		if p.SecondSide > 0 {
			name += fmt.Sprintf("+%d", p.SecondSide)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := d.Detect(img, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/photo")
		})
	}
}
