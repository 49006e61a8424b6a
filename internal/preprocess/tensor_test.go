package preprocess

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestSpecValidateLenChannels(t *testing.T) {
	if err := (Spec{Width: 64, Height: 64, Scale: 1}).Validate(); err != nil {
		t.Errorf("valid spec rejected: %v", err)
	}
	for _, s := range []Spec{{Width: 0, Height: 64, Scale: 1}, {Width: 64, Height: 5000, Scale: 1}, {Width: 64, Height: 64}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if got := (Spec{Width: 5, Height: 7}).Len(); got != 3*5*7 {
		t.Errorf("RGB Len = %d", got)
	}
	if got := (Spec{Width: 5, Height: 7, Gray: true}).Len(); got != 5*7 {
		t.Errorf("gray Len = %d", got)
	}
}

// Resizing must not shift colours: a model trained on a colour sees that
// colour whatever the photo's size.
func TestPixelsUniformColourSurvivesResize(t *testing.T) {
	c := color.NRGBA{200, 100, 50, 255}
	for _, size := range []image.Point{{64, 48}, {10, 10}, {32, 24}} {
		s := Spec{Width: 32, Height: 24}
		px := s.Pixels(uniform(size.X, size.Y, c))
		if len(px) != s.Len() {
			t.Fatalf("from %v: len %d, want %d", size, len(px), s.Len())
		}
		plane := s.Width * s.Height
		for i, v := range px {
			want := []uint8{c.R, c.G, c.B}[i/plane]
			if v != want {
				t.Fatalf("from %v: value %d (channel %d) = %d, want %d", size, i, i/plane, v, want)
			}
		}
	}
}

// Training computed gray as rounded 601 luma; truncating would shift every
// gray value by up to one level against what the model learned.
func TestPixelsGrayUses601LumaRounded(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})  // 76.245
	img.SetNRGBA(1, 0, color.NRGBA{0, 255, 0, 255})  // 149.685: truncation gives 149
	img.SetNRGBA(2, 0, color.NRGBA{0, 0, 255, 255})  // 29.07
	img.SetNRGBA(3, 0, color.NRGBA{10, 20, 30, 255}) // 18.15
	s := Spec{Width: 4, Height: 1, Gray: true}
	got := s.Pixels(img)
	want := []uint8{76, 150, 29, 18}
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d (one plane)", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pixel %d: %d, want %d", i, got[i], want[i])
		}
	}
	// Resized gray stays one uniform plane.
	s = Spec{Width: 8, Height: 8, Gray: true}
	for i, v := range s.Pixels(uniform(20, 30, color.NRGBA{0, 255, 0, 255})) {
		if v != 150 {
			t.Fatalf("resized gray value %d = %d", i, v)
		}
	}
}

// The model reads planar NCHW: all of R, then all of G, then all of B. A
// red-left/blue-right image makes a swap of layout or channels visible.
func TestPixelsPlanarLayout(t *testing.T) {
	for _, src := range []image.Point{{16, 8}, {64, 32}} {
		s := Spec{Width: 16, Height: 8}
		px := s.Pixels(halves(src.X, src.Y, red, blue))
		plane := s.Width * s.Height
		for y := 0; y < s.Height; y++ {
			// Columns 6..9 straddle the edge once downsampled; skip them.
			for _, x := range []int{0, 1, 5, 10, 14, 15} {
				i := y*s.Width + x
				r, g, b := px[i], px[plane+i], px[2*plane+i]
				left := x < s.Width/2
				if left && (r != 255 || g != 0 || b != 0) || !left && (r != 0 || g != 0 || b != 255) {
					t.Fatalf("from %v: (%d,%d) = R%d G%d B%d", src, x, y, r, g, b)
				}
			}
		}
	}
}

// A sub-image shares its parent's Pix with a non-zero origin; Pixels must
// read the sub-image, not the parent's top-left corner.
func TestPixelsOfSubImage(t *testing.T) {
	parent := gradient(20, 20)
	sub := parent.SubImage(image.Rect(5, 7, 13, 13)).(*image.NRGBA)
	s := Spec{Width: 8, Height: 6}
	px := s.Pixels(sub)
	plane := s.Width * s.Height
	for y := 0; y < s.Height; y++ {
		for x := 0; x < s.Width; x++ {
			want := parent.NRGBAAt(5+x, 7+y)
			i := y*s.Width + x
			if px[i] != want.R || px[plane+i] != want.G {
				t.Fatalf("(%d,%d) = R%d G%d, want R%d G%d", x, y, px[i], px[plane+i], want.R, want.G)
			}
		}
	}
}

func TestTensorScalesAndOffsets(t *testing.T) {
	img := halves(2, 1, black, white)
	s := Spec{Width: 2, Height: 1, Scale: 1 / 127.5, Offset: -1}
	dst := make([]float32, s.Len())
	s.Tensor(img, dst)
	want := []float32{-1, 1, -1, 1, -1, 1}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
	s = Spec{Width: 2, Height: 1, Gray: true, Scale: 1.0 / 255}
	dst = make([]float32, s.Len())
	s.Tensor(halves(2, 1, color.NRGBA{0, 255, 0, 255}, white), dst)
	if math.Abs(float64(dst[0])-150.0/255) > 1e-6 || math.Abs(float64(dst[1])-1) > 1e-6 {
		t.Fatalf("gray dst = %v", dst)
	}
}

func TestNRGBA(t *testing.T) {
	n := gradient(4, 4)
	if NRGBA(n) != n {
		t.Error("an origin NRGBA was copied")
	}
	sub := n.SubImage(image.Rect(1, 1, 3, 4))
	got := NRGBA(sub)
	if got.Rect != image.Rect(0, 0, 2, 3) {
		t.Fatalf("sub-image rect %v, want origin-based", got.Rect)
	}
	if got.NRGBAAt(0, 0) != n.NRGBAAt(1, 1) || got.NRGBAAt(1, 2) != n.NRGBAAt(2, 3) {
		t.Error("sub-image pixels moved")
	}
	g := image.NewGray(image.Rect(0, 0, 2, 2))
	g.SetGray(1, 1, color.Gray{77})
	if c := NRGBA(g).NRGBAAt(1, 1); c != (color.NRGBA{77, 77, 77, 255}) {
		t.Errorf("gray converted to %v", c)
	}
}

// With no rotation and the crop exactly covering the image, sampling at
// pixel centres must give the image back: any half-pixel offset would blur
// or shift every face crop.
func TestCropImageIdentity(t *testing.T) {
	src := gradient(64, 64)
	out := CropImage(src, Crop{CenterX: 32, CenterY: 32, Side: 64})
	if out.Rect != image.Rect(0, 0, 64, 64) {
		t.Fatalf("size %v", out.Rect)
	}
	var sum, worst float64
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			a, b := src.NRGBAAt(x, y), out.NRGBAAt(x, y)
			for _, d := range []float64{float64(a.R) - float64(b.R), float64(a.G) - float64(b.G), float64(a.B) - float64(b.B)} {
				sum += math.Abs(d)
				worst = math.Max(worst, math.Abs(d))
			}
		}
	}
	if mean := sum / (64 * 64 * 3); mean >= 2 {
		t.Fatalf("mean abs diff %.2f", mean)
	}
	// A half-pixel shift stays under the mean bound on a smooth gradient but
	// moves every pixel by half a step (2 levels here).
	if worst > 1 {
		t.Fatalf("max abs diff %.0f", worst)
	}
}

func TestCropImageOffCentre(t *testing.T) {
	out := CropImage(halves(64, 64, red, blue), Crop{CenterX: 48, CenterY: 32, Side: 30})
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			if c := out.NRGBAAt(x, y); c != blue {
				t.Fatalf("(%d,%d) = %v: the right half's crop is not all blue", x, y, c)
			}
		}
	}
}

// The crop's x axis points along Angle in the source (x = cx + du*cos -
// dv*sin, y = cy + du*sin + dv*cos). At π/2 the crop's x axis runs down the
// source and its y axis runs right to left, so the source's right (blue)
// half ends up on top and its left (red) half at the bottom.
func TestCropImageRotated(t *testing.T) {
	out := CropImage(halves(64, 64, red, blue), Crop{CenterX: 32, CenterY: 32, Side: 64, Angle: math.Pi / 2})
	if out.Rect != image.Rect(0, 0, 64, 64) {
		t.Fatalf("size %v", out.Rect)
	}
	for x := 0; x < 64; x++ {
		for _, y := range []int{0, 10, 28} {
			if c := out.NRGBAAt(x, y); !isBlue(c) {
				t.Fatalf("(%d,%d) = %v, want blue on top", x, y, c)
			}
		}
		for _, y := range []int{35, 50, 63} {
			if c := out.NRGBAAt(x, y); !isRed(c) {
				t.Fatalf("(%d,%d) = %v, want red at the bottom", x, y, c)
			}
		}
	}
}

// Large faces are sampled at most 200x200, averaging several source samples
// per output pixel, so that 1-pixel detail averages out instead of aliasing.
func TestCropImageSupersamplesLargeFaces(t *testing.T) {
	stripes := image.NewNRGBA(image.Rect(0, 0, 400, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 400; x++ {
			if x%2 == 0 {
				stripes.SetNRGBA(x, y, white)
			} else {
				stripes.SetNRGBA(x, y, black)
			}
		}
	}
	out := CropImage(stripes, Crop{CenterX: 200, CenterY: 200, Side: 400})
	if out.Rect != image.Rect(0, 0, 200, 200) {
		t.Fatalf("size %v, want 200x200", out.Rect)
	}
	for y := 0; y < 200; y++ {
		for x := 0; x < 200; x++ {
			if c := out.NRGBAAt(x, y); c.R < 127 || c.R > 128 {
				t.Fatalf("(%d,%d) = %v, want the stripes averaged to mid-grey", x, y, c)
			}
		}
	}
	if s := CropImage(uniform(400, 400, red), Crop{CenterX: 200, CenterY: 200, Side: 300}).Rect; s != image.Rect(0, 0, 200, 200) {
		t.Errorf("side 300: size %v, want 200x200", s)
	}
}

func TestCropImageSmallAndOutside(t *testing.T) {
	if s := CropImage(gradient(64, 64), Crop{CenterX: 32, CenterY: 32, Side: 5}).Rect; s != image.Rect(0, 0, 16, 16) {
		t.Errorf("tiny crop size %v, want the 16x16 minimum", s)
	}
	// Outside the image the border is replicated rather than read out of
	// bounds; a face at the edge of a photo is cut off that way.
	out := CropImage(uniform(10, 10, red), Crop{CenterX: -50, CenterY: 70, Side: 40, Angle: 1})
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			if c := out.NRGBAAt(x, y); c != red {
				t.Fatalf("(%d,%d) = %v", x, y, c)
			}
		}
	}
}
