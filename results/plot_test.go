package results

import (
	"bytes"
	"encoding/xml"
	"flag"
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
			for _, want := range []string{"trn1", "trn2", "h100", "matmul 512×512×512", "matmul 4096×4096×4096", "matmul 16384×16384×16384", tc.axis} {
				if !slices.Contains(doc.Texts, want) {
					t.Errorf("no text %q in %q", want, doc.Texts)
				}
			}
			for i, n := range tc.bars {
				// Each bar and the legend swatch.
				if got := doc.Fills[hexColor(i)]; got != n+1 {
					t.Errorf("target %d: %d paths filled %s, want %d bars + 1 legend swatch", i, got, hexColor(i), n)
				}
			}
		})
	}
}

// TestBarChartLogAxis: times span 1.3 µs to 176000 µs, more than two
// decades, so the axis is logarithmic from 1 µs (the decade below the
// smallest) with decade labels.
func TestBarChartLogAxis(t *testing.T) {
	c, err := BarChart(plotRows(), "time_us")
	if err != nil {
		t.Fatal(err)
	}
	if c.Plot.Y.Min != 0 || c.Plot.Y.Max != 6 {
		t.Errorf("y axis [%v, %v], want log10 of [1, 1e6]", c.Plot.Y.Min, c.Plot.Y.Max)
	}
	hi := 200.0 // the largest TFLOP/s
	c, err = BarChart(plotRows(), "tflops")
	if err != nil {
		t.Fatal(err)
	}
	if c.Plot.Y.Min != 0 || c.Plot.Y.Max != hi*1.12 {
		t.Errorf("tflops y axis [%v, %v], want [0, 200·1.12]", c.Plot.Y.Min, c.Plot.Y.Max)
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
	p := c.Plot
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

func TestChartPNG(t *testing.T) {
	for _, kind := range []string{"bars", "roofline"} {
		t.Run(kind, func(t *testing.T) {
			var c *Chart
			var err error
			if kind == "bars" {
				c, err = BarChart(plotRows(), "tflops")
			} else {
				c, err = RooflineChart(plotRows())
			}
			if err != nil {
				t.Fatal(err)
			}
			// Rasterising is slow under -race; a small chart checks the same.
			c.Width, c.Height = c.Width/3, c.Height/3
			img, err := png.Decode(bytes.NewReader(writeChart(t, c, kind, "png")))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			w, h := int(math.Round(float64(c.Width/vg.Inch)*pngDPI)), int(math.Round(float64(c.Height/vg.Inch)*pngDPI))
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Errorf("PNG %v, want %d×%d", b, w, h)
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

func TestWorkloadLabels(t *testing.T) {
	rows := []Row{
		{Kernel: "attention", Spec: "a1", Batch: 1, Heads: 32, KVHeads: 8, Seqlen: 4096, Headdim: 128, Causal: "true", DType: "bf16"},
		{Kernel: "attention", Spec: "a2", Batch: 2, Heads: 32, KVHeads: 32, Seqlen: 4096, Headdim: 128, Causal: "false", DType: "bf16"},
		{Kernel: "matmul", Spec: "m1", Batch: 1, M: 64, N: 128, K: 256, DType: "bf16", Variant: "tiled"},
		{Kernel: "matmul", Spec: "m2", Batch: 1, M: 64, N: 128, K: 256, DType: "fp8e4m3", Variant: "tiled"},
	}
	got := workloadLabels(rows, []string{"a1", "a2", "m1", "m2"})
	want := map[string]string{
		"a1": "attention h32 kv8 s4096 d128 causal bf16",
		"a2": "attention b2 h32 s4096 d128 bf16",
		"m1": "matmul 64×128×256 bf16",
		"m2": "matmul 64×128×256 fp8e4m3",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	// Same shape and dtype, different variants: the variant tells them apart.
	rows[3].DType = "bf16"
	rows[3].Variant = "hoist_load"
	got = workloadLabels(rows[2:], []string{"m1", "m2"})
	if got["m1"] != "matmul 64×128×256 tiled" || got["m2"] != "matmul 64×128×256 hoist_load" {
		t.Errorf("labels %v", got)
	}
}
