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

// Chart is a drawing of result rows: a title, a legend and one or more
// panels stacked top to bottom, with the size it is drawn at.
type Chart struct {
	// Width and Height are the size the chart is drawn at.
	Width, Height vg.Length

	title string
	// keys, if set, is the legend drawn in a row under the title.
	keys []legendKey
	// side, if set, is a legend drawn to the right of the panels.
	side   *plot.Legend
	panels []panel
	// dpi, if set, replaces pngDPI (tests draw small PNGs quickly).
	dpi float64
}

// panel is one plot of a chart and the height it takes (0: what is left).
type panel struct {
	plot   *plot.Plot
	height vg.Length
}

// legendKey is one entry of a chart's row legend: a colour swatch and a name.
type legendKey struct {
	name  string
	color color.Color
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

// pngDPI is the resolution PNG charts are rendered at, in pixels per inch.
const pngDPI = 144

// MaxPNGPixels is the largest PNG a chart is rasterised to, in pixels
// (128 MiB of RGBA while it is drawn); a larger chart is written as SVG.
const MaxPNGPixels = 1 << 25

// Pixels returns the chart's size in pixels when written as PNG.
func (c *Chart) Pixels() (w, h int) {
	dpi := c.resolution()
	return int(math.Round(float64(c.Width/vg.Inch) * dpi)), int(math.Round(float64(c.Height/vg.Inch) * dpi))
}

// resolution is the PNG resolution in pixels per inch.
func (c *Chart) resolution() float64 {
	if c.dpi > 0 {
		return c.dpi
	}
	return pngDPI
}

// Check returns an error if the chart cannot be written as format: an
// unknown format, or a PNG of more than MaxPNGPixels.
func (c *Chart) Check(format string) error {
	switch format {
	case "svg":
		return nil
	case "png":
		if w, h := c.Pixels(); w*h > MaxPNGPixels {
			return fmt.Errorf("the chart is %d×%d pixels, more than the %d million a PNG may have: write .svg, or plot fewer rows", w, h, MaxPNGPixels/1000000)
		}
		return nil
	}
	return fmt.Errorf("unknown chart format %q (allowed: svg, png)", format)
}

// Write draws the chart to w as format ("svg" or "png", see PlotFormat)
// on an opaque white background.
func (c *Chart) Write(w io.Writer, format string) error {
	if err := c.Check(format); err != nil {
		return err
	}
	var cv vg.CanvasWriterTo
	if format == "svg" {
		cv = vgsvg.New(c.Width, c.Height)
	} else {
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(c.Width, c.Height), vgimg.UseDPI(int(c.resolution())))}
	}
	dc := draw.New(cv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	c.draw(dc)
	_, err := cv.WriteTo(w)
	return err
}

// Chart layout, in points.
const (
	chartMargin = 8 // around the whole chart
	legendPad   = 5 // inside a legend's box
	keySwatch   = 9 // a row legend's colour swatch
	keyGap      = 14
	panelGap    = 12 // above each panel but the first, taken from its height
)

var (
	legendBorder = draw.LineStyle{Color: color.Gray{Y: 150}, Width: vg.Points(0.6)}
	legendFill   = color.White
)

func titleStyle() text.Style {
	return text.Style{Color: color.Black, Font: sansFont(12), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
}

func keyStyle() text.Style {
	return text.Style{Color: color.Black, Font: sansFont(9), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
}

// keyRows lays out the row legend across width: each key's x offset and
// row, and the number of rows.
func keyRows(keys []legendKey, width vg.Length) (xs []vg.Length, rows []int, n int) {
	sty := keyStyle()
	var x vg.Length
	row := 0
	for i, k := range keys {
		w := vg.Points(keySwatch+4) + sty.Width(k.name)
		if i > 0 && x+w > width {
			x, row = 0, row+1
		}
		xs, rows = append(xs, x), append(rows, row)
		x += w + vg.Points(keyGap)
	}
	return xs, rows, row + 1
}

const keyRowHeight = 14 // points

// keysHeight is the height of the row legend with its box, in points.
func keysHeight(keys []legendKey, width vg.Length) vg.Length {
	if len(keys) == 0 {
		return 0
	}
	_, _, n := keyRows(keys, width-2*vg.Points(legendPad))
	return vg.Points(float64(n*keyRowHeight + 2*legendPad))
}

// box fills r white and outlines it.
func box(c draw.Canvas, r vg.Rectangle) {
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	c.FillPolygon(legendFill, pts)
	c.StrokeLines(legendBorder, append(pts, pts[0]))
}

func (c *Chart) draw(dc draw.Canvas) {
	m := vg.Points(chartMargin)
	body := draw.Crop(dc, m, -m, m, -m)
	if c.title != "" {
		sty := titleStyle()
		body.FillText(sty, vg.Point{X: body.Center().X, Y: body.Max.Y}, c.title)
		body.Max.Y -= sty.Height(c.title) + vg.Points(6)
	}
	if len(c.keys) > 0 {
		pad := vg.Points(legendPad)
		xs, rows, _ := keyRows(c.keys, body.Size().X-2*pad)
		var used vg.Length
		sty := keyStyle()
		for i, k := range c.keys {
			used = max(used, xs[i]+vg.Points(keySwatch+4)+sty.Width(k.name))
		}
		h := keysHeight(c.keys, body.Size().X)
		x0 := body.Center().X - used/2 - pad
		box(body, vg.Rectangle{Min: vg.Point{X: x0, Y: body.Max.Y - h}, Max: vg.Point{X: x0 + used + 2*pad, Y: body.Max.Y}})
		for i, k := range c.keys {
			y := body.Max.Y - pad - vg.Points(float64(rows[i]*keyRowHeight)+keyRowHeight/2.0)
			x := x0 + pad + xs[i]
			s := vg.Points(keySwatch)
			body.FillPolygon(k.color, []vg.Point{{X: x, Y: y - s/2}, {X: x + s, Y: y - s/2}, {X: x + s, Y: y + s/2}, {X: x, Y: y + s/2}})
			body.FillText(sty, vg.Point{X: x + s + vg.Points(4), Y: y}, k.name)
		}
		body.Max.Y -= h + vg.Points(6)
	}
	if c.side != nil {
		pad := vg.Points(legendPad)
		size := c.side.Rectangle(body).Size()
		size.X += vg.Points(6) // gonum/plot's measure falls short of the longest entry
		r := vg.Rectangle{Min: vg.Point{X: body.Max.X - size.X - 2*pad, Y: body.Max.Y - size.Y - 2*pad}, Max: body.Max}
		box(body, r)
		c.side.Draw(draw.Canvas{Canvas: body.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: r.Min.X + pad, Y: r.Min.Y + pad}, Max: vg.Point{X: r.Max.X - pad, Y: r.Max.Y - pad}}})
		body.Max.X = r.Min.X - vg.Points(10)
	}
	// Stack the panels and line up their data areas on the left.
	cans := make([]draw.Canvas, len(c.panels))
	y := body.Max.Y
	var left vg.Length
	dataLeft := make([]vg.Length, len(c.panels))
	for i, p := range c.panels {
		h := p.height
		if h == 0 {
			h = y - body.Min.Y
		}
		top := y
		if i > 0 {
			top -= vg.Points(panelGap)
		}
		cans[i] = draw.Canvas{Canvas: body.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: body.Min.X, Y: y - h}, Max: vg.Point{X: body.Max.X, Y: top}}}
		dataLeft[i] = p.plot.DataCanvas(cans[i]).Min.X
		left = max(left, dataLeft[i])
		y -= h
	}
	for i, p := range c.panels {
		p.plot.Draw(draw.Crop(cans[i], left-dataLeft[i], 0, 0, 0))
	}
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

// plainTicks label a linear axis every 1, 2 or 5 times a power of ten,
// at most seven labels, written without trailing zeros ("250", not
// "250.00"), with an unlabelled tick halfway between.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(hi-lo) {
		return nil
	}
	step := 0.0
	for e := math.Floor(math.Log10((hi - lo) / 7)); step == 0; e++ {
		for _, m := range []float64{1, 2, 5} {
			if s := m * math.Pow(10, e); (hi-lo)/s <= 7 {
				step = s
				break
			}
		}
	}
	var ts []plot.Tick
	for i := math.Ceil(lo/step*2 - 1e-9); i/2*step <= hi+1e-9*step; i++ {
		v := i/2*step + 0 // not -0
		t := plot.Tick{Value: v}
		if math.Mod(i, 2) == 0 {
			t.Label = strconv.FormatFloat(v, 'g', 12, 64)
		}
		ts = append(ts, t)
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

// workload is one distinct spec of a bar chart: its kernel and its
// parameters in spec order (nil when the spec is not kernel:key=value,…).
type workload struct {
	kernel string
	spec   string
	params [][2]string
}

// parseSpecParams splits a canonical spec "kernel:k=v,k=v" into its
// kernel and parameters; ok is false when it has another form.
func parseSpecParams(spec string) (kernel string, params [][2]string, ok bool) {
	kernel, rest, found := strings.Cut(spec, ":")
	if !found || kernel == "" {
		return "", nil, false
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found || k == "" {
			return "", nil, false
		}
		params = append(params, [2]string{k, v})
	}
	return kernel, params, true
}

// facet is one panel of a bar chart: the workloads of one kernel (indices
// into the chart's workloads, top to bottom), each labelled by the
// parameters that differ between them; those they share are in the title.
type facet struct {
	title  string
	ws     []int
	labels []string
}

// shapeKeys are the parameters written together as M×N×K.
var shapeKeys = [3]string{"M", "N", "K"}

// facets groups workloads by kernel, in order of first appearance, and
// labels each one within its kernel (see facet). It takes time linear in
// the number of workloads and their parameters.
func facets(ws []workload) []facet {
	var out []facet
	byKernel := map[string]int{}
	for i, w := range ws {
		f, ok := byKernel[w.kernel]
		if !ok {
			f = len(out)
			byKernel[w.kernel] = f
			out = append(out, facet{title: w.kernel})
		}
		out[f].ws = append(out[f].ws, i)
	}
	for f := range out {
		labelFacet(&out[f], ws)
	}
	return out
}

// labelFacet sets f's title and labels: the parameters every workload of the
// facet shares go in the title, the ones that differ in each bar's label.
func labelFacet(f *facet, ws []workload) {
	kernel := f.title
	fp := facetParamsOf(f, ws)
	f.title = fp.title(kernel)
	f.labels = make([]string, len(f.ws))
	seen := map[string]int{}
	for j, i := range f.ws {
		f.labels[j] = fp.label(ws[i], kernel)
		seen[f.labels[j]]++
	}
	// Two specs with the same differing values (parameters in another
	// order, say) are told apart by their whole spec.
	for j, i := range f.ws {
		if seen[f.labels[j]] > 1 {
			f.labels[j] = specLabel(ws[i].spec)
		}
	}
}

// facetParams is what the workloads of one facet have in common: the
// parameter keys in order of first appearance, each one's first value, in
// how many workloads it appears and whether its value is the same in all.
type facetParams struct {
	n       int // workloads in the facet
	keys    []string
	value   map[string]string
	count   map[string]int
	same    map[string]bool
	parsed  bool // every workload's spec parsed into parameters
	asShape bool // the shape is written M×N×K: all three are given and one differs
}

func facetParamsOf(f *facet, ws []workload) *facetParams {
	fp := &facetParams{n: len(f.ws), value: map[string]string{}, count: map[string]int{}, same: map[string]bool{}, parsed: true}
	for _, i := range f.ws {
		if ws[i].params == nil {
			fp.parsed = false
		}
		for _, kv := range ws[i].params {
			if _, ok := fp.value[kv[0]]; !ok {
				fp.keys = append(fp.keys, kv[0])
				fp.value[kv[0]], fp.same[kv[0]] = kv[1], true
			}
			fp.same[kv[0]] = fp.same[kv[0]] && fp.value[kv[0]] == kv[1]
			fp.count[kv[0]]++
		}
	}
	shape := 0
	for _, k := range shapeKeys {
		if fp.count[k] == fp.n {
			shape++
		}
	}
	fp.asShape = shape == 3 && (fp.differs("M") || fp.differs("N") || fp.differs("K"))
	return fp
}

// differs reports whether parameter k is missing from a workload of the
// facet or takes more than one value: it then belongs in the labels.
func (fp *facetParams) differs(k string) bool { return !fp.same[k] || fp.count[k] != fp.n }

// inShape reports whether k is written as part of the M×N×K shape.
func (fp *facetParams) inShape(k string) bool { return fp.asShape && slices.Contains(shapeKeys[:], k) }

// title is the facet's title: the kernel, M×N×K when the shape varies, and
// the parameters every workload shares.
func (fp *facetParams) title(kernel string) string {
	var shared []string
	for _, k := range fp.keys {
		if !fp.differs(k) && !fp.inShape(k) {
			shared = append(shared, k+"="+fp.value[k])
		}
	}
	title := kernel
	if fp.asShape {
		title += " M×N×K"
	}
	if len(shared) > 0 {
		title += " (" + strings.Join(shared, ", ") + ")"
	}
	return title
}

// label is w's bar label: its shape and the values of the parameters that
// differ across the facet (a word value alone, others as key=value), its
// whole spec when some spec of the facet did not parse, the kernel when
// nothing differs.
func (fp *facetParams) label(w workload, kernel string) string {
	var parts []string
	if !fp.parsed {
		parts = []string{w.spec}
	}
	p := map[string]string{}
	for _, kv := range w.params {
		p[kv[0]] = kv[1]
	}
	for _, k := range fp.keys {
		if !fp.parsed {
			break
		}
		if fp.inShape(k) {
			if k == firstShapeKey(fp.keys) {
				parts = append(parts, p["M"]+"×"+p["N"]+"×"+p["K"])
			}
			continue
		}
		if !fp.differs(k) {
			continue
		}
		v, ok := p[k]
		switch {
		case !ok:
			continue
		case isWord(v):
			parts = append(parts, v)
		default:
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		parts = []string{kernel}
	}
	label := strings.Join(parts, " ")
	if strings.TrimSpace(label) == "" {
		return specLabel(w.spec)
	}
	return label
}

// specLabel is a whole spec as a label, quoted when it is blank.
func specLabel(spec string) string {
	if strings.TrimSpace(spec) == "" {
		return strconv.Quote(spec)
	}
	return spec
}

func firstShapeKey(keys []string) string {
	for _, k := range keys {
		if slices.Contains(shapeKeys[:], k) {
			return k
		}
	}
	return ""
}

// isWord reports whether a parameter value names itself ("llama3-8b",
// "decode"): it has a letter and is neither a number nor true/false.
func isWord(v string) bool {
	if v == "true" || v == "false" {
		return false
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return false
	}
	return strings.ContainsFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
}

// bar is one bar of a bar chart: a workload (index into the chart's
// workloads), a target (index into its targets) and the value.
type bar struct {
	w, t int
	v    float64
}

// Bar chart layout, in inches.
const (
	barMax       = 0.12  // thickest bar
	barMin       = 0.045 // thinnest bar
	barsPerGroup = 0.42  // a group's bars together, when neither limit applies
	groupGap     = 0.12  // between groups
	panelFrame   = 0.85  // a panel's title, x axis and padding
	annotateBar  = 0.065 // bars at least this thick have their value printed
	maxAnnotated = 2000  // and only when there are at most this many bars (more are drawn without outlines)
)

// BarChart returns the side-by-side chart of rows: horizontal bars, one
// group per workload and one bar per target in the target's colour (the
// legend under the title). Workloads are grouped into one panel per
// kernel, in order of first appearance; the panel's title names the
// parameters its workloads share and each workload is labelled by those
// that differ (a matmul's M×N×K together). Each panel has its own value
// axis, logarithmic for time and cost when its values span more than two
// decades. metric is one of PlotMetrics; a target with no value for a
// workload (no row, or an empty or negative cell) has no bar. It takes
// time linear in the number of rows (hash lookups, no sorting).
func BarChart(rows []Row, metric string) (*Chart, error) {
	mi := slices.IndexFunc(barMetrics(), func(m barMetric) bool { return m.name == metric })
	if mi < 0 {
		return nil, fmt.Errorf("unknown metric %q (allowed: %s)", metric, strings.Join(PlotMetrics(), ", "))
	}
	m := barMetrics()[mi]
	if len(rows) == 0 {
		return nil, fmt.Errorf("bar chart of %s: no rows", metric)
	}
	ws, targets, bars, err := collectBars(rows, m)
	if err != nil {
		return nil, err
	}
	fs := facets(ws)
	inFacet := make([]int, len(ws)) // workload → facet
	slot := make([]int, len(ws))    // workload → place in its facet, from the top
	for f := range fs {
		for j, w := range fs[f].ws {
			inFacet[w], slot[w] = f, j
		}
	}
	byFacet := make([][]bar, len(fs))
	for _, b := range bars {
		byFacet[inFacet[b.w]] = append(byFacet[inFacet[b.w]], b)
	}

	thick := min(barMax, max(barMin, barsPerGroup/float64(len(targets))))
	group := thick*float64(len(targets)) + groupGap
	colors := make([]color.Color, len(targets))
	keys := make([]legendKey, len(targets))
	for t, name := range targets {
		colors[t] = seriesColor(t)
		keys[t] = legendKey{name, colors[t]}
	}
	c := &Chart{title: m.axis + " by workload and target", keys: keys}
	var labelWidth vg.Length
	for f, fc := range fs {
		p := newChartPlot(fc.title, m.axis, "")
		p.Title.TextStyle.Font = sansFont(10)
		p.Title.Padding = vg.Points(4)
		p.X.Label.TextStyle.Font = sansFont(9)
		logX := setBarAxis(p, m.log, byFacet[f])
		n := len(fc.ws)
		ticks := make([]plot.Tick, n)
		for j, l := range fc.labels {
			ticks[j] = plot.Tick{Value: float64(n - 1 - j), Label: l}
			labelWidth = max(labelWidth, p.Y.Tick.Label.Width(l))
		}
		p.Y.Tick.Marker = plot.ConstantTicks(ticks)
		p.Y.Tick.Length = 0
		p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
		grid := plotter.NewGrid()
		grid.Horizontal.Color = nil
		grid.Vertical = draw.LineStyle{Color: color.Gray{Y: 225}, Width: vg.Points(0.5)}
		p.Add(grid)
		p.Add(&barsPlot{bars: byFacet[f], slot: slot, groups: n, targets: len(targets),
			fill: thick * float64(len(targets)) / group, log: logX, base: p.X.Min, colors: colors,
			annotate: thick >= annotateBar && len(bars) <= maxAnnotated, outline: len(bars) <= maxAnnotated})
		c.panels = append(c.panels, panel{plot: p, height: vg.Length(panelFrame+group*float64(n)) * vg.Inch})
	}
	c.Width = min(max(labelWidth+vg.Length(6.9)*vg.Inch, 8*vg.Inch), 14*vg.Inch)
	c.Height = 2*vg.Points(chartMargin) + titleStyle().Height(c.title) + vg.Points(6) + keysHeight(keys, c.Width-2*vg.Points(chartMargin)) + vg.Points(6)
	for _, p := range c.panels {
		c.Height += p.height
	}
	return c, nil
}

// collectBars returns the workloads and targets of rows in order of first
// appearance and one bar per (workload, target) with a finite, non-negative
// value of m. Two such rows for one pair, or no positive value at all, is an
// error.
func collectBars(rows []Row, m barMetric) (ws []workload, targets []string, bars []bar, err error) {
	wIndex, tIndex := map[string]int{}, map[string]int{}
	seen := map[[2]int]bool{}
	positive := false
	for i := range rows {
		r := &rows[i]
		w, ok := wIndex[r.Spec]
		if !ok {
			w = len(ws)
			wIndex[r.Spec] = w
			kernel, params, ok := parseSpecParams(r.Spec)
			if !ok || (r.Kernel != "" && kernel != r.Kernel) {
				kernel, params = r.Kernel, nil
			}
			ws = append(ws, workload{kernel: kernel, spec: r.Spec, params: params})
		}
		t, ok := tIndex[r.Target]
		if !ok {
			t = len(targets)
			tIndex[r.Target] = t
			targets = append(targets, r.Target)
		}
		v := m.value(r)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			continue
		}
		if seen[[2]int{w, t}] {
			return nil, nil, nil, fmt.Errorf("bar chart: two rows for workload %q on target %s", r.Spec, r.Target)
		}
		seen[[2]int{w, t}] = true
		bars = append(bars, bar{w, t, v})
		positive = positive || v > 0
	}
	if !positive {
		return nil, nil, nil, fmt.Errorf("bar chart: no row has a positive %s", m.name)
	}
	return ws, targets, bars, nil
}

// setBarAxis decides a panel's value axis from its bars and sets p's ticks
// and range: logarithmic when the metric allows it (logOK) and the positive
// values span more than two decades, 0..1 when every value is zero, else
// linear from 0. It reports whether the axis is logarithmic.
func setBarAxis(p *plot.Plot, logOK bool, bars []bar) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bars {
		if b.v > 0 {
			lo, hi = min(lo, b.v), max(hi, b.v)
		}
	}
	logX := logOK && hi/lo > 100
	switch {
	case math.IsInf(hi, -1): // only zeros
		p.X.Tick.Marker, p.X.Min, p.X.Max = plainTicks{}, 0, 1
	case logX:
		p.X.Tick.Marker = log10Ticks{}
		p.X.Label.Text += ", log scale"
		// Room on the right for the values printed past the bars.
		p.X.Min, p.X.Max = math.Floor(math.Log10(lo/1.5)), math.Ceil(math.Log10(hi*2.5))
	default:
		p.X.Tick.Marker = plainTicks{}
		p.X.Min, p.X.Max = 0, hi*1.15
	}
	return logX
}

// barsPlot draws one panel's bars: horizontal, the groups from the top
// (slot 0) down, each group's bars in target order from the top, from
// base to the value (log10 of it when log), outlined when outline, with
// the value printed past the bar when annotate.
type barsPlot struct {
	bars     []bar
	slot     []int // workload → place in the panel
	groups   int
	targets  int
	fill     float64 // the share of a group's height its bars take
	log      bool
	base     float64
	colors   []color.Color
	annotate bool
	outline  bool // a thin dark edge on each bar
}

func (s *barsPlot) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	h := s.fill / float64(s.targets)
	outline := draw.LineStyle{Color: color.Gray{Y: 60}, Width: vg.Points(0.3)}
	sty := text.Style{Color: color.Gray{Y: 40}, Font: sansFont(5.5), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: p.TextHandler}
	for _, b := range s.bars {
		y1 := float64(s.groups-1-s.slot[b.w]) + s.fill/2 - float64(b.t)*h
		y0 := y1 - h
		end := b.v
		if s.log {
			end = math.Log10(b.v)
		}
		end = max(end, s.base)
		pts := []vg.Point{
			{X: trX(s.base), Y: trY(y0)}, {X: trX(end), Y: trY(y0)},
			{X: trX(end), Y: trY(y1)}, {X: trX(s.base), Y: trY(y1)},
		}
		c.FillPolygon(s.colors[b.t], c.ClipPolygonX(pts))
		if s.outline {
			c.StrokeLines(outline, c.ClipLinesX(append(pts, pts[0]))...)
		}
		if s.annotate {
			c.FillText(sty, vg.Point{X: trX(end) + vg.Points(2), Y: trY((y0 + y1) / 2)}, formatValue(b.v))
		}
	}
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
	targets := firstSeen(rows, func(r *Row) string { return r.Target })
	kernels := firstSeen(rows, func(r *Row) string { return r.Kernel })
	pts, ext, n := rooflinePoints(rows)
	if n == 0 {
		return nil, fmt.Errorf("roofline: no row has flops, hbm_read_bytes + hbm_write_bytes and tflops all positive")
	}
	rs := roofs(rows, targets)
	ext = ext.withRoofs(rs)

	p := newChartPlot("Roofline: achieved TFLOP/s against arithmetic intensity",
		"arithmetic intensity (FLOP per HBM byte)", "achieved TFLOP/s")
	p.X.Tick.Marker, p.Y.Tick.Marker = log10Ticks{}, log10Ticks{}

	legend := plot.NewLegend()
	legend.TextStyle.Font = sansFont(9)
	legend.Top, legend.Left = true, true
	for t, target := range targets {
		thumbs, mine, err := addRoofline(p, seriesColor(t), target, rs, kernels, pts, ext)
		if err != nil {
			return nil, err
		}
		legend.Add(roofText(target, mine), thumbs...)
	}
	if len(kernels) > 1 {
		for k, kernel := range kernels {
			legend.Add(kernel, glyphThumb{draw.GlyphStyle{Color: color.Gray{Y: 90}, Radius: vg.Points(3), Shape: kernelGlyph(k)}})
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = math.Log10(ext.xlo), math.Log10(ext.xhi), math.Log10(ext.ylo), math.Log10(ext.yhi)
	return &Chart{Width: 9.5 * vg.Inch, Height: 5 * vg.Inch, side: &legend, panels: []panel{{plot: p}}}, nil
}

// rooflinePoint is one row on the roofline: intensity (FLOP per HBM byte)
// and achieved TFLOP/s.
type rooflinePoint struct{ x, y float64 }

// rooflineExtent is a roofline's axis range, intensity x and TFLOP/s y.
type rooflineExtent struct{ xlo, xhi, ylo, yhi float64 }

// rooflinePoints returns the rows that can be placed on a roofline (flops,
// HBM bytes and TFLOP/s positive and finite) by (target, kernel), their
// extent and how many there are.
func rooflinePoints(rows []Row) (map[[2]string][]rooflinePoint, rooflineExtent, int) {
	pts := map[[2]string][]rooflinePoint{}
	e := rooflineExtent{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	n := 0
	for i := range rows {
		r := &rows[i]
		bytes := float64(r.HBMReadBytes + r.HBMWriteBytes)
		if !(r.FLOPs > 0 && bytes > 0 && r.TFLOPS > 0) || !finite(r.FLOPs) || !finite(r.TFLOPS) {
			continue
		}
		x := r.FLOPs / bytes
		k := [2]string{r.Target, r.Kernel}
		pts[k] = append(pts[k], rooflinePoint{x, r.TFLOPS})
		e.xlo, e.xhi, e.ylo, e.yhi = min(e.xlo, x), max(e.xhi, x), min(e.ylo, r.TFLOPS), max(e.yhi, r.TFLOPS)
		n++
	}
	return pts, e, n
}

// withRoofs widens e to show every roof's peak and ridge point, with margin,
// and rounds it out to whole decades.
func (e rooflineExtent) withRoofs(rs []roof) rooflineExtent {
	for _, f := range rs {
		if f.tflops > 0 {
			e.yhi = max(e.yhi, f.tflops)
			if f.gbps > 0 {
				ridge := f.tflops * 1000 / f.gbps
				e.xlo, e.xhi = min(e.xlo, ridge), max(e.xhi, ridge)
			}
		}
	}
	e.xlo, e.xhi = decadeBelow(e.xlo/1.5), decadeAbove(e.xhi*1.5)
	e.ylo, e.yhi = decadeBelow(e.ylo/1.5), decadeAbove(e.yhi*1.5)
	return e
}

// addRoofline draws one target in col: its roofs as lines and its points,
// one marker per kernel. It returns the legend thumbnails (the first roof and
// the first marker, at most two) and the target's roofs.
func addRoofline(p *plot.Plot, col color.Color, target string, rs []roof, kernels []string,
	pts map[[2]string][]rooflinePoint, ext rooflineExtent) ([]plot.Thumbnailer, []roof, error) {
	line := draw.LineStyle{Color: col, Width: vg.Points(1.2)}
	var thumbs []plot.Thumbnailer
	var mine []roof
	for _, f := range rs {
		if f.target != target {
			continue
		}
		mine = append(mine, f)
		l, err := plotter.NewLine(log10XY(roofPoints(f, ext.xlo, ext.xhi, ext.ylo)))
		if err != nil {
			return nil, nil, fmt.Errorf("roofline of %s: %w", target, err)
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
			return nil, nil, fmt.Errorf("roofline of %s: %w", target, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: kernelGlyph(k)}
		p.Add(sc)
		if len(thumbs) < 2 {
			thumbs = append(thumbs, sc)
		}
	}
	return thumbs, mine, nil
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
