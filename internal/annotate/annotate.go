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
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/outfile"
)

var (
	maleColor   = color.NRGBA{R: 40, G: 140, B: 255, A: 255}
	femaleColor = color.NRGBA{R: 255, G: 60, B: 170, A: 255}
	wholeColor  = color.NRGBA{R: 255, G: 200, B: 0, A: 255}
)

// label is the text drawn above a face, e.g. "F 27 0.93".
func label(f face.Face) string {
	return fmt.Sprintf("%s %.0f %.2f", f.Gender[:1], f.Age, f.GenderProbability)
}

// Draw returns a copy of img with every face's box, eye keypoints and label.
func Draw(img image.Image, faces []face.Face) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	// Lines and text grow with the image so they stay legible on big photos.
	thick := max(1, int(math.Round(float64(max(b.Dx(), b.Dy()))/500)))
	scale := max(1, max(b.Dx(), b.Dy())/700)
	for _, f := range faces {
		c := maleColor
		if f.Gender == face.Female {
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
		text(out, label(f), r.Min.X, r.Min.Y-thick, scale, c)
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

// Writer saves annotated copies into a folder. It is safe for concurrent use.
type Writer struct {
	dir   string
	force bool
	// since is when the run started, less a margin for the file system's
	// coarse clock: a copy modified after it was written by this run, so a
	// second input mapped to it is refused even with --force instead of
	// silently replacing the first. A time, not a set of paths, keeps memory
	// flat however many inputs there are.
	since time.Time
}

// NewWriter creates dir if needed and marks it (outfile.MarkFolder).
func NewWriter(dir string, force bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("annotation folder: %w", err)
	}
	// The folder may be inside an input folder: the mark keeps walks out.
	if err := outfile.MarkFolder(dir); err != nil {
		return nil, fmt.Errorf("annotation folder: %w", err)
	}
	return &Writer{dir: dir, force: force, since: time.Now().Add(-20 * time.Millisecond)}, nil
}

// Path is where the annotated copy of input goes: the input's own path,
// extension included, under the folder, with ".annotated.jpg" added. Inputs
// that differ in folder or extension (a/x.jpg and a/x.png, a/b.jpg and
// a_b.jpg) get different paths. ".." steps become "@up" and an absolute path
// keeps its folders, so that no path leaves the folder. An object's key is
// not a file's path: s3://b/p/./x.jpg and s3://b/p/x.jpg are two objects
// (and once shared one copy), so its segments are kept as they are, "."
// becoming "@dot" and an empty one "@empty"; a segment that starts with "@"
// gets another, so that none of these can be taken for a real name.
func (w *Writer) Path(input string) string {
	if input == "-" {
		return filepath.Join(w.dir, "stdin"+outfile.AnnotatedSuffix)
	}
	var parts []string
	if scheme, key, ok := strings.Cut(input, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
		parts = append([]string{scheme + ":"}, strings.Split(key, "/")...)
	} else {
		for _, p := range strings.Split(filepath.ToSlash(filepath.Clean(input)), "/") {
			if p != "" && p != "." {
				parts = append(parts, p)
			}
		}
	}
	kept := make([]string, len(parts))
	for i, p := range parts {
		kept[i] = segmentName(p)
	}
	return filepath.Join(w.dir, filepath.Join(kept...)+outfile.AnnotatedSuffix)
}

// segmentName is the folder or file name a path segment is written as.
func segmentName(p string) string {
	switch {
	case p == "..":
		return "@up"
	case p == ".":
		return "@dot"
	case p == "":
		return "@empty"
	case strings.HasPrefix(p, "@"):
		return "@" + p
	}
	return p
}

// Write saves img with im's faces drawn, atomically. It never replaces the
// input itself, nor an annotation written earlier in the same run, and
// replaces an older file only when forced.
func (w *Writer) Write(img image.Image, im face.Image) error {
	p := w.Path(im.Input)
	if st, err := os.Stat(p); err == nil {
		if in, err := os.Stat(im.Input); err == nil && os.SameFile(st, in) {
			return fmt.Errorf("annotate: %s is the input itself; choose another --annotate folder", p)
		}
		if st.ModTime().After(w.since) {
			return fmt.Errorf("annotate: %s was written during this run, for another input; not replaced", p)
		}
	}
	if err := w.mkdirInside(filepath.Dir(p)); err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	f, err := outfile.Create(p, w.force)
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	if err := jpeg.Encode(f, Draw(img, im.Faces), &jpeg.Options{Quality: 90}); err != nil {
		f.Abort()
		return fmt.Errorf("annotate %s: %w", p, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	return nil
}

// mkdirInside creates the folders of dir below the annotation folder,
// refusing a link among them: os.MkdirAll follows links, and a linked
// folder inside --annotate once sent the copies outside it.
func (w *Writer) mkdirInside(dir string) error {
	rel, err := filepath.Rel(w.dir, dir)
	if err != nil || rel == "." {
		return err
	}
	at := w.dir
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		at = filepath.Join(at, name)
		// Mkdir does not follow a link at its last element; another worker
		// may have made the folder first.
		if err := os.Mkdir(at, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		st, err := os.Lstat(at)
		switch {
		case err != nil:
			return err
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a link; annotated copies are written only inside the --annotate folder %s", at, w.dir)
		case !st.IsDir():
			return fmt.Errorf("%s is not a folder", at)
		}
	}
	return nil
}
