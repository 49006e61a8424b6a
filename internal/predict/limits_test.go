//go:build cgo

package predict_test

import (
	"context"
	"errors"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
)

// A 1x1 or 2x1 image holds no face: it was answered "89 years". Mode off
// refuses it; mode auto finds no face and does not fall back to the whole.
func TestTinyImagesGetNoAge(t *testing.T) {
	for _, mode := range []face.Mode{face.DetectOff, face.DetectAuto} {
		eng := newEngine(t, mode)
		imgs := []*image.NRGBA{pattern(1, 1, 1), pattern(2, 1, 2), pattern(31, 200, 3)}
		faces, errs := eng.Faces(imgs)
		for i, img := range imgs {
			b := img.Bounds()
			if len(faces[i]) != 0 {
				t.Errorf("%s %dx%d: %d faces, want none (age %.1f)", mode, b.Dx(), b.Dy(), len(faces[i]), faces[i][0].Age)
			}
			if mode == face.DetectOff && (errs[i] == nil || !strings.Contains(errs[i].Error(), "32 px minimum")) {
				t.Errorf("off %dx%d: error %v, want the minimum side named", b.Dx(), b.Dy(), errs[i])
			}
			if mode == face.DetectAuto && errs[i] != nil {
				t.Errorf("auto %dx%d: %v, want no face and no error", b.Dx(), b.Dy(), errs[i])
			}
		}
		eng.Close()
	}
}

// The padded retry copied the whole image with a margin of 0.3 of its long
// side: a 4000x200 strip made a 8800x5000 copy (176 MB). It now shrinks
// first, so one image allocates under 32 MB.
func TestPaddedRetryIsBounded(t *testing.T) {
	eng := newEngine(t, face.DetectAuto)
	img := uniform(4000, 200)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	faces, errs := eng.Faces([]*image.NRGBA{img})
	runtime.ReadMemStats(&after)
	if errs[0] != nil || len(faces[0]) != 0 {
		t.Fatalf("faces %v, err %v on a blank strip", faces[0], errs[0])
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Errorf("one 4000x200 image allocated %d MB, want under 32", got>>20)
	}
}

// Cancelling stops detection between tiles: a batch interrupted with Ctrl-C
// must not wait for every tile of the photos in flight.
func TestFacesContextStopsOnCancel(t *testing.T) {
	eng := newEngine(t, face.DetectAuto)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, errs := eng.FacesContext(ctx, []*image.NRGBA{pattern(4000, 3000, 1)})
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("error %v, want context.Canceled", errs[0])
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled detection took %v", d)
	}
}
