package results

import (
	"bytes"
	"encoding/xml"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

var keepCharts = flag.String("charts", "", "write the test charts into this directory to look at them")

// plotRows: three matmuls on three targets, with hand-chosen figures. On
// trn2 every row runs at 50 % of a 100 TFLOP/s peak and 50 % of 2000 GB/s;
// on h100 at 25 % of 800 TFLOP/s and 40 % of 3000 GB/s; trn1 has no row
// for the largest matmul and no HBM percentage (no memory roof).
func plotRows() []Row {
	nan := math.NaN()
	mk := func(target string, n int, timeUs, tflops, pctPeak, gbps, pctHBM float64) Row {
		f := 2 * float64(n) * float64(n) * float64(n)
		return Row{Kernel: "matmul", Target: target, DType: "bf16", Batch: 1, M: n, N: n, K: n,
			Spec:   "matmul:M=" + itoa(n) + ",N=" + itoa(n) + ",K=" + itoa(n) + ",dtype=bf16",
			TimeUs: timeUs, FLOPs: f, TFLOPS: tflops, PctPeak: pctPeak,
			HBMReadBytes: int64(4 * n * n), HBMWriteBytes: int64(2 * n * n), HBMGBps: gbps, PctHBM: pctHBM,
			CostPerCallUSD: nan}
	}
	return []Row{
		mk("trn1", 512, 12, 22, 24, 500, nan),
		mk("trn2", 512, 5.4, 50, 50, 1000, 50),
		mk("h100", 512, 1.3, 200, 25, 1200, 40),
		mk("trn1", 4096, 3000, 45, 49, 300, nan),
		mk("trn2", 4096, 2750, 50, 50, 1000, 50),
		mk("h100", 4096, 690, 200, 25, 1200, 40),
		mk("trn2", 16384, 176000, 50, 50, 1000, 50),
		mk("h100", 16384, 44000, 200, 25, 1200, 40),
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// svgDoc is the part of an SVG document the tests look at.
type svgDoc struct {
	Width  string `xml:"width,attr"`
	Height string `xml:"height,attr"`
	Texts  []string
	Fills  map[string]int // fill colour → filled paths
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	doc := svgDoc{Fills: map[string]int{}}
	root := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			if se.Name.Local != "svg" {
				t.Fatalf("root element <%s>, want <svg>", se.Name.Local)
			}
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "width":
					doc.Width = a.Value
				case "height":
					doc.Height = a.Value
				}
			}
			root = false
		}
		switch se.Name.Local {
		case "text":
			var s string
			if err := d.DecodeElement(&s, &se); err != nil {
				t.Fatal(err)
			}
			doc.Texts = append(doc.Texts, strings.TrimSpace(s))
		case "path":
			for _, a := range se.Attr {
				if a.Name.Local != "style" {
					continue
				}
				for _, decl := range strings.Split(a.Value, ";") {
					if c, ok := strings.CutPrefix(strings.TrimSpace(decl), "fill:"); ok {
						doc.Fills[c]++
					}
				}
			}
		}
	}
	return doc
}

func writeChart(t *testing.T, c *Chart, name, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Write(&buf, format); err != nil {
		t.Fatal(err)
	}
	if *keepCharts != "" {
		if err := os.WriteFile(filepath.Join(*keepCharts, name+"."+format), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func hexColor(i int) string {
	r, g, b, _ := seriesColor(i).RGBA()
	const digits = "0123456789ABCDEF"
	var s []byte
	for _, v := range []uint32{r >> 8, g >> 8, b >> 8} {
		s = append(s, digits[v>>4], digits[v&15])
	}
	return "#" + string(s)
}

func TestBarChart(t *testing.T) {
	rows := plotRows()
	tests := []struct {
		metric string
		bars   []int // bars per target (trn1, trn2, h100)
		axis   string
	}{
		{"time_us", []int{2, 3, 3}, "simulated time per call (µs), log scale"},
		{"tflops", []int{2, 3, 3}, "achieved TFLOP/s"},
		{"pct_peak", []int{2, 3, 3}, "% of the target's peak FLOP/s"},
	}
	for _, tc := range tests {
		t.Run(tc.metric, func(t *testing.T) {
			c, err := BarChart(rows, tc.metric)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, writeChart(t, c, "bars_"+tc.metric, "svg"))
			for _, want := range []string{"trn1", "trn2", "h100", "matmul M×N×K (dtype=bf16)", "512×512×512", "4096×4096×4096", "16384×16384×16384", tc.axis} {
				if !slices.Contains(doc.Texts, want) {
					t.Errorf("no text %q in %q", want, doc.Texts)
				}
			}
			for i, n := range tc.bars {
				// Each bar and its target's legend swatch.
				if got := doc.Fills[hexColor(i)]; got != n+1 {
					t.Errorf("target %d: %d paths filled %s, want %d bars + 1 legend swatch", i, got, hexColor(i), n)
				}
			}
		})
	}
}

// TestBarChartAxes: times span 1.3 µs to 176000 µs, more than two
// decades, so the axis is logarithmic from the decade below 1.3/1.5 to the
// decade above 176000·2.5 (room for the printed values); TFLOP/s are on a
// linear axis from 0.
func TestBarChartAxes(t *testing.T) {
	hiTFLOPS, hiPct := 200.0, 50.0 // the largest values
	tests := []struct {
		metric string
		lo, hi float64
		label  string
	}{
		{"time_us", -1, 6, "simulated time per call (µs), log scale"},
		{"tflops", 0, hiTFLOPS * 1.15, "achieved TFLOP/s"},
		{"pct_peak", 0, hiPct * 1.15, "% of the target's peak FLOP/s"},
	}
	for _, tc := range tests {
		c, err := BarChart(plotRows(), tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.panels) != 1 {
			t.Fatalf("%s: %d panels, want 1 (one kernel)", tc.metric, len(c.panels))
		}
		x := c.panels[0].plot.X
		if x.Min != tc.lo || x.Max != tc.hi || x.Label.Text != tc.label {
			t.Errorf("%s: x axis %q [%v, %v], want %q [%v, %v]", tc.metric, x.Label.Text, x.Min, x.Max, tc.label, tc.lo, tc.hi)
		}
	}
}

func TestRooflineChart(t *testing.T) {
	rows := plotRows()
	got := roofs(rows, []string{"trn1", "trn2", "h100"})
	// trn1: 22/24·100 = 91.67 TFLOP/s, no memory roof; trn2: 100 TFLOP/s,
	// 2000 GB/s; h100: 800 TFLOP/s, 3000 GB/s.
	want := []roof{{"trn1", "bf16", 22.0 / 24 * 100, 0}, {"trn2", "bf16", 100, 2000}, {"h100", "bf16", 800, 3000}}
	if len(got) != len(want) {
		t.Fatalf("roofs %v, want %v", got, want)
	}
	for i := range want {
		if got[i].target != want[i].target || math.Abs(got[i].tflops-want[i].tflops) > 1e-9 || math.Abs(got[i].gbps-want[i].gbps) > 1e-9 {
			t.Errorf("roof %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	c, err := RooflineChart(rows)
	if err != nil {
		t.Fatal(err)
	}
	// Intensity of an n³ matmul: 2n³ / 6n² = n/3 FLOP/B: 170.7 to 5461;
	// the trn2 ridge is at 100·1000/2000 = 50 FLOP/B. Axes: decades around
	// [50/1.5, 5461·1.5] and [22/1.5, 800·1.5].
	p := c.panels[0].plot
	if p.X.Min != 1 || p.X.Max != 4 || p.Y.Min != 1 || p.Y.Max != 4 {
		t.Errorf("axes x [%v, %v] y [%v, %v], want log10 of [10, 1e4] both", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	doc := parseSVG(t, writeChart(t, c, "roofline", "svg"))
	for _, w := range []string{"trn2: 100 TFLOP/s bf16, 2000 GB/s", "h100: 800 TFLOP/s bf16, 3000 GB/s",
		"trn1: 91.7 TFLOP/s bf16", "arithmetic intensity (FLOP per HBM byte)", "achieved TFLOP/s"} {
		if !slices.Contains(doc.Texts, w) {
			t.Errorf("no text %q in %q", w, doc.Texts)
		}
	}
}

func TestRoofPoints(t *testing.T) {
	tests := []struct {
		f    roof
		want [][2]float64
	}{
		// Memory-bound below the ridge at 50 FLOP/B, flat above.
		{roof{tflops: 100, gbps: 2000}, [][2]float64{{10, 20}, {50, 100}, {1000, 100}}},
		// No memory roof: flat.
		{roof{tflops: 100}, [][2]float64{{10, 100}, {1000, 100}}},
		// No compute roof: the bandwidth line from where it enters the plot.
		{roof{gbps: 500}, [][2]float64{{20, 10}, {1000, 500}}},
		// Ridge left of the plot: flat across.
		{roof{tflops: 10, gbps: 4000}, [][2]float64{{10, 10}, {1000, 10}}},
	}
	for _, tc := range tests {
		got := roofPoints(tc.f, 10, 1000, 1)
		if tc.f.tflops == 0 {
			got = roofPoints(tc.f, 10, 1000, 10)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
			continue
		}
		for i, w := range tc.want {
			if math.Abs(got[i].X-w[0]) > 1e-9 || math.Abs(got[i].Y-w[1]) > 1e-9 {
				t.Errorf("%+v: point %d = %v, want %v", tc.f, i, got[i], w)
			}
		}
	}
}

// llmRows are the shapes of the llm suite (16 matmuls, attention and
// decode attention at two head counts, four layers) on six targets, with
// times from 10 µs to 200 ms.
func llmRows() []Row {
	var specs []string
	for _, m := range []int{4096, 64} {
		for _, nk := range [][2]int{{6144, 4096}, {4096, 4096}, {14336, 4096}, {4096, 14336}, {10240, 8192}, {8192, 8192}, {28672, 8192}, {8192, 28672}} {
			specs = append(specs, "matmul:M="+itoa(m)+",N="+itoa(nk[0])+",K="+itoa(nk[1])+",batch=1,dtype=bf16,variant=best,tiles_m=0,tiles_n=0,tiles_k=0")
		}
	}
	for _, h := range []int{32, 64} {
		specs = append(specs, "attention:batch=1,heads="+itoa(h)+",kv_heads=8,seqlen=4096,headdim=128,causal=true,dtype=bf16,variant=best",
			"decode_attention:batch=64,heads="+itoa(h)+",kv_heads=8,seqlen=8192,headdim=128,dtype=bf16,variant=best,splits=0")
	}
	for _, m := range []string{"llama3-8b", "llama3-70b"} {
		specs = append(specs, "layer:model="+m+",phase=prefill,tokens=4096,batch=1,context=8192,dtype=bf16",
			"layer:model="+m+",phase=decode,tokens=4096,batch=64,context=8192,dtype=bf16")
	}
	var rows []Row
	for i, spec := range specs {
		kernel, _, _ := strings.Cut(spec, ":")
		for j, target := range []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"} {
			us := 10 * math.Pow(20000, float64(i)/float64(len(specs)-1)) / float64(j+1)
			rows = append(rows, Row{Kernel: kernel, Target: target, DType: "bf16", Spec: spec, TimeUs: us,
				TFLOPS: 1e3 / us, PctPeak: 50, FLOPs: 1e9, HBMReadBytes: 1 << 20, HBMWriteBytes: 1 << 20, PctHBM: 40, HBMGBps: 500})
		}
	}
	return rows
}

// TestChartPNG renders every kind of chart to PNG and checks its size in
// pixels, that it is not blank (a good share of its pixels are not white,
// and each target's colour appears) and that it stays readable: at most
// 14 inches wide.
func TestChartPNG(t *testing.T) {
	tests := []struct {
		name    string
		chart   func() (*Chart, error)
		targets int
	}{
		{"bars", func() (*Chart, error) { return BarChart(plotRows(), "tflops") }, 3},
		{"bars_llm", func() (*Chart, error) { return BarChart(llmRows(), "time_us") }, 6},
		{"roofline", func() (*Chart, error) { return RooflineChart(plotRows()) }, 3},
		{"roofline_llm", func() (*Chart, error) { return RooflineChart(llmRows()) }, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.chart()
			if err != nil {
				t.Fatal(err)
			}
			if testing.Short() {
				c.dpi = 36 // rasterising is slow under -race; the layout is the same
			}
			if c.Width > 14*vg.Inch {
				t.Errorf("chart %v wide, want at most 14 in", c.Width)
			}
			img, err := png.Decode(bytes.NewReader(writeChart(t, c, tc.name, "png")))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			w, h := c.Pixels()
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h || w != int(math.Round(float64(c.Width/vg.Inch)*c.resolution())) {
				t.Errorf("PNG %v, want %d×%d", b, w, h)
			}
			rgba, ok := img.(*image.RGBA)
			if !ok {
				t.Fatalf("PNG decodes to %T, want *image.RGBA (8-bit RGB)", img)
			}
			colors := map[color.RGBA]bool{}
			inked := 0
			for i := 0; i+3 < len(rgba.Pix); i += 4 {
				px := color.RGBA{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], 0xff}
				colors[px] = true
				if px != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
					inked++
				}
			}
			if share := float64(inked) / float64(w*h); share < 0.02 {
				t.Errorf("%.3f of the pixels are not white: blank chart?", share)
			}
			for i := range tc.targets {
				r, g, bl, _ := seriesColor(i).RGBA()
				if !colors[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff}] {
					t.Errorf("no pixel in target %d's colour %s", i, hexColor(i))
				}
			}
		})
	}
}

func TestChartDeterministic(t *testing.T) {
	for _, format := range PlotFormats() {
		if format == "png" && testing.Short() {
			continue // slow to rasterise twice under -race
		}
		var out [2][]byte
		for i := range out {
			c, err := RooflineChart(plotRows())
			if err != nil {
				t.Fatal(err)
			}
			out[i] = writeChart(t, c, "det", format)
		}
		if !bytes.Equal(out[0], out[1]) {
			t.Errorf("%s: two charts of the same rows differ", format)
		}
	}
}

func TestChartErrors(t *testing.T) {
	noFlops := plotRows()
	for i := range noFlops {
		noFlops[i].FLOPs = 0
	}
	dup := append(plotRows(), plotRows()[0])
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"metric", func() error { _, err := BarChart(plotRows(), "speed"); return err }, `unknown metric "speed" (allowed: time_us, tflops`},
		{"empty", func() error { _, err := BarChart(nil, "time_us"); return err }, "no rows"},
		{"no values", func() error { _, err := BarChart(plotRows(), "cost_per_call_usd"); return err }, "no row has a positive cost_per_call_usd"},
		{"duplicate", func() error { _, err := BarChart(dup, "time_us"); return err }, "two rows for workload"},
		{"roofline", func() error { _, err := RooflineChart(noFlops); return err }, "roofline: no row has flops"},
		{"format", func() error { _, err := PlotFormat("chart.jpeg"); return err }, `chart.jpeg: unknown chart format "jpeg"`},
		{"write", func() error {
			c, _ := BarChart(plotRows(), "time_us")
			return c.Write(io.Discard, "pdf")
		}, `unknown chart format "pdf"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	for _, p := range []string{"a.svg", "b.PNG", "dir.x/c.png"} {
		if _, err := PlotFormat(p); err != nil {
			t.Errorf("PlotFormat(%q): %v", p, err)
		}
	}
}

func TestFacets(t *testing.T) {
	tests := []struct {
		name   string
		specs  []string
		titles []string
		labels [][]string
	}{
		{"shape differs", []string{
			"matmul:M=4096,N=6144,K=4096,batch=1,dtype=bf16,variant=best",
			"matmul:M=64,N=6144,K=4096,batch=1,dtype=bf16,variant=best",
		}, []string{"matmul M×N×K (batch=1, dtype=bf16, variant=best)"}, [][]string{{"4096×6144×4096", "64×6144×4096"}}},
		{"shape and dtype differ", []string{
			"matmul:M=64,N=128,K=256,dtype=bf16",
			"matmul:M=64,N=128,K=256,dtype=fp8e4m3",
			"matmul:M=64,N=128,K=512,dtype=bf16",
		}, []string{"matmul M×N×K"}, [][]string{{"64×128×256 bf16", "64×128×256 fp8e4m3", "64×128×512 bf16"}}},
		{"same shape: shape in the title", []string{
			"matmul:M=64,N=128,K=256,variant=tiled",
			"matmul:M=64,N=128,K=256,variant=hoist_load",
		}, []string{"matmul (M=64, N=128, K=256)"}, [][]string{{"tiled", "hoist_load"}}},
		{"kernels in panels, words alone, numbers named", []string{
			"attention:batch=1,heads=32,kv_heads=8,causal=true",
			"layer:model=llama3-8b,phase=prefill,batch=1",
			"attention:batch=2,heads=32,kv_heads=8,causal=false",
			"layer:model=llama3-70b,phase=decode,batch=64",
		}, []string{"attention (heads=32, kv_heads=8)", "layer"}, [][]string{
			{"batch=1 causal=true", "batch=2 causal=false"},
			{"llama3-8b prefill batch=1", "llama3-70b decode batch=64"},
		}},
		{"one workload: the kernel", []string{"softmax:rows=1024,cols=4096"}, []string{"softmax (rows=1024, cols=4096)"}, [][]string{{"softmax"}}},
		{"a parameter some lack", []string{"k:a=1", "k:a=1,b=2"}, []string{"k (a=1)"}, [][]string{{"k", "b=2"}}},
		{"same values in another order: whole specs", []string{"k:a=1,b=2,c=3", "k:b=2,a=1,c=4", "k:a=1,b=2,c=4"},
			[]string{"k (a=1, b=2)"}, [][]string{{"c=3", "k:b=2,a=1,c=4", "k:a=1,b=2,c=4"}}},
		{"not a spec: the whole spec", []string{"asm program a.s", "k:a=1"}, []string{"k"}, [][]string{{"asm program a.s", "k:a=1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ws []workload
			for _, spec := range tc.specs {
				k, params, ok := parseSpecParams(spec)
				if !ok {
					k, params = "k", nil
				}
				ws = append(ws, workload{kernel: k, spec: spec, params: params})
			}
			fs := facets(ws)
			var titles []string
			var labels [][]string
			for _, f := range fs {
				titles, labels = append(titles, f.title), append(labels, f.labels)
			}
			if !slices.Equal(titles, tc.titles) {
				t.Errorf("titles %q, want %q", titles, tc.titles)
			}
			if !slices.EqualFunc(labels, tc.labels, slices.Equal) {
				t.Errorf("labels %q, want %q", labels, tc.labels)
			}
		})
	}
}

// TestBarChartLLM: the llm suite's 24 workloads on six targets read as
// four panels (one per kernel) with short labels, a legend of the
// targets, a width under 14 in (the chart was 26 in wide with whole specs
// for labels) and an opaque background behind everything.
func TestBarChartLLM(t *testing.T) {
	c, err := BarChart(llmRows(), "time_us")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.panels) != 4 {
		t.Fatalf("%d panels, want 4", len(c.panels))
	}
	if c.Width > 10*vg.Inch {
		t.Errorf("chart %v wide, want at most 10 in", c.Width)
	}
	var keys []string
	for _, k := range c.keys {
		keys = append(keys, k.name)
	}
	if want := []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"}; !slices.Equal(keys, want) {
		t.Errorf("legend %q, want %q", keys, want)
	}
	doc := parseSVG(t, writeChart(t, c, "bars_llm", "svg"))
	for _, w := range []string{"4096×14336×4096", "64×8192×28672", "heads=64", "llama3-70b decode batch=64",
		"layer (tokens=4096, context=8192, dtype=bf16)", "simulated time per call (µs), log scale"} {
		if !slices.Contains(doc.Texts, w) {
			t.Errorf("no text %q in %q", w, doc.Texts)
		}
	}
	for _, p := range c.panels {
		if n := len([]rune(p.plot.Title.Text)); n > 110 {
			t.Errorf("panel title %q: %d characters, want at most 110", p.plot.Title.Text, n)
		}
		for _, tick := range p.plot.Y.Tick.Marker.Ticks(p.plot.Y.Min, p.plot.Y.Max) {
			if n := len([]rune(tick.Label)); n > 30 {
				t.Errorf("label %q: %d characters, want at most 30", tick.Label, n)
			}
		}
	}
	// The page and the legend's box are filled white.
	if doc.Fills["#FFFFFF"] < 2 {
		t.Errorf("%d white fills, want the page and the legend box", doc.Fills["#FFFFFF"])
	}
}

func TestChartCheck(t *testing.T) {
	c, err := BarChart(plotRows(), "time_us")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range PlotFormats() {
		if err := c.Check(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A bar chart of 3000 workloads on 6 targets is about 1000 in tall:
	// SVG only.
	var rows []Row
	for i := range 3000 {
		for _, target := range []string{"a", "b", "c", "d", "e", "f"} {
			rows = append(rows, Row{Kernel: "k", Target: target, Spec: "k:n=" + itoa(i), TimeUs: float64(i + 1)})
		}
	}
	big, err := BarChart(rows, "time_us")
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Check("svg"); err != nil {
		t.Errorf("svg: %v", err)
	}
	w, h := big.Pixels()
	err = big.Check("png")
	if err == nil || !strings.Contains(err.Error(), "the chart is "+itoa(w)+"×"+itoa(h)+" pixels") || !strings.Contains(err.Error(), "write .svg") {
		t.Errorf("png: error %v, want the size and .svg named", err)
	}
	if err := big.Write(io.Discard, "png"); err == nil {
		t.Error("Write drew a PNG over the limit")
	}
}

// benchRows returns n rows: matmuls of growing M on ten targets.
func benchRows(n int) []Row {
	targets := []string{"trn1", "trn2", "trn3", "a100", "h100", "h200", "b200", "x1", "x2", "x3"}
	rows := make([]Row, 0, n)
	for i := 0; len(rows) < n; i++ {
		m := 64 * (i + 1)
		for j, t := range targets {
			if len(rows) == n {
				break
			}
			rows = append(rows, Row{Kernel: "matmul", Target: t, DType: "bf16", Batch: 1, M: m, N: 4096, K: 4096,
				Spec:   "matmul:M=" + strconv.Itoa(m) + ",N=4096,K=4096,batch=1,dtype=bf16",
				TimeUs: float64(m) * float64(j+1), TFLOPS: 10, PctPeak: 10})
		}
	}
	return rows
}

// BenchmarkBarChart builds bar charts of 1 k, 10 k and 100 k rows (100,
// 1000 and 10000 workloads on ten targets); the time grows linearly.
func BenchmarkBarChart(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		rows := benchRows(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := BarChart(rows, "time_us"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBarChartSVG builds and draws a bar chart of 100 k rows as SVG.
func BenchmarkBarChartSVG(b *testing.B) {
	rows := benchRows(100000)
	for b.Loop() {
		c, err := BarChart(rows, "time_us")
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Write(io.Discard, "svg"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFacets: any specs (a CSV's spec column) are grouped and labelled
// without panicking, every workload once, every label non-empty and the
// labels of a panel distinct.
func FuzzFacets(f *testing.F) {
	f.Add("matmul:M=64,N=128,K=256,dtype=bf16", "matmul:M=64,N=128,K=512,dtype=bf16", "layer:model=llama3-8b")
	f.Add("k:a=1,b=2", "k:b=2,a=1", "k:a=1,b=2,a=3")
	f.Add("", ":", "x:=,=")
	f.Add("m:M=1,N=2", "m:M=1,K=3", "m:N=2")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var ws []workload
		seen := map[string]bool{}
		for _, spec := range []string{a, b, c} {
			if seen[spec] {
				continue
			}
			seen[spec] = true
			k, params, ok := parseSpecParams(spec)
			if !ok {
				k, params = "k", nil
			}
			ws = append(ws, workload{kernel: k, spec: spec, params: params})
		}
		n := 0
		for _, fc := range facets(ws) {
			if len(fc.labels) != len(fc.ws) {
				t.Fatalf("%d labels for %d workloads", len(fc.labels), len(fc.ws))
			}
			distinct := map[string]bool{}
			for _, l := range fc.labels {
				if strings.TrimSpace(l) == "" {
					t.Errorf("panel %q: empty label", fc.title)
				}
				if distinct[l] {
					t.Errorf("panel %q: label %q twice", fc.title, l)
				}
				distinct[l] = true
			}
			n += len(fc.ws)
		}
		if n != len(ws) {
			t.Errorf("%d workloads in panels, want %d", n, len(ws))
		}
	})
}
