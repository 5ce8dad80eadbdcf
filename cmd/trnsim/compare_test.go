package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/results"
)

// writeRows writes a results CSV of (spec, target, time) rows.
func writeRows(t *testing.T, path string, rows ...results.Row) {
	t.Helper()
	var buf bytes.Buffer
	if err := results.WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func timingRow(spec, target string, us float64) results.Row {
	return results.Row{Kernel: "matmul", Spec: spec, Target: target, Unit: results.UnitCore, TimeUs: us}
}

func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeRows(t, p("base.csv"), timingRow("matmul:M=512", "trn2", 100), timingRow("matmul:M=512", "h100", 50), timingRow("matmul:M=1024", "trn2", 400))
	// A 5% slowdown on one workload, a speed-up on another.
	writeRows(t, p("slower.csv"), timingRow("matmul:M=512", "trn2", 105), timingRow("matmul:M=512", "h100", 40), timingRow("matmul:M=1024", "trn2", 400))
	// Within 1%, and a workload added.
	writeRows(t, p("noise.csv"), timingRow("matmul:M=512", "trn2", 100.5), timingRow("matmul:M=512", "h100", 50), timingRow("matmul:M=1024", "trn2", 400), timingRow("matmul:M=2048", "trn2", 9))
	os.WriteFile(p("bench.txt"), []byte("Unit sim-us/op assume=exact better=lower\n"+
		"BenchmarkBaseline/target=trn2/spec=matmul:M=512-2 \t 1\t 100 ns/op\t 100.0 sim-us/op\n"+
		"BenchmarkBaseline/target=h100/spec=matmul:M=512-2 \t 1\t 100 ns/op\t 50.00 sim-us/op\n"+
		"BenchmarkBaseline/target=trn2/spec=matmul:M=1024-2 \t 1\t 100 ns/op\t 400.0 sim-us/op\n"), 0o644)
	os.WriteFile(p("malformed.csv"), []byte(strings.Replace(mustRead(t, p("base.csv")), ",100,", ",1OO,", 1)), 0o644)
	os.WriteFile(p("malformed.txt"), []byte("BenchmarkX/target=trn2/spec=s-2 1 100 ns/op x sim-us/op\n"), 0o644)
	os.WriteFile(p("empty.txt"), nil, 0o644)
	// NEW lacks a row of BASE (a workload became unsupported): a failure.
	writeRows(t, p("lacking.csv"), timingRow("matmul:M=512", "trn2", 100), timingRow("matmul:M=1024", "trn2", 400))
	// NEW shares no row with BASE.
	writeRows(t, p("disjoint.csv"), timingRow("matmul:M=512", "b200", 10))
	// Benchmark text whose first line is a benchmark (its spec has commas).
	os.WriteFile(p("commas.txt"), []byte("BenchmarkBaseline/target=trn2/spec=matmul:M=512-2 \t 1\t 100 ns/op\t 100.0 sim-us/op\n"+
		"BenchmarkBaseline/target=h100/spec=matmul:M=512-2 \t 1\t 100 ns/op\t 50.00 sim-us/op\n"+
		"BenchmarkBaseline/target=trn2/spec=matmul:M=1024-2 \t 1\t 100 ns/op\t 400.0 sim-us/op\n"), 0o644)
	os.WriteFile(p("nan.txt"), []byte("goos: linux\nBenchmarkB/target=trn2/spec=matmul:M=512-2 1 100 ns/op NaN sim-us/op\n"), 0o644)
	writeRows(t, p("zero.csv"), timingRow("matmul:M=512", "trn2", 0))
	writeRows(t, p("negative.csv"), timingRow("matmul:M=512", "trn2", 100), timingRow("matmul:M=512", "h100", -50))

	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr when the code is 2
	}{
		{"identical", []string{p("base.csv"), p("base.csv")}, 0, []string{"3 workloads on both sides", "0 slower beyond 1%", "3 unchanged"}},
		{"regression", []string{p("base.csv"), p("slower.csv")}, 1, []string{"+5.00%", "REGRESSION", "-20.00%", "faster", "1 slower beyond 1%"}},
		{"regression within a larger threshold", []string{p("base.csv"), p("slower.csv"), "-threshold", "5%"}, 0, []string{"within threshold", "0 slower beyond 5%"}},
		{"threshold without %", []string{"-threshold", "4.9", p("base.csv"), p("slower.csv")}, 1, []string{"1 slower beyond 4.9%"}},
		{"noise and an added workload", []string{p("base.csv"), p("noise.csv")}, 0, []string{"+0.50%", "within threshold", "only in " + p("noise.csv") + " (added; not compared) (1):\n  trn2 matmul:M=2048"}},
		{"missing rows fail", []string{p("base.csv"), p("lacking.csv")}, 1, []string{"MISSING from " + p("lacking.csv"), "  h100 matmul:M=512", "1 missing from new"}},
		{"disjoint files fail", []string{p("base.csv"), p("disjoint.csv")}, 1, []string{"0 workloads on both sides", "3 missing from new", "1 added"}},
		{"bench text with a benchmark first", []string{p("base.csv"), p("commas.txt")}, 0, []string{"3 workloads on both sides", "3 unchanged"}},
		{"NaN in bench text", []string{p("base.csv"), p("nan.txt")}, 2, []string{"nan.txt:2:", "NaN"}},
		{"zero time in CSV", []string{p("zero.csv"), p("base.csv")}, 2, []string{"zero.csv:2:", "want a finite time > 0"}},
		{"negative time in CSV", []string{p("base.csv"), p("negative.csv")}, 2, []string{"negative.csv:3:", "-50"}},
		{"markdown", []string{p("base.csv"), p("slower.csv"), "-format", "markdown"}, 1, []string{"### trnsim compare: FAIL", "**REGRESSION**"}},
		{"json", []string{p("base.csv"), p("base.csv"), "-format", "json"}, 0, []string{`"pass": true`, `"compared": 3`}},
		{"bad format", []string{p("base.csv"), p("base.csv"), "-format", "html"}, 2, []string{`-format "html": allowed: text, markdown, json`}},
		{"bench text against CSV", []string{p("base.csv"), p("bench.txt")}, 0, []string{"3 workloads on both sides", "3 unchanged"}},
		{"malformed CSV", []string{p("base.csv"), p("malformed.csv")}, 2, []string{"malformed.csv:2:", "column time_us", `"1OO" is not a finite number`}},
		{"malformed bench text", []string{p("malformed.txt"), p("base.csv")}, 2, []string{"malformed.txt:1:"}},
		{"empty file", []string{p("empty.txt"), p("base.csv")}, 2, []string{"empty.txt:1: empty file"}},
		{"missing file", []string{p("base.csv"), p("none.csv")}, 2, []string{"none.csv"}},
		{"one file", []string{p("base.csv")}, 2, []string{"want BASE and NEW"}},
		{"bad threshold", []string{p("base.csv"), p("base.csv"), "-threshold", "-1%"}, 2, []string{`-threshold "-1%"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(append([]string{"compare"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			where := stdout
			if code == 2 {
				where = stderr
			}
			for _, w := range tt.want {
				if !strings.Contains(where, w) {
					t.Errorf("output lacks %q:\n%s", w, where)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"1%", "0.5", "-1%", "inf", "NaN%", "%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseThreshold(s)
		if err == nil && (v < 0 || v != v || v > 1e308) {
			t.Fatalf("parseThreshold(%q) = %v", s, v)
		}
	})
}
