package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/results"
)

// plotCSV writes a results CSV of two matmuls on trn2 and h100 and returns
// its path.
func plotCSV(t *testing.T) string {
	t.Helper()
	nan := math.NaN()
	var rows []results.Row
	for _, n := range []int{1024, 4096} {
		for i, target := range []string{"trn2", "h100"} {
			f := 2 * float64(n) * float64(n) * float64(n)
			tflops := 50.0 * float64(i+1)
			r := results.Row{Kernel: "matmul", Variant: "tiled", Target: target, Unit: results.UnitCore, DType: "bf16", Batch: 1, M: n, N: n, K: n,
				Spec:   "matmul:M=" + strconv.Itoa(n) + ",N=" + strconv.Itoa(n) + ",K=" + strconv.Itoa(n),
				TimeUs: f / tflops / 1e6, FLOPs: f, TFLOPS: tflops, PctPeak: 40,
				HBMReadBytes: int64(4 * n * n), HBMWriteBytes: int64(2 * n * n), HBMGBps: 900, PctHBM: 30,
				TensorActivePct: nan, VectorActivePct: nan, ScalarActivePct: nan, GpSimdActivePct: nan, DMAActivePct: nan,
				SMOccupancyPct: nan, TensorPipePct: nan, MUFUPct: nan,
				PricePerHourUSD: nan, CostPerCallUSD: nan, CostPerTFLOPUSD: nan}
			rows = append(rows, r)
		}
	}
	path := filepath.Join(t.TempDir(), "sweep.csv")
	var buf bytes.Buffer
	if err := results.WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// svgTexts returns the text elements of an SVG document, failing if it is
// not well-formed XML with an <svg> root.
func svgTexts(t *testing.T, data []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var texts []string
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "text" {
				var s string
				if err := d.DecodeElement(&s, &se); err != nil {
					t.Fatal(err)
				}
				texts = append(texts, strings.TrimSpace(s))
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts
}

func TestPlot(t *testing.T) {
	csv := plotCSV(t)
	dir := t.TempDir()
	tests := []struct {
		args  []string
		out   string
		texts []string // SVG only
	}{
		{[]string{"-o", "bars.svg"}, "bars.svg", []string{"trn2", "h100", "matmul M×N×K", "1024×1024×1024", "4096×4096×4096", "simulated time per call (µs)"}},
		{[]string{"-o", "bars.png"}, "bars.png", nil},
		{[]string{"-o", "tflops.svg", "-metric", "tflops"}, "tflops.svg", []string{"achieved TFLOP/s", "50", "100"}},
		// Roofs from the rows: 50/40·100 = 125 TFLOP/s and 900/30·100 =
		// 3000 GB/s on trn2; 250 TFLOP/s on h100.
		{[]string{"-kind", "roofline", "-o", "roof.svg"}, "roof.svg", []string{"trn2: 125 TFLOP/s bf16, 3000 GB/s", "h100: 250 TFLOP/s bf16, 3000 GB/s"}},
		{[]string{"-kind", "roofline", "-o", "roof.png"}, "roof.png", nil},
		{[]string{"-o", "bars.SVG"}, "bars.SVG", []string{"trn2"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"plot", csv}, tc.args...)
			for i, a := range args {
				if a == tc.out {
					args[i] = filepath.Join(dir, a)
				}
			}
			stdout, stderr, code := runCLI(args...)
			if code != 0 || stdout != "" || stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			data, err := os.ReadFile(filepath.Join(dir, tc.out))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(strings.ToLower(tc.out), ".png") {
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					t.Fatalf("not a PNG: %v", err)
				}
				return
			}
			texts := svgTexts(t, data)
			for _, w := range tc.texts {
				found := false
				for _, s := range texts {
					found = found || strings.HasPrefix(s, w)
				}
				if !found {
					t.Errorf("no text %q in %q", w, texts)
				}
			}
		})
	}
}

func TestPlotBadInput(t *testing.T) {
	sweep := plotCSV(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	headerOnly := filepath.Join(dir, "header.csv")
	missing := filepath.Join(dir, "missing.csv")
	data, err := os.ReadFile(sweep)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 2)
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(headerOnly, []byte(lines[0]+"\n"), 0o644)
	// The same file without its tflops column.
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "tflops")
	var cut bytes.Buffer
	cw := csv.NewWriter(&cut)
	for _, r := range recs {
		cw.Write(slices.Delete(r, col, col+1))
	}
	cw.Flush()
	os.WriteFile(missing, cut.Bytes(), 0o644)

	// 3000 workloads on six targets: a bar chart too tall for a PNG.
	big := filepath.Join(dir, "big.csv")
	var rows []results.Row
	for i := range 3000 {
		for _, target := range []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"} {
			rows = append(rows, results.Row{Kernel: "matmul", Target: target, Unit: results.UnitCore, DType: "bf16", Batch: 1, M: i + 1, N: 64, K: 64,
				Spec: "matmul:M=" + strconv.Itoa(i+1) + ",N=64,K=64", TimeUs: float64(i + 1), PctPeak: 1, TFLOPS: 1, FLOPs: 1})
		}
	}
	var bigData bytes.Buffer
	if err := results.WriteCSV(&bigData, rows); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(big, bigData.Bytes(), 0o644)

	out := filepath.Join(dir, "chart.svg")
	bigPNG := filepath.Join(dir, "chart.png")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"plot", sweep, "-o", filepath.Join(dir, "chart.jpg")}, []string{"chart.jpg", `unknown chart format "jpg"`, ".svg, .png"}},
		{[]string{"plot", sweep, "-o", filepath.Join(dir, "chart")}, []string{`unknown chart format ""`}},
		{[]string{"plot", sweep}, []string{"-o FILE.svg or -o FILE.png is required"}},
		{[]string{"plot", "-o", out}, []string{"want one results CSV file, got 0"}},
		{[]string{"plot", sweep, sweep, "-o", out}, []string{"got 2"}},
		{[]string{"plot", sweep, "-o", out, "-kind", "pie"}, []string{`-kind "pie"`, "bars, roofline"}},
		{[]string{"plot", sweep, "-o", out, "-metric", "speed"}, []string{`unknown metric "speed"`, "time_us, tflops"}},
		{[]string{"plot", sweep, "-o", out, "-metric", "cost_per_call_usd"}, []string{"no row has a positive cost_per_call_usd"}},
		{[]string{"plot", empty, "-o", out}, []string{"empty.csv", "empty file"}},
		{[]string{"plot", headerOnly, "-o", out}, []string{"header.csv", "no rows"}},
		{[]string{"plot", missing, "-o", out}, []string{"missing.csv", "tflops"}},
		{[]string{"plot", filepath.Join(dir, "nosuch.csv"), "-o", out}, []string{"nosuch.csv"}},
		{[]string{"plot", big, "-o", bigPNG}, []string{"big.csv", "pixels", "write .svg"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(tc.args...)
			if code != 2 {
				t.Fatalf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
				t.Errorf("stdout %q, stderr %q: want one error line and no output", stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			for _, o := range []string{out, bigPNG} {
				if _, err := os.Stat(o); err == nil {
					t.Errorf("%s written despite the error", o)
				}
			}
		})
	}
}
