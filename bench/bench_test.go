package bench

// The go test -bench harness: every suite as a benchmark, one sub-benchmark
// per target and workload, named
//
//	Benchmark<Suite>/target=<target>/spec=<canonical spec>
//
// so that `trnsim compare` matches it with the CSV row of the same
// workload and target, and `benchstat -col /target` sets targets side by
// side. Besides the simulator's own ns/op, each reports the simulated
// figures (simMetrics) in units that benchstat neither rescales (no "ns",
// no "B" token) nor treats as noisy: the Unit lines TestMain prints declare
// them assume=exact.
//
// `go test -bench . ./bench` runs the representative suite only; a suite
// runs when -bench names it: -bench Square, -bench 'LLM/target=trn2',
// -bench 'Attention|Baseline'. Add -benchtime=1x for one simulation per
// workload: the simulated figures are the same on every iteration.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// simMetric is one simulated figure reported by the benchmarks.
type simMetric struct {
	unit   string
	better string // "lower", "higher" or "" (no preference)
	value  func(*results.Row) float64
}

func simMetrics() []simMetric {
	return []simMetric{
		{results.BenchTimeUnit, "lower", func(r *results.Row) float64 { return r.TimeUs }},
		{"sim-TFLOPS", "higher", func(r *results.Row) float64 { return r.TFLOPS }},
		{"sim-pct-peak", "higher", func(r *results.Row) float64 { return r.PctPeak }},
		// More HBM traffic per second is neither good nor bad by itself.
		{"sim-GBps", "", func(r *results.Row) float64 { return r.HBMGBps }},
		// Micro-dollars: a call costs about 1e-6 USD, which go test would
		// print as "0.0000010", one significant digit.
		{"sim-µUSD/op", "lower", func(r *results.Row) float64 { return r.CostPerCallUSD * 1e6 }},
	}
}

// writeUnits writes the benchfmt unit metadata lines for simMetrics.
func writeUnits(w io.Writer) {
	for _, m := range simMetrics() {
		fmt.Fprintf(w, "Unit %s assume=exact", m.unit)
		if m.better != "" {
			fmt.Fprintf(w, " better=%s", m.better)
		}
		fmt.Fprintln(w)
	}
}

// metrics returns the figures of row to report, leaving out those that do
// not apply (NaN: no price set, say).
func metrics(row *results.Row) map[string]float64 {
	out := map[string]float64{}
	for _, m := range simMetrics() {
		if v := m.value(row); !math.IsNaN(v) {
			out[m.unit] = v
		}
	}
	return out
}

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		writeUnits(os.Stdout)
	}
	os.Exit(m.Run())
}

// selected reports whether the -bench pattern names suite (any case), as
// in -bench Square or -bench 'llm/target=trn2'.
func selected(suite string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(strings.ToLower(f.Value.String()), strings.ToLower(suite))
}

func benchSuite(b *testing.B, name string, byDefault bool) {
	if !byDefault && !selected(name) {
		b.Skipf("suite %s runs when -bench names it (e.g. -bench %s)", name, name)
	}
	s, err := SuiteByName(name)
	if err != nil {
		b.Fatal(err)
	}
	ws, pending, err := s.Workloads(kernels.Builtin())
	if err != nil {
		b.Fatal(err)
	}
	if len(pending) > 0 {
		b.Logf("skipping %d specs of kernels not built in yet: %s", len(pending), strings.Join(pending, " "))
	}
	for _, tname := range DefaultTargets() {
		t, err := TargetByName(tname, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run("target="+tname, func(b *testing.B) {
			for _, w := range ws {
				b.Run("spec="+w.String(), func(b *testing.B) {
					var row results.Row
					for b.Loop() {
						row, _, err = Run(w, t)
						if errors.Is(err, kernels.ErrUnsupported) {
							// As in sweeps: a workload the target cannot run
							// (fp8 on a100) has no row.
							b.Skipf("%s on %s: %v", w, tname, err)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					for unit, v := range metrics(&row) {
						b.ReportMetric(v, unit)
					}
				})
			}
		})
	}
}

func BenchmarkRepresentative(b *testing.B) { benchSuite(b, "representative", true) }
func BenchmarkBaseline(b *testing.B)       { benchSuite(b, "baseline", false) }
func BenchmarkSquare(b *testing.B)         { benchSuite(b, "square", false) }
func BenchmarkLLM(b *testing.B)            { benchSuite(b, "llm", false) }
func BenchmarkAttention(b *testing.B)      { benchSuite(b, "attention", false) }

// fakeBenchOutput writes what `go test -bench -count=count` prints for
// rows, with the simulator's own ns/op varying from run to run (as wall
// time does) and the simulated figures as the harness reports them.
func fakeBenchOutput(w io.Writer, rows []results.Row, count int, nsBase time.Duration) {
	fmt.Fprintln(w, "goos: linux\ngoarch: amd64\npkg: github.com/trnsim/trnsim/bench")
	writeUnits(w)
	for c := 0; c < count; c++ {
		for i := range rows {
			r := testing.BenchmarkResult{N: 10, T: 10 * (nsBase + time.Duration(c*1000+i*37)), Extra: metrics(&rows[i])}
			fmt.Fprintf(w, "BenchmarkRepresentative/target=%s/spec=%s-2\t%s\n", rows[i].Target, rows[i].Spec, r.String())
		}
	}
	fmt.Fprintln(w, "PASS")
}

// TestBenchstatExact writes two benchmark outputs of real simulations and
// checks that benchstat treats every simulated unit as exact: the
// statistics benchstat computes (golang.org/x/perf/benchmath, with the
// assumption benchfmt reads from our Unit lines) have no spread, and the
// `go tool benchstat` table shows "± 0%" for them where wall time shows
// a confidence interval.
func TestBenchstatExact(t *testing.T) {
	var ws []kernels.Params
	for _, spec := range []string{"rmsnorm:tokens=512,hidden=1024,dtype=bf16", "attention:batch=1,heads=2,seqlen=512,headdim=64,causal=true"} {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, p)
	}
	rows, err := Sweep(context.Background(), ws, []string{"trn2", "h100"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for i, ns := range []time.Duration{120000, 150000} {
		var buf bytes.Buffer
		fakeBenchOutput(&buf, rows, 6, ns)
		f := filepath.Join(dir, fmt.Sprintf("run%d.txt", i))
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}

	// The library path benchstat takes.
	type key struct{ name, unit string }
	samples := map[key][]float64{}
	var units benchfmt.UnitMetadataMap
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		br := benchfmt.NewReader(fh, f)
		for br.Scan() {
			switch rec := br.Result().(type) {
			case *benchfmt.SyntaxError:
				t.Fatal(rec)
			case *benchfmt.Result:
				for _, v := range rec.Values {
					k := key{f + " " + string(rec.Name), v.Unit}
					samples[k] = append(samples[k], v.Value)
				}
			}
		}
		units = br.Units()
		fh.Close()
	}
	for _, m := range simMetrics() {
		if a := units.GetAssumption(m.unit); a != benchmath.AssumeExact {
			t.Errorf("unit %s: benchstat does not assume exact (%+v)", m.unit, a)
		}
	}
	if units.GetAssumption("sec/op") != benchmath.AssumeNothing {
		t.Error("wall time is declared exact")
	}
	nsim := 0
	for k, vs := range samples {
		a := units.GetAssumption(k.unit)
		s := a.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), 0.95)
		if strings.HasPrefix(k.unit, "sim-") {
			nsim++
			if s.Lo != s.Center || s.Hi != s.Center || len(s.Warnings) > 0 {
				t.Errorf("%s %s: summary %+v, want no spread", k.name, k.unit, s)
			}
		}
	}
	if nsim == 0 {
		t.Fatal("no simulated units in the output")
	}

	// The benchstat command itself, when the go command is at hand.
	gobin, err := exec.LookPath("go") // go test puts its own go command on PATH
	if err != nil {
		t.Skipf("no go command to run benchstat: %v", err)
	}
	cmd := exec.Command(gobin, "tool", "benchstat", files[0], files[1])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool benchstat: %v\n%s", err, out)
	}
	checkBenchstatTable(t, string(out))
}

// checkBenchstatTable checks benchstat's text: in each table of a sim-
// unit, every benchmark row shows "± 0%" in both columns and a plain
// delta (no "~" and no p-value); the wall-time table does show spread.
func checkBenchstatTable(t *testing.T, out string) {
	t.Helper()
	unit := ""
	simRows, wallSpread := 0, false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "│") {
			for _, f := range strings.Fields(line) {
				if f == "sec/op" || strings.HasPrefix(f, "sim-") {
					unit = f
				}
			}
			continue
		}
		if !strings.HasPrefix(line, "Representative/") {
			continue
		}
		if unit == "sec/op" {
			wallSpread = wallSpread || !strings.Contains(line, "± 0%")
			continue
		}
		simRows++
		if strings.Count(line, "± 0%") != 2 || strings.Contains(line, "~") || strings.Contains(line, "p=") || strings.Contains(line, "∞") {
			t.Errorf("benchstat shows spread for %s:\n%s", unit, line)
		}
	}
	if simRows == 0 || !wallSpread {
		t.Errorf("unexpected benchstat output (%d simulated rows, wall spread %v):\n%s", simRows, wallSpread, out)
	}
}
