package eval

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot sizes: big enough to read on a laptop screen, small enough to embed.
const (
	scatterSide = 6 * vg.Inch
	barWidth    = 7 * vg.Inch
	barHeight   = 4 * vg.Inch
)

var (
	pointColor = color.NRGBA{R: 31, G: 119, B: 180, A: 90} // translucent: UTKFace has thousands of points
	barColor   = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	lineColor  = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
)

// ageScatter plots predicted against true age with the identity line, on
// equal axes, so that bias shows as points off the diagonal.
func ageScatter(s Summary, points []Point) ([]byte, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Predicted vs true age (n = %d, MAE %.2f years)", s.Overall.N, s.Overall.AgeMAE)
	p.X.Label.Text = "true age (years)"
	p.Y.Label.Text = "predicted age (years)"
	p.Add(plotter.NewGrid())

	lo, hi := 0.0, 10.0
	xys := make(plotter.XYs, len(points))
	for i, pt := range points {
		xys[i] = plotter.XY{X: pt.TrueAge, Y: pt.PredAge}
		lo = math.Min(lo, math.Min(pt.TrueAge, pt.PredAge))
		hi = math.Max(hi, math.Max(pt.TrueAge, pt.PredAge))
	}
	lo, hi = math.Floor(lo/10)*10, math.Ceil(hi/10)*10
	if len(xys) > 0 {
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("age scatter: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: pointColor, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add("one input", sc)
	}
	id, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return nil, fmt.Errorf("age scatter: %w", err)
	}
	id.Color = lineColor
	id.Width = vg.Points(1.5)
	id.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	p.Add(id)
	p.Legend.Add("predicted = true", id)
	p.Legend.Top, p.Legend.Left = true, true
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return render(p, scatterSide, scatterSide)
}

// bucketBars draws one value per age bucket, labelled with the value and n.
func bucketBars(title, ylabel string, groups []Group, value func(Metrics) float64, format string, ymax float64) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "true age bucket (years)"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())

	vals := make(plotter.Values, len(groups))
	names := make([]string, len(groups))
	labels := plotter.XYLabels{XYs: make(plotter.XYs, len(groups)), Labels: make([]string, len(groups))}
	for i, g := range groups {
		names[i] = g.Name
		labels.XYs[i] = plotter.XY{X: float64(i), Y: 0}
		labels.Labels[i] = "n = 0"
		if g.N > 0 {
			vals[i] = value(g.Metrics)
			labels.XYs[i].Y = vals[i]
			labels.Labels[i] = fmt.Sprintf(format+"\nn = %d", vals[i], g.N)
		}
		ymax = math.Max(ymax, vals[i]*1.15)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", title, err)
	}
	bars.Color = barColor
	bars.LineStyle.Width = 0
	text, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", title, err)
	}
	for i := range text.TextStyle {
		text.TextStyle[i].XAlign = draw.XCenter
		text.TextStyle[i].YAlign = draw.YBottom
	}
	text.Offset = vg.Point{Y: vg.Points(3)}
	p.Add(bars, text)
	p.NominalX(names...)
	// Half a slot of room beside the outer bars, which otherwise touch the axes.
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.Y.Min, p.Y.Max = 0, ymax
	return render(p, barWidth, barHeight)
}

func maeByBucket(s Summary) ([]byte, error) {
	return bucketBars("Age MAE by true age", "mean absolute error (years)", s.ByAge,
		func(m Metrics) float64 { return m.AgeMAE }, "%.1f", 1)
}

func genderByBucket(s Summary) ([]byte, error) {
	return bucketBars("Gender accuracy by true age", "gender accuracy (%)", s.ByAge,
		func(m Metrics) float64 { return 100 * m.GenderAccuracy }, "%.1f%%", 115)
}

func render(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return nil, fmt.Errorf("render %q: %w", p.Title.Text, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render %q: %w", p.Title.Text, err)
	}
	return buf.Bytes(), nil
}
