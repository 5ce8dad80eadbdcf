package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/results"
)

const smallMatmul = "matmul:M=256,N=512,K=256,dtype=bf16"

func TestRunSideBySide(t *testing.T) {
	stdout, stderr, code := runCLI("run", smallMatmul, "-target", "trn2,trn1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"trn1", "trn2", "time_us", "bound", smallMatmul[:len("matmul:M=256")]} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}

func TestRunCSVParsesAndPriceOverride(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.csv")
	_, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv", "-o", out, "-price", "trn2=20/chip-hour")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := results.ReadCSV(f, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Target != "trn2" || rows[0].M != 256 {
		t.Fatalf("rows = %+v", rows)
	}
	r := rows[0]
	// 20 USD per chip-hour: 2.5 per NeuronCore-hour of trn2's 8 cores.
	if r.PricePerHourUSD != 2.5 || r.Unit != "core" || r.PriceBasis != "user" {
		t.Errorf("price %v per %s (%s), want 2.5 per core from -price, basis user", r.PricePerHourUSD, r.Unit, r.PriceBasis)
	}
	// cost per call = price per hour × time in hours.
	want := 2.5 / 3600 * r.TimeUs * 1e-6
	if d := r.CostPerCallUSD/want - 1; d > 1e-9 || d < -1e-9 {
		t.Errorf("cost per call %v, want %v", r.CostPerCallUSD, want)
	}
}

// TestRunDeterministicCSV: two runs of the same workloads write the same
// bytes, under GOMAXPROCS 1 and 2 alike (issue: deterministic simulated
// numbers for CI).
func TestRunDeterministicCSV(t *testing.T) {
	const all, neuronOnly = "trn1,trn2,trn3,a100,h100", "trn1,trn2,trn3"
	specs := [][2]string{
		{smallMatmul, all},
		{"matmul:M=512,N=1024,K=1024,dtype=fp32,variant=tiled", neuronOnly},
		{"matmul:M=512,N=1024,K=1024,dtype=fp32,variant=hoist_load", neuronOnly},
		{"matmul:M=512,N=1024,K=1024,dtype=fp32,variant=block_free", neuronOnly},
		{"matmul:M=512,N=1024,K=1024,dtype=fp32,variant=fully_optimized", neuronOnly},
		{"attention:heads=2,kv_heads=1,seqlen=700,causal=true", all},
		{"decode_attention:batch=4,seqlen=3000,splits=3,variant=splitkv", all},
		{"layer:model=llama3-8b,phase=decode,batch=2,context=512", all},
	}
	csvs := func() string {
		var all strings.Builder
		for _, s := range specs {
			out, stderr, code := runCLI("run", s[0], "-target", s[1], "-format", "csv")
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", s, code, stderr)
			}
			all.WriteString(out)
		}
		return all.String()
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	a, b := csvs(), csvs()
	runtime.GOMAXPROCS(2)
	c := csvs()
	if a != b || a != c || a == "" {
		t.Fatalf("runs differ (GOMAXPROCS 1, 1, 2):\n%s\n%s\n%s", a, b, c)
	}
}

func TestRunProfileAndTrace(t *testing.T) {
	dir := t.TempDir()
	prof, trace := filepath.Join(dir, "p.pb.gz"), filepath.Join(dir, "t.json")
	_, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-profile", prof, "-trace", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{prof, trace} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
}

func TestRunBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"NoSuchField": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	tests := [][]string{
		{"run", smallMatmul, "-target", "trn2", "-hw", bad, "-o", out},
		{"run", smallMatmul, "-target", "trn2", "-hw", filepath.Join(dir, "missing.json"), "-o", out},
		{"run", smallMatmul, "-target", "trn2,trn9", "-o", out},
		{"run", smallMatmul, "-target", "trn2", "-price", "trn2=free", "-o", out},
		{"run", smallMatmul, "-target", "trn2", "-price", "h100=3", "-o", out},
		{"run", smallMatmul, "-target", "trn2,trn1", "-profile", filepath.Join(dir, "p"), "-o", out},
		{"run", smallMatmul, "-target", "trn2", "-format", "xml", "-o", out},
	}
	for _, args := range tests {
		var so, se bytes.Buffer
		err := run(args, &so, &se)
		if code := exitCode(err, &se); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, se.String())
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: wrote %s despite the error", args, out)
		}
	}
}

// Side by side, a target the workload does not run on is noted on stderr
// and the others still print; alone, it is bad input.
func TestRunUnsupportedTarget(t *testing.T) {
	fp8 := "matmul:M=256,N=512,K=256,dtype=fp8e4m3"
	stdout, stderr, code := runCLI("run", fp8, "-target", "trn2,a100")
	if code != 0 || !strings.Contains(stderr, "a100: not supported") || !strings.Contains(stdout, "trn2") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, _, code := runCLI("run", fp8, "-target", "a100"); code != 2 {
		t.Errorf("fp8 on a100 alone: exit %d, want 2", code)
	}
}

// A kernel author can time a text-assembly program: the one trnsim asm
// prints for a workload times exactly as the workload does.
func TestRunAsmFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mm.s")
	prog, _, code := runCLI("asm", smallMatmul, "-target", "trn2")
	if code != 0 {
		t.Fatalf("asm: exit %d", code)
	}
	if err := os.WriteFile(file, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	fromAsm, stderr, code := runCLI("run", "-asm", file, "-target", "trn2", "-format", "csv")
	if code != 0 {
		t.Fatalf("run -asm: exit %d: %s", code, stderr)
	}
	fromSpec, _, _ := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv")
	a, err := results.ReadCSV(strings.NewReader(fromAsm), "asm.csv")
	if err != nil {
		t.Fatal(err)
	}
	w, err := results.ReadCSV(strings.NewReader(fromSpec), "spec.csv")
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Kernel != "asm" || a[0].TimeUs != w[0].TimeUs || a[0].HBMReadBytes != w[0].HBMReadBytes {
		t.Errorf("asm row %+v\nworkload row %+v", a[0], w[0])
	}

	bad := filepath.Join(dir, "bad.s")
	if err := os.WriteFile(bad, []byte(prog+"nc_frobnicate tensor\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantUsageError(t, []string{"run", "-asm", bad, "-target", "trn2"}, "line", "")
	wantUsageError(t, []string{"run", "-asm", file, smallMatmul}, "takes no WORKLOAD", "")
	wantUsageError(t, []string{"run", "-asm", file, "-target", "h100"}, "NeuronCore targets", "")
}
