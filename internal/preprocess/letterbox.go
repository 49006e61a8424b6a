package preprocess

import (
	"image"
	"math"
)

// Letterbox scales the region r of img to fit a side x side square, centred
// on a mid-grey border, as the face detector takes it: NHWC, RGB in [-1, 1],
// the border 0. It returns the tensor, the scale applied and where the image
// sits in the square, which map the detector's boxes back to img.
func Letterbox(img *image.NRGBA, r image.Rectangle, side int) (data []float32, scale float64, ox, oy int) {
	w, h := r.Dx(), r.Dy()
	scale = float64(side) / float64(max(w, h))
	sw, sh := max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
	small := Downscale(img, r, sw, sh)
	ox, oy = (side-sw)/2, (side-sh)/2
	data = make([]float32, side*side*3)
	for y := 0; y < sh; y++ {
		row := small.Pix[y*small.Stride:]
		o := data[((y+oy)*side+ox)*3:]
		for x := 0; x < sw; x++ {
			o[3*x] = float32(row[4*x])/127.5 - 1
			o[3*x+1] = float32(row[4*x+1])/127.5 - 1
			o[3*x+2] = float32(row[4*x+2])/127.5 - 1
		}
	}
	return data, scale, ox, oy
}
