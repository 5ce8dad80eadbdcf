package results

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is a plot of result rows with the size it is drawn at.
type Chart struct {
	Plot          *plot.Plot
	Width, Height vg.Length

	// side, if set, is a legend drawn to the right of the plot rather than
	// over its data.
	side *plot.Legend
	// left is a margin kept free for the first slanted axis label, which
	// gonum/plot does not make room for.
	left vg.Length
}

// PlotFormats are the output formats a Chart writes, by file extension.
func PlotFormats() []string { return []string{"svg", "png"} }

// PlotFormat returns the output format named by path's extension, or an
// error naming path and the allowed extensions.
func PlotFormat(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if slices.Contains(PlotFormats(), ext) {
		return ext, nil
	}
	return "", fmt.Errorf("%s: unknown chart format %q (allowed extensions: .svg, .png)", path, ext)
}

// pngDPI is the resolution PNG charts are rendered at.
const pngDPI = 144

// Write draws the chart to w as format ("svg" or "png", see PlotFormat).
func (c *Chart) Write(w io.Writer, format string) error {
	var cv vg.CanvasWriterTo
	switch format {
	case "svg":
		cv = vgsvg.New(c.Width, c.Height)
	case "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(c.Width, c.Height), vgimg.UseDPI(pngDPI))}
	default:
		return fmt.Errorf("unknown chart format %q (allowed: svg, png)", format)
	}
	dc := draw.Crop(draw.New(cv), c.left, 0, 0, 0)
	if c.side != nil {
		width := c.side.Rectangle(dc).Size().X + 16
		c.Plot.Draw(draw.Crop(dc, 0, -width, 0, 0))
		c.side.Draw(draw.Crop(dc, dc.Size().X-width+8, 0, 0, -30))
	} else {
		c.Plot.Draw(dc)
	}
	_, err := cv.WriteTo(w)
	return err
}

// Both charts draw logarithmic axes as linear axes over log10 of the
// values, labelled by log10Ticks: gonum/plot's LogScale places a long axis
// label by the arithmetic midpoint of the range, which on a log axis
// squeezes the data area.

// log10Ticks labels an axis that carries log10 of the values: a labelled
// tick at each decade, minor ticks at 2 to 9 times it.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for k := math.Floor(lo); k <= math.Ceil(hi); k++ {
		if k >= lo-1e-9 && k <= hi+1e-9 {
			ts = append(ts, plot.Tick{Value: k, Label: decadeLabel(int(k))})
		}
		for m := 2; m < 10; m++ {
			if v := k + math.Log10(float64(m)); v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}

// plainTicks are gonum/plot's default linear ticks labelled without
// trailing zeros ("250", not "250.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', -1, 64)
		}
	}
	return ts
}

// decadeLabel writes 10^k plainly from 0.001 to 1000000, as 1eK beyond.
func decadeLabel(k int) string {
	switch {
	case k >= 0 && k <= 6:
		return strconv.FormatFloat(math.Pow10(k), 'f', 0, 64)
	case k < 0 && k >= -3:
		return strconv.FormatFloat(math.Pow10(k), 'f', -1, 64)
	}
	return "1e" + strconv.Itoa(k)
}

// PlotMetrics are the metrics a bar chart can show (the CSV column names,
// see schema.go).
func PlotMetrics() []string {
	ms := barMetrics()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return names
}

type barMetric struct {
	name  string
	axis  string
	value func(*Row) float64
	log   bool // a log axis when values span more than two decades
}

func barMetrics() []barMetric {
	return []barMetric{
		{"time_us", "simulated time per call (µs)", func(r *Row) float64 { return r.TimeUs }, true},
		{"tflops", "achieved TFLOP/s", func(r *Row) float64 { return r.TFLOPS }, false},
		{"pct_peak", "% of the target's peak FLOP/s", func(r *Row) float64 { return r.PctPeak }, false},
		{"cost_per_call_usd", "cost per call (USD)", func(r *Row) float64 { return r.CostPerCallUSD }, true},
	}
}

// palette returns the series colours: Tableau 10, distinguishable in
// print and by most colour-blind readers.
func palette() []color.Color {
	hex := []uint32{0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac}
	cs := make([]color.Color, len(hex))
	for i, h := range hex {
		cs[i] = color.RGBA{uint8(h >> 16), uint8(h >> 8), uint8(h), 0xff}
	}
	return cs
}

func seriesColor(i int) color.Color {
	p := palette()
	return p[i%len(p)]
}

func sansFont(size vg.Length) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
}

// newChartPlot returns a plot with sans-serif text and the legend at the
// top left.
func newChartPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sansFont(12)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sansFont(10)
		a.Tick.Label.Font = sansFont(8)
	}
	p.Legend.TextStyle.Font = sansFont(9)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-4)
	return p
}

// workloadKey is what identifies a workload across targets: the spec.
func workloadKey(r *Row) string { return r.Spec }

// workloadLabel is a short name for a row's workload: the kernel and its
// shape ("matmul 4096×4096×4096", "attention b1 h32 s4096 d128 causal").
func workloadLabel(r *Row, withDType, withVariant bool) string {
	parts := []string{r.Kernel}
	if r.M > 0 || r.N > 0 || r.K > 0 {
		parts = append(parts, fmt.Sprintf("%d×%d×%d", r.M, r.N, r.K))
	}
	for _, f := range []struct {
		p string
		v int
	}{{"b", r.Batch}, {"h", r.Heads}, {"kv", r.KVHeads}, {"s", r.Seqlen}, {"d", r.Headdim}} {
		if f.v > 0 && !(f.p == "b" && f.v == 1) && !(f.p == "kv" && f.v == r.Heads) {
			parts = append(parts, f.p+strconv.Itoa(f.v))
		}
	}
	if r.Causal == "true" {
		parts = append(parts, "causal")
	}
	if withDType && r.DType != "" {
		parts = append(parts, r.DType)
	}
	if withVariant && r.Variant != "" {
		parts = append(parts, r.Variant)
	}
	return strings.Join(parts, " ")
}

// workloadLabels names each workload (by key) with the shortest label that
// tells it apart from the others: shape, then dtype, then variant, else
// the whole spec.
func workloadLabels(rows []Row, keys []string) map[string]string {
	first := map[string]*Row{}
	for i := range rows {
		if _, ok := first[workloadKey(&rows[i])]; !ok {
			first[workloadKey(&rows[i])] = &rows[i]
		}
	}
	dtypes := map[string]bool{}
	for _, r := range first {
		dtypes[r.DType] = true
	}
	for _, opt := range [][2]bool{{len(dtypes) > 1, false}, {len(dtypes) > 1, true}} {
		labels := map[string]string{}
		seen := map[string]bool{}
		unique := true
		for _, k := range keys {
			l := workloadLabel(first[k], opt[0], opt[1])
			unique = unique && !seen[l]
			seen[l] = true
			labels[k] = l
		}
		if unique {
			return labels
		}
	}
	labels := map[string]string{}
	for _, k := range keys {
		labels[k] = k
	}
	return labels
}

// firstSeen returns the distinct values of key over rows in order of first
// appearance.
func firstSeen(rows []Row, key func(*Row) string) []string {
	var out []string
	seen := map[string]bool{}
	for i := range rows {
		k := key(&rows[i])
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// BarChart returns the side-by-side chart of rows: one group of bars per
// workload (in order of first appearance), one bar per target, each
// target in its own colour. metric is one of PlotMetrics; a target with no
// value for a workload (no row, or an empty cell) has no bar. Time and
// cost use a logarithmic axis when the values span more than two decades.
func BarChart(rows []Row, metric string) (*Chart, error) {
	i := slices.IndexFunc(barMetrics(), func(m barMetric) bool { return m.name == metric })
	if i < 0 {
		return nil, fmt.Errorf("unknown metric %q (allowed: %s)", metric, strings.Join(PlotMetrics(), ", "))
	}
	m := barMetrics()[i]
	if len(rows) == 0 {
		return nil, fmt.Errorf("bar chart of %s: no rows", metric)
	}
	keys := firstSeen(rows, workloadKey)
	targets := firstSeen(rows, func(r *Row) string { return r.Target })
	labels := workloadLabels(rows, keys)
	vals := make([][]float64, len(targets))
	for t := range vals {
		vals[t] = make([]float64, len(keys))
		for w := range vals[t] {
			vals[t][w] = math.NaN()
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range rows {
		r := &rows[i]
		v := m.value(r)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			continue
		}
		t, w := slices.Index(targets, r.Target), slices.Index(keys, workloadKey(r))
		if !math.IsNaN(vals[t][w]) {
			return nil, fmt.Errorf("bar chart: two rows for workload %q on target %s", r.Spec, r.Target)
		}
		vals[t][w] = v
		if v > 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if math.IsInf(hi, -1) {
		return nil, fmt.Errorf("bar chart: no row has a positive %s", metric)
	}

	p := newChartPlot(m.axis+" by workload and target", "", m.axis)
	logY := m.log && hi/lo > 100
	if logY {
		p.Y.Tick.Marker = log10Ticks{}
		p.Y.Label.Text += ", log scale"
		p.Y.Min, p.Y.Max = math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi*1.5))
	} else {
		p.Y.Tick.Marker = plainTicks{}
		p.Y.Min, p.Y.Max = 0, hi*1.12
	}
	annotate := len(keys)*len(targets) <= 40
	legend := plot.NewLegend()
	legend.TextStyle.Font = sansFont(9)
	legend.Top, legend.Left = true, true
	for t, target := range targets {
		s := &barSeries{vals: vals[t], index: t, count: len(targets), log: logY, base: p.Y.Min, color: seriesColor(t), annotate: annotate}
		p.Add(s)
		legend.Add(target, s)
	}
	ticks := make([]plot.Tick, len(keys))
	width := 0
	for w, k := range keys {
		ticks[w] = plot.Tick{Value: float64(w), Label: labels[k]}
		width = max(width, len(labels[k]))
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Length = 0
	p.X.Min, p.X.Max = -0.5, float64(len(keys))-0.5
	// A group is at least as wide as its bars and its label; long labels
	// are set at an angle instead of widening the chart. Bars are 0.18 in
	// wide, narrower (down to 0.05 in) when there are more than 60.
	bar := min(0.18, max(0.05, 11/float64(len(keys)*len(targets))))
	group := max(0.3+bar*float64(len(targets)), 0.9)
	var left vg.Length
	if width*len(keys) > 90 {
		const angle = math.Pi / 6
		p.X.Tick.Label.Rotation = angle
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
		// The first label reaches w·cos(30°) left of its tick, which sits
		// about 0.6 in (the y axis) plus half a group from the edge.
		reach := p.X.Tick.Label.Width(ticks[0].Label) * vg.Length(math.Cos(angle))
		left = max(0, reach-vg.Length(0.6+group/2)*vg.Inch)
	} else {
		group = max(group, 0.075*float64(width))
	}
	w := vg.Length(max(6, 1.8+group*float64(len(keys))))*vg.Inch + left
	return &Chart{Plot: p, Width: w, Height: 4.5 * vg.Inch, side: &legend, left: left}, nil
}

// barSeries draws one target's bars: bar index of count in each group,
// from base up to the value (log10 of it when log), with the value
// printed above when annotate.
type barSeries struct {
	vals         []float64 // NaN: no bar
	index, count int
	log          bool
	base         float64
	color        color.Color
	annotate     bool
}

// barGroupWidth is the share of a group's slot its bars fill.
const barGroupWidth = 0.8

func (s *barSeries) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	w := barGroupWidth / float64(s.count)
	outline := draw.LineStyle{Color: color.Gray{Y: 60}, Width: vg.Points(0.4)}
	sty := text.Style{Color: color.Gray{Y: 40}, Font: sansFont(6), XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: p.TextHandler}
	for g, v := range s.vals {
		if math.IsNaN(v) {
			continue
		}
		x0 := float64(g) - barGroupWidth/2 + float64(s.index)*w
		top := v
		if s.log {
			top = math.Log10(v)
		}
		top = max(top, s.base)
		pts := []vg.Point{
			{X: trX(x0), Y: trY(s.base)}, {X: trX(x0 + w), Y: trY(s.base)},
			{X: trX(x0 + w), Y: trY(top)}, {X: trX(x0), Y: trY(top)},
		}
		c.FillPolygon(s.color, c.ClipPolygonY(pts))
		c.StrokeLines(outline, c.ClipLinesY(append(pts, pts[0]))...)
		if s.annotate {
			// A label that would crowd its neighbours is set upright.
			label, at, st := formatValue(v), vg.Point{X: trX(x0 + w/2), Y: trY(top) + vg.Points(1.5)}, sty
			if st.Width(label) > 0.8*(trX(x0+w)-trX(x0)) {
				st.Rotation, st.XAlign, st.YAlign = math.Pi/2, draw.XLeft, draw.YCenter
			}
			c.FillText(st, at, label)
		}
	}
}

// Thumbnail draws the legend swatch.
func (s *barSeries) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(s.color, pts)
}

// formatValue prints v with three significant digits, without exponent
// for the magnitudes charts show.
func formatValue(v float64) string {
	// Round first so that 999.9996 prints as 1000, not 1e+03.
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000 && a < 1e7:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1e-3 && a < 1000:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'e', 2, 64)
}

// roof is one target's roofline: peak TFLOP/s for a dtype and HBM GB/s,
// either unknown (0).
type roof struct {
	target, dtype string
	tflops, gbps  float64
}

// roofs derives each target's roofs from the rows themselves: the compute
// roof tflops / pct_peak · 100 for each dtype, the memory roof
// hbm_gbps / mbu_estimated_percent · 100, from the first row that has the
// figures.
func roofs(rows []Row, targets []string) []roof {
	gbps := map[string]float64{}
	peaks := map[string][]roof{}
	for i := range rows {
		r := &rows[i]
		if gbps[r.Target] == 0 && r.PctHBM > 0 && r.HBMGBps > 0 && finite(r.HBMGBps/r.PctHBM) {
			gbps[r.Target] = r.HBMGBps / r.PctHBM * 100
		}
		if r.PctPeak > 0 && r.TFLOPS > 0 && finite(r.TFLOPS/r.PctPeak) &&
			!slices.ContainsFunc(peaks[r.Target], func(f roof) bool { return f.dtype == r.DType }) {
			peaks[r.Target] = append(peaks[r.Target], roof{target: r.Target, dtype: r.DType, tflops: r.TFLOPS / r.PctPeak * 100})
		}
	}
	var out []roof
	for _, t := range targets {
		ps := peaks[t]
		if len(ps) == 0 {
			ps = []roof{{target: t}}
		}
		for _, f := range ps {
			if f.tflops > 0 || gbps[t] > 0 {
				f.gbps = gbps[t]
				out = append(out, f)
			}
		}
	}
	return out
}

// RooflineChart returns the roofline of rows: arithmetic intensity
// (flops / (hbm_read_bytes + hbm_write_bytes), FLOP per byte) against
// achieved TFLOP/s on log-log axes, one colour per target and one marker
// per kernel. Each target's roofs, derived from the rows (see roofs), are
// drawn in its colour, min(peak, bandwidth · intensity), and their figures
// named in the legend beside the plot. Rows without
// flops, HBM bytes or TFLOP/s are left out; with none left it is an error.
func RooflineChart(rows []Row) (*Chart, error) {
	type point struct{ x, y float64 }
	targets := firstSeen(rows, func(r *Row) string { return r.Target })
	kernels := firstSeen(rows, func(r *Row) string { return r.Kernel })
	pts := map[[2]string][]point{}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	n := 0
	for i := range rows {
		r := &rows[i]
		bytes := float64(r.HBMReadBytes + r.HBMWriteBytes)
		if !(r.FLOPs > 0 && bytes > 0 && r.TFLOPS > 0) || !finite(r.FLOPs) || !finite(r.TFLOPS) {
			continue
		}
		x := r.FLOPs / bytes
		k := [2]string{r.Target, r.Kernel}
		pts[k] = append(pts[k], point{x, r.TFLOPS})
		xlo, xhi, ylo, yhi = min(xlo, x), max(xhi, x), min(ylo, r.TFLOPS), max(yhi, r.TFLOPS)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("roofline: no row has flops, hbm_read_bytes + hbm_write_bytes and tflops all positive")
	}
	rs := roofs(rows, targets)
	for _, f := range rs {
		if f.tflops > 0 {
			yhi = max(yhi, f.tflops)
			if f.gbps > 0 {
				ridge := f.tflops * 1000 / f.gbps
				xlo, xhi = min(xlo, ridge), max(xhi, ridge)
			}
		}
	}
	xlo, xhi = decadeBelow(xlo/1.5), decadeAbove(xhi*1.5)
	ylo, yhi = decadeBelow(ylo/1.5), decadeAbove(yhi*1.5)

	p := newChartPlot("Roofline: achieved TFLOP/s against arithmetic intensity",
		"arithmetic intensity (FLOP per HBM byte)", "achieved TFLOP/s")
	p.X.Tick.Marker, p.Y.Tick.Marker = log10Ticks{}, log10Ticks{}

	legend := plot.NewLegend()
	legend.TextStyle.Font = sansFont(9)
	legend.Top, legend.Left = true, true
	for t, target := range targets {
		col := seriesColor(t)
		line := draw.LineStyle{Color: col, Width: vg.Points(1.2)}
		var thumbs []plot.Thumbnailer
		var mine []roof
		for _, f := range rs {
			if f.target != target {
				continue
			}
			mine = append(mine, f)
			l, err := plotter.NewLine(log10XY(roofPoints(f, xlo, xhi, ylo)))
			if err != nil {
				return nil, fmt.Errorf("roofline of %s: %w", target, err)
			}
			l.LineStyle = line
			p.Add(l)
			if len(thumbs) == 0 {
				thumbs = append(thumbs, l)
			}
		}
		for k, kernel := range kernels {
			ps := pts[[2]string{target, kernel}]
			if len(ps) == 0 {
				continue
			}
			xy := make(plotter.XYs, len(ps))
			for i, q := range ps {
				xy[i] = plotter.XY{X: q.x, Y: q.y}
			}
			sc, err := plotter.NewScatter(log10XY(xy))
			if err != nil {
				return nil, fmt.Errorf("roofline of %s: %w", target, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: kernelGlyph(k)}
			p.Add(sc)
			if len(thumbs) < 2 {
				thumbs = append(thumbs, sc)
			}
		}
		legend.Add(roofText(target, mine), thumbs...)
	}
	if len(kernels) > 1 {
		for k, kernel := range kernels {
			legend.Add(kernel, glyphThumb{draw.GlyphStyle{Color: color.Gray{Y: 90}, Radius: vg.Points(3), Shape: kernelGlyph(k)}})
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = math.Log10(xlo), math.Log10(xhi), math.Log10(ylo), math.Log10(yhi)
	return &Chart{Plot: p, Width: 9.5 * vg.Inch, Height: 5 * vg.Inch, side: &legend}, nil
}

// roofPoints returns the roof min(tflops, gbps·x/1000) across [xlo, xhi]
// (straight segments on log axes), clipped to y ≥ ylo.
func roofPoints(f roof, xlo, xhi, ylo float64) plotter.XYs {
	switch {
	case f.gbps <= 0:
		return plotter.XYs{{X: xlo, Y: f.tflops}, {X: xhi, Y: f.tflops}}
	case f.tflops <= 0:
		x0 := max(xlo, ylo*1000/f.gbps)
		return plotter.XYs{{X: x0, Y: f.gbps * x0 / 1000}, {X: xhi, Y: f.gbps * xhi / 1000}}
	}
	ridge := f.tflops * 1000 / f.gbps
	x0 := max(xlo, ylo*1000/f.gbps)
	xy := plotter.XYs{{X: x0, Y: min(f.gbps*x0/1000, f.tflops)}}
	if ridge > x0 && ridge < xhi {
		xy = append(xy, plotter.XY{X: ridge, Y: f.tflops})
	}
	return append(xy, plotter.XY{X: xhi, Y: min(f.gbps*xhi/1000, f.tflops)})
}

// roofText is a target's legend entry: its name and roofs, "trn2: 79
// TFLOP/s bf16, 2900 GB/s".
func roofText(target string, rs []roof) string {
	var parts []string
	for _, f := range rs {
		if f.tflops > 0 {
			s := formatValue(f.tflops) + " TFLOP/s"
			if f.dtype != "" {
				s += " " + f.dtype
			}
			parts = append(parts, s)
		}
	}
	if len(rs) > 0 && rs[0].gbps > 0 {
		parts = append(parts, formatValue(rs[0].gbps)+" GB/s")
	}
	if len(parts) == 0 {
		return target
	}
	return target + ": " + strings.Join(parts, ", ")
}

func kernelGlyph(k int) draw.GlyphDrawer {
	gs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.BoxGlyph{}}
	return gs[k%len(gs)]
}

// glyphThumb is a legend entry drawn as one marker.
type glyphThumb struct{ sty draw.GlyphStyle }

func (g glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.sty, c.Center()) }

// log10XY returns the points with log10 of both coordinates.
func log10XY(xy plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, len(xy))
	for i, q := range xy {
		out[i] = plotter.XY{X: math.Log10(q.X), Y: math.Log10(q.Y)}
	}
	return out
}

func decadeBelow(x float64) float64 { return math.Pow10(int(math.Floor(math.Log10(x)))) }
func decadeAbove(x float64) float64 { return math.Pow10(int(math.Ceil(math.Log10(x)))) }
