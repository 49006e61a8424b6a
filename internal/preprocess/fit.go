package preprocess

import (
	"math"
	"math/cmplx"

	"github.com/agegender/agegender/internal/face"
)

// Source returns where the point (u, v) of the crop, given as fractions of
// its side from the top-left corner, lies in the source image.
func (c Crop) Source(u, v float64) face.Point {
	cos, sin := math.Cos(c.Angle), math.Sin(c.Angle)
	du, dv := (u-0.5)*c.Side, (v-0.5)*c.Side
	return face.Point{X: c.CenterX + du*cos - dv*sin, Y: c.CenterY + du*sin + dv*cos}
}

// FitCrop returns the crop that brings each template point, given as
// fractions of the crop side, closest to its matching image point: the
// least-squares similarity transform (one scale, one rotation, a shift)
// between the two sets. With two points it is exact; with more, a
// misplaced one moves the crop a little instead of alone deciding it.
// It fails when the lists differ in length or the template points coincide.
func FitCrop(template, points []face.Point) (Crop, bool) {
	n := len(template)
	if n < 2 || len(points) != n {
		return Crop{}, false
	}
	// Points as complex numbers make the 2-D similarity one complex factor:
	// image = a*template + b, with |a| the crop side and arg(a) its angle.
	var tMean, pMean complex128
	for i := range template {
		tMean += complex(template[i].X, template[i].Y)
		pMean += complex(points[i].X, points[i].Y)
	}
	tMean /= complex(float64(n), 0)
	pMean /= complex(float64(n), 0)
	var num complex128
	var den float64
	for i := range template {
		t := complex(template[i].X, template[i].Y) - tMean
		p := complex(points[i].X, points[i].Y) - pMean
		num += p * cmplx.Conj(t)
		den += real(t)*real(t) + imag(t)*imag(t)
	}
	if den < 1e-12 {
		return Crop{}, false
	}
	a := num / complex(den, 0)
	side := cmplx.Abs(a)
	if side == 0 || math.IsNaN(side) || math.IsInf(side, 0) {
		return Crop{}, false
	}
	center := a*(complex(0.5, 0.5)-tMean) + pMean
	return Crop{CenterX: real(center), CenterY: imag(center), Side: side, Angle: cmplx.Phase(a)}, true
}
