package serve

import (
	"fmt"
	"image/color"
	"io"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is one serving chart and the size it is drawn at.
type Chart struct {
	plot          *plot.Plot
	Width, Height vg.Length
}

// Write draws the chart to w as "svg" or "png" (144 dpi) on a white page.
func (c *Chart) Write(w io.Writer, format string) error {
	var cv vg.CanvasWriterTo
	switch format {
	case "svg":
		cv = vgsvg.New(c.Width, c.Height)
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(c.Width, c.Height), vgimg.UseDPI(144))}
	default:
		return fmt.Errorf("unknown chart format %q (allowed: svg, png)", format)
	}
	dc := draw.New(cv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	c.plot.Draw(dc)
	_, err := cv.WriteTo(w)
	return err
}

// seriesKey groups rows into one curve: a system at one TP and lengths,
// its points the batches.
func seriesKey(r Row) string {
	e := r.Est
	return fmt.Sprintf("%s tp%d %d/%d", e.System.Name, e.TP, e.InputLen, e.OutputLen)
}

var plotColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 255}, color.RGBA{0xd6, 0x27, 0x28, 255}, color.RGBA{0x2c, 0xa0, 0x2c, 255},
	color.RGBA{0xff, 0x7f, 0x0e, 255}, color.RGBA{0x94, 0x67, 0xbd, 255}, color.RGBA{0x8c, 0x56, 0x4b, 255},
}

// Charts draws the serving view of rows that fit: output tokens/s per chip
// against tokens/s per user (the Pareto view of serving benchmarks; each
// point a batch), and cost per million output tokens against tokens/s per
// user (rows with a price). Both x axes are the decode rate one user sees.
func Charts(rows []Row, model string) (throughput, cost *Chart, err error) {
	type pt struct{ x, y, c float64 }
	series := map[string][]pt{}
	var keys []string
	for _, r := range rows {
		if r.FitErr != nil {
			continue
		}
		k := seriesKey(r)
		if _, ok := series[k]; !ok {
			keys = append(keys, k)
		}
		c := -1.0
		if r.Cost != nil {
			c = r.Cost.USDPerMOut
		}
		series[k] = append(series[k], pt{r.Est.UserTokS, r.Est.OutTokSChp, c})
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("no configuration fits: nothing to plot")
	}
	mk := func(title, y string) *plot.Plot {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "output tokens/s per user (1000 / TPOT ms)"
		p.Y.Label.Text = y
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		return p
	}
	tp := mk(model+": throughput per chip vs speed per user", "output tokens/s per chip")
	cp := mk(model+": cost vs speed per user", "USD per million output tokens")
	cp.Y.Scale = plot.LogScale{}
	cp.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	anyCost := false
	for i, k := range keys {
		pts := series[k]
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
		var xy, xc plotter.XYs
		for _, p := range pts {
			xy = append(xy, plotter.XY{X: p.x, Y: p.y})
			if p.c > 0 {
				xc = append(xc, plotter.XY{X: p.x, Y: p.c})
			}
		}
		col := plotColors[i%len(plotColors)]
		add := func(p *plot.Plot, d plotter.XYs) error {
			l, s, err := plotter.NewLinePoints(d)
			if err != nil {
				return err
			}
			l.Color, s.Color = col, col
			s.Shape = draw.CircleGlyph{}
			p.Add(l, s)
			p.Legend.Add(k, l, s)
			return nil
		}
		if err := add(tp, xy); err != nil {
			return nil, nil, err
		}
		if len(xc) > 0 {
			anyCost = true
			if err := add(cp, xc); err != nil {
				return nil, nil, err
			}
		}
	}
	// Head room above the data for the legend.
	tp.Y.Min = 0
	tp.Y.Max *= 1.1 + 0.08*float64(len(keys))
	cp.Y.Max *= 3 * float64(len(keys))
	throughput = &Chart{plot: tp, Width: 7 * vg.Inch, Height: 4.5 * vg.Inch}
	if anyCost {
		cost = &Chart{plot: cp, Width: 7 * vg.Inch, Height: 4.5 * vg.Inch}
	}
	return throughput, cost, nil
}
