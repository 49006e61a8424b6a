// Package annotate draws faces and their estimates onto a copy of an image,
// so a person can check at a glance what the detector and the model saw.
package annotate

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/agegender/agegender/internal/result"
)

var (
	maleColor   = color.NRGBA{R: 40, G: 140, B: 255, A: 255}
	femaleColor = color.NRGBA{R: 255, G: 60, B: 170, A: 255}
	wholeColor  = color.NRGBA{R: 255, G: 200, B: 0, A: 255}
)

// Label is the text drawn above a face, e.g. "F 27 0.93".
func Label(f result.Face) string {
	return fmt.Sprintf("%s %.0f %.2f", f.Gender[:1], f.Age, f.GenderProbability)
}

// Draw returns a copy of img with every face's box, eye keypoints and label.
func Draw(img image.Image, faces []result.Face) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	// Lines and text grow with the image so they stay legible on big photos.
	thick := max(1, int(math.Round(float64(max(b.Dx(), b.Dy()))/500)))
	scale := max(1, max(b.Dx(), b.Dy())/700)
	for _, f := range faces {
		c := maleColor
		if f.Gender == result.Female {
			c = femaleColor
		}
		if !f.Detected {
			c = wholeColor
		}
		r := image.Rect(int(f.Box.X), int(f.Box.Y), int(f.Box.X+f.Box.W), int(f.Box.Y+f.Box.H))
		rect(out, r, thick, c)
		for k, p := range f.Keypoints {
			if k > 1 {
				break // only the eyes: they set the alignment
			}
			x, y := int(p.X), int(p.Y)
			fill(out, image.Rect(x-thick-1, y-thick-1, x+thick+2, y+thick+2), c)
		}
		text(out, Label(f), r.Min.X, r.Min.Y-thick, scale, c)
	}
	return out
}

func fill(dst *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(dst, r.Intersect(dst.Rect), image.NewUniform(c), image.Point{}, draw.Src)
}

func rect(dst *image.NRGBA, r image.Rectangle, t int, c color.NRGBA) {
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+t), c)
	fill(dst, image.Rect(r.Min.X, r.Max.Y-t, r.Max.X, r.Max.Y), c)
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+t, r.Max.Y), c)
	fill(dst, image.Rect(r.Max.X-t, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// text draws s on a filled background with its bottom-left corner at (x, y),
// kept inside the image, enlarged scale times.
func text(dst *image.NRGBA, s string, x, y, scale int, c color.NRGBA) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil() + 4
	h := face.Height + 2
	small := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(small, small.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.Black, Face: face, Dot: fixed.P(2, face.Ascent+1)}
	d.DrawString(s)
	W, H := w*scale, h*scale
	x = max(0, min(x, dst.Rect.Dx()-W))
	y = max(H, min(y, dst.Rect.Dy()))
	for j := 0; j < H; j++ {
		for i := 0; i < W; i++ {
			if p := image.Pt(x+i, y-H+j); p.In(dst.Rect) {
				dst.SetNRGBA(p.X, p.Y, small.NRGBAAt(i/scale, j/scale))
			}
		}
	}
}

// Writer saves annotated copies into a folder.
type Writer struct {
	dir   string
	force bool
}

// NewWriter creates dir if needed.
func NewWriter(dir string, force bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("annotation folder: %w", err)
	}
	return &Writer{dir: dir, force: force}, nil
}

// Path is where the annotated copy of input goes: the input's path with its
// folders joined by "_", so same-named files in different folders don't
// collide, always as .jpg.
func (w *Writer) Path(input string) string {
	name := filepath.ToSlash(filepath.Clean(input))
	if input == "-" {
		name = "stdin"
	}
	name = strings.TrimLeft(strings.ReplaceAll(name, "../", ""), "./")
	name = strings.ReplaceAll(strings.TrimSuffix(name, filepath.Ext(name)), "/", "_")
	return filepath.Join(w.dir, name+".annotated.jpg")
}

// Write saves img with im's faces drawn. It never replaces the input itself,
// and replaces an earlier annotation only when forced.
func (w *Writer) Write(img image.Image, im result.Image) error {
	p := w.Path(im.Input)
	if st, err := os.Stat(p); err == nil {
		if in, err := os.Stat(im.Input); err == nil && os.SameFile(st, in) {
			return fmt.Errorf("annotate: %s is the input itself; choose another --annotate folder", p)
		}
		if !w.force {
			return fmt.Errorf("annotate: %s already exists; pass --force to overwrite it", p)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("annotate: %w", err)
	}
	tmp, err := os.CreateTemp(w.dir, ".annotate-*.jpg")
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	err = jpeg.Encode(tmp, Draw(img, im.Faces), &jpeg.Options{Quality: 90})
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("annotate %s: %w", p, err)
	}
	return nil
}
