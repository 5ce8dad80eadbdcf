package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func timingRows(ts ...Timing) []Row {
	rows := make([]Row, len(ts))
	for i, t := range ts {
		rows[i] = Row{Kernel: "matmul", Target: t.Target, Unit: UnitCore, Spec: t.Spec, TimeUs: t.TimeUs}
	}
	return rows
}

func csvText(t testing.TB, rows []Row) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestCompare(t *testing.T) {
	a := Key{"matmul:M=512", "trn2"}
	b := Key{"matmul:M=512", "h100"}
	c := Key{"matmul:M=1024", "trn2"}
	d := Key{"matmul:M=2048", "trn2"}
	e := Key{"matmul:M=4096", "trn2"}
	base := []Timing{{a, 100, "tensor"}, {b, 10, ""}, {c, 200, "tensor"}, {d, 0, ""}, {e, 50, "dma"}}
	new := []Timing{{e, 50, "dma"}, {c, 201, "dma"}, {a, 102, "tensor"}, {b, 9, ""}, {Key{"x", "trn1"}, 1, ""}}
	cmp := Compare(base, new, 1)
	if cmp.Compared != 4 {
		t.Errorf("compared %d, want 4 (a, b, c, e)", cmp.Compared)
	}
	// Slowest first.
	want := []Change{{a, 100, 102, 2, "tensor", "tensor"}, {c, 200, 201, 0.5, "tensor", "dma"}, {b, 10, 9, -10, "", ""}}
	if len(cmp.Changed) != len(want) {
		t.Fatalf("changed = %+v, want %+v", cmp.Changed, want)
	}
	for i, w := range want {
		g := cmp.Changed[i]
		if g.Key != w.Key || g.Base != w.Base || g.New != w.New || math.Abs(g.DeltaPct-w.DeltaPct) > 1e-12 ||
			g.BaseBound != w.BaseBound || g.NewBound != w.NewBound {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
	}
	if reg := cmp.Regressions(); len(reg) != 1 || reg[0].Key != a {
		t.Errorf("regressions = %+v, want only %v (+2%% > 1%%)", reg, a)
	}
	if !cmp.Failed() {
		t.Error("a comparison with a regression and a missing row passes")
	}
	if len(cmp.OnlyBase) != 1 || cmp.OnlyBase[0] != d || len(cmp.OnlyNew) != 1 || cmp.OnlyNew[0].Spec != "x" {
		t.Errorf("only base %v, only new %v", cmp.OnlyBase, cmp.OnlyNew)
	}
	// A 2% slowdown is within a 2% threshold: "beyond" is strict.
	if reg := Compare(base, new, 2).Regressions(); len(reg) != 0 {
		t.Errorf("threshold 2%%: regressions %+v", reg)
	}
	// From zero to anything is an infinite slowdown.
	z := Compare([]Timing{{a, 0, ""}}, []Timing{{a, 1, ""}}, 1)
	if len(z.Regressions()) != 1 || !math.IsInf(z.Changed[0].DeltaPct, 1) {
		t.Errorf("0 → 1: %+v", z.Changed)
	}

	var out strings.Builder
	if err := cmp.Write(&out, "base.csv", "new.csv"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"base.csv vs new.csv: 4 workloads on both sides, threshold 1%",
		"100.000", "102.000", "+2.00%", "REGRESSION", "-10.00%", "faster", "+0.50%", "within threshold",
		"MISSING from new.csv (in base.csv only; each fails the gate) (1):\n  trn2 matmul:M=2048\n",
		"only in new.csv (added; not compared) (1):\n  trn1 x\n", "tensor → dma",
		"1 slower beyond 1%, 1 faster beyond 1%, 1 within 1%, 1 unchanged, 1 missing from new, 1 added",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

const benchText = `goos: linux
goarch: amd64
pkg: github.com/trnsim/trnsim/bench
Unit sim-us/op assume=exact better=lower
BenchmarkRepresentative/target=trn2/spec=matmul:M=512,N=512,K=512-2     	       3	    123456 ns/op	        12.50 sim-us/op	   0.5000 sim-TFLOPS
BenchmarkRepresentative/target=trn2/spec=matmul:M=512,N=512,K=512-2     	       3	    120000 ns/op	        12.50 sim-us/op	   0.5000 sim-TFLOPS
BenchmarkRepresentative/target=h100/spec=matmul:M=512,N=512,K=512-2     	       3	    100000 ns/op	         4.000 sim-us/op
BenchmarkSimulatorSpeed-2	100	5000 ns/op
BenchmarkOther/case=1	100	5000 ns/op	7.000 sim-us/op
PASS
`

func TestReadBenchTimings(t *testing.T) {
	ts, err := ReadTimings(strings.NewReader(benchText), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Timing{
		{Key{"matmul:M=512,N=512,K=512", "trn2"}, 12.5, ""},
		{Key{"matmul:M=512,N=512,K=512", "h100"}, 4, ""},
		{Key{"Other/case=1", ""}, 7, ""}, // benchfmt drops the "Benchmark" prefix
	}
	if len(ts) != len(want) {
		t.Fatalf("timings %+v, want %+v", ts, want)
	}
	for i := range want {
		if ts[i] != want[i] {
			t.Errorf("timing %d = %+v, want %+v", i, ts[i], want[i])
		}
	}
	// Bench text and CSV of the same workloads compare as equal.
	csv := csvText(t, timingRows(want[:2]...))
	base, err := ReadTimings(strings.NewReader(csv), "base.csv")
	if err != nil {
		t.Fatal(err)
	}
	if c := Compare(base, ts, 1); c.Compared != 2 || len(c.Changed) != 0 {
		t.Errorf("CSV vs bench: %+v", c)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestReadTimingsErrors(t *testing.T) {
	good := csvText(t, timingRows(Timing{Key{"s", "trn2"}, 1, ""}))
	dup := csvText(t, timingRows(Timing{Key{"s", "trn2"}, 1, ""}, Timing{Key{"s", "trn2"}, 2, ""}))
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "x:1: empty file"},
		{"bench without sim units", "BenchmarkA-2 10 100 ns/op\n", "x: no simulated times"},
		{"bench syntax error", "BenchmarkA-2 10 abc ns/op\n", "x:1: parsing measurement"},
		{"csv bad cell", strings.Replace(good, ",1,", ",one,", 1), "x:2:"},
		{"csv duplicate", dup, "x:3: duplicate row trn2 s (first at line 2)"},
		{"csv header only", strings.SplitAfter(good, "\n")[0], "x: no simulated times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTimings(strings.NewReader(tt.in), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	var se *benchfmt.SyntaxError
	if _, err := ReadTimings(strings.NewReader(tests[2].in), "x"); !errors.As(err, &se) {
		t.Errorf("bench syntax error is %T, want *benchfmt.SyntaxError", err)
	}
}

// TestReadTimingsBadTimes: a time that is not finite and positive is bad
// input naming file:line, in CSV and in benchmark text (it used to pass
// as "faster" or "within threshold").
func TestReadTimingsBadTimes(t *testing.T) {
	csvWith := func(us float64) string {
		return csvText(t, timingRows(Timing{Key{"s", "trn2"}, 1, ""}, Timing{Key{"s", "h100"}, us, ""}))
	}
	bench := func(v string) string {
		return "goos: linux\nBenchmarkB/target=trn2/spec=s-2 1 1 ns/op 1 sim-us/op\nBenchmarkB/target=h100/spec=s-2 1 1 ns/op " + v + " sim-us/op\n"
	}
	tests := []struct{ name, in, want string }{
		{"csv zero", csvWith(0), "x:3: column time_us: simulated time 0 µs: want a finite time > 0"},
		{"csv negative", csvWith(-2), "x:3: column time_us: simulated time -2 µs"},
		{"csv NaN text", strings.Replace(csvWith(2), ",2,", ",NaN,", 1), "x:3:"},
		{"csv Inf text", strings.Replace(csvWith(2), ",2,", ",+Inf,", 1), "x:3:"},
		{"bench NaN", bench("NaN"), "x:3: column sim-us/op: simulated time NaN µs"},
		{"bench +Inf", bench("+Inf"), "x:3: column sim-us/op: simulated time +Inf µs"},
		{"bench -Inf", bench("-Inf"), "x:3: column sim-us/op: simulated time -Inf µs"},
		{"bench zero", bench("0"), "x:3: column sim-us/op: simulated time 0 µs"},
		{"bench negative", bench("-5"), "x:3: column sim-us/op: simulated time -5 µs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := ReadTimings(strings.NewReader(tt.in), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("timings %v, err = %v, want %q", ts, err, tt.want)
			}
		})
	}
}

// TestIsBenchText: the kind of input is told by content, not by whether
// the first line has a comma (benchmark names hold the spec's commas).
func TestIsBenchText(t *testing.T) {
	tests := []struct {
		name, in string
		bench    bool
	}{
		{"benchmark first, with commas", "BenchmarkB/target=trn2/spec=matmul:M=1,N=2,K=3-2 1 1 ns/op 4 sim-us/op\n", true},
		{"config header", "goos: linux\ngoarch: amd64\n", true},
		{"unit line", "Unit sim-us/op assume=exact\n", true},
		{"benchmark after blank lines", "\n\nPASS\nBenchmarkX 1 1 ns/op\n", true},
		{"results CSV", csvText(t, timingRows(Timing{Key{"s", "trn2"}, 1, ""})), false},
		{"CSV header only", "kernel,variant,target\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsBenchText([]byte(tt.in)); got != tt.bench {
				t.Errorf("IsBenchText = %v, want %v", got, tt.bench)
			}
		})
	}
	ts, err := ReadTimings(strings.NewReader(tests[0].in), "b.txt")
	if err != nil || len(ts) != 1 || ts[0].Spec != "matmul:M=1,N=2,K=3" || ts[0].TimeUs != 4 {
		t.Errorf("benchmark-first file: %v, %v", ts, err)
	}
}

// TestCompareFormats: the report sorts by slowdown, fails on missing
// rows, shows bound changes, and renders as text, markdown and JSON.
func TestCompareFormats(t *testing.T) {
	k := func(s string) Key { return Key{s, "trn2"} }
	base := []Timing{{k("a"), 100, "tensor"}, {k("b"), 100, "tensor"}, {k("c"), 100, "dma"}, {k("gone"), 5, "hbm"}}
	new := []Timing{{k("a"), 101, "tensor"}, {k("b"), 150, "dma"}, {k("c"), 50, "dma"}, {k("added"), 7, "dma"}}
	c := Compare(base, new, 1)
	var order []string
	for _, ch := range c.Changed {
		order = append(order, ch.Spec)
	}
	if strings.Join(order, " ") != "b a c" {
		t.Errorf("order %v, want b a c (slowest first)", order)
	}
	if !c.Failed() {
		t.Error("missing row does not fail")
	}
	if ok := Compare(base[:3], new, 60); ok.Failed() {
		t.Errorf("threshold 60%%, nothing missing: failed %+v", ok)
	}
	for _, tt := range []struct {
		format string
		want   []string
	}{
		{"text", []string{"tensor → dma", "REGRESSION", "MISSING from n (in b only; each fails the gate) (1):\n  trn2 gone", "only in n (added; not compared) (1):\n  trn2 added"}},
		{"markdown", []string{"### trnsim compare: FAIL", "| trn2 | `b` | 100.000 | 150.000 | +50.00% | **REGRESSION** | tensor → dma |", "**Missing** from `n` (each fails the gate) (1):\n\n- trn2 `gone`"}},
		{"json", []string{`"pass": false`, `"new_bound": "dma"`, `"missing": [`, `"spec": "gone"`, `"slower": 1`}},
	} {
		var b strings.Builder
		if err := c.WriteFormat(&b, tt.format, "b", "n"); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q:\n%s", tt.format, w, b.String())
			}
		}
		if tt.format == "json" && !json.Valid([]byte(b.String())) {
			t.Errorf("invalid JSON:\n%s", b.String())
		}
	}
	if err := c.WriteFormat(io.Discard, "html", "b", "n"); err == nil {
		t.Error("format html accepted")
	}
}

func TestMerge(t *testing.T) {
	s0 := timingRows(Timing{Key{"a", "trn2"}, 1, ""}, Timing{Key{"c", "trn2"}, 3, ""})
	s1 := timingRows(Timing{Key{"b", "trn2"}, 2, ""})
	got, err := Merge(Source{"s0.csv", s0}, Source{"s1.csv", s1})
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, r := range got {
		specs = append(specs, r.Spec)
	}
	if strings.Join(specs, " ") != "a c b" {
		t.Errorf("merged order %v, want a c b (sources in order)", specs)
	}
	_, err = Merge(Source{"s0.csv", s0}, Source{"s1.csv", s1}, Source{"again.csv", s0[1:]})
	if err == nil || err.Error() != "again.csv:2: duplicate row trn2 c (first at s0.csv:3)" {
		t.Errorf("err = %v", err)
	}
	// The same spec on another target is not a duplicate.
	other := timingRows(Timing{Key{"a", "h100"}, 1, ""})
	if _, err := Merge(Source{"s0.csv", s0}, Source{"o.csv", other}); err != nil {
		t.Error(err)
	}
}

func FuzzReadTimings(f *testing.F) {
	f.Add(benchText)
	f.Add("kernel,target\n")
	f.Add("BenchmarkX/target=a/spec=b 1 2 sim-us/op\n")
	f.Add("goos: linux\nBenchmarkB/target=t/spec=s 1 1 ns/op NaN sim-us/op\n")
	f.Add(csvText(f, timingRows(Timing{Key{"s", "trn2"}, 1, "tensor"})))
	f.Fuzz(func(t *testing.T, in string) {
		// Inputs beyond 64 KiB explore nothing the small ones do not and
		// slow every execution: the fuzzer keeps to small inputs.
		if len(in) > 64<<10 {
			return
		}
		ts, err := ReadTimings(strings.NewReader(in), "fuzz")
		for _, x := range ts {
			if checkTime(x.TimeUs) != nil {
				t.Fatalf("timing %+v accepted", x)
			}
		}
		if err == nil && len(ts) == 0 {
			t.Fatal("no error and no timings")
		}
	})
}
