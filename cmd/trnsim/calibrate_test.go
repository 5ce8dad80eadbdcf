package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/sim/neuron"
)

// syntheticMeasured writes a measured-data CSV whose times are the trn2
// model's with the DMA fixed cost at fixed ns and the engine asymptote at
// peak B/ns: a calibration from the preset should find them again.
func syntheticMeasured(t *testing.T, dir string, fixed, peak float64) string {
	t.Helper()
	truth, err := neuron.Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := neuron.SelectFitParams(truth, []string{"dma_peak_bytes_per_ns", "dma_fixed_ns"})
	if err != nil {
		t.Fatal(err)
	}
	ps[0].Set(&truth, peak)
	ps[1].Set(&truth, fixed)
	var b strings.Builder
	b.WriteString("target,kernel,variant,dtype,batch,M,N,K,measured_us,confidence,source\n")
	for _, r := range []struct {
		variant, dtype string
		m, n, k        int
	}{
		{"tiled", "bf16", 512, 1024, 512}, {"tiled", "fp32", 512, 512, 512}, {"hoist_load", "bf16", 1024, 1024, 512},
		{"hoist_load", "fp32", 256, 1024, 512}, {"tiled", "bf16", 256, 2048, 256}, {"block_free", "bf16", 512, 2048, 512},
	} {
		spec := fmt.Sprintf("matmul:M=%d,N=%d,K=%d,dtype=%s,variant=%s", r.m, r.n, r.k, r.dtype, r.variant)
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := kernels.BuildNeuron(isa.Trn2(), p)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := neuron.Run(prog, truth)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "trn2,matmul,%s,%s,1,%d,%d,%d,%.6f,exact,synthetic\n", r.variant, r.dtype, r.m, r.n, r.k, rep.TimeNs/1e3)
	}
	path := filepath.Join(dir, "measured.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCalibrateRecoversParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("fits with up to 400 model evaluations per fold; runs without -short")
	}
	dir := t.TempDir()
	in := syntheticMeasured(t, dir, 420, 24)
	out := filepath.Join(dir, "fit.json")
	stdout, stderr, code := runCLI("calibrate", in, "-target", "trn2", "-o", out, "-evals", "400", "-folds", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Log("\n" + stdout)
	var got map[string]float64
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	peak, sus := got["dma_peak_bytes_per_ns"], got["dma_sustained_bytes_per_ns"]
	fixed := 32768/sus - 32768/peak
	// The two trade off along a valley (a transfer of b bytes costs
	// fixed + b/peak and the rows span a few sizes): the fit lands near
	// the truth, its predictions much nearer.
	if math.Abs(peak-24)/24 > 0.10 || math.Abs(fixed-420)/420 > 0.10 {
		t.Errorf("fitted peak %.2f B/ns, fixed %.1f ns; want 24 and 420 (±10%%)", peak, fixed)
	}
	if !strings.Contains(stdout, "preset 29.31%, fitted 0.") {
		t.Errorf("fit error not under 1%% from the preset's 29.31%%")
	}
	for _, want := range []string{"dma_fixed_ns", "cross-validated", "verdict: the cross-validated error supports the fit"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The -hw file is accepted by validate, which then matches the rows.
	vout, verr, vcode := runCLI("validate", in, "-hw", out)
	if vcode != 0 || !strings.Contains(vout, "overall MAPE") {
		t.Fatalf("validate -hw: exit %d, %s", vcode, verr)
	}
}

// TestCalibrateDeterministic: the same input gives the same bytes, on
// standard output and in the file.
func TestCalibrateDeterministic(t *testing.T) {
	dir := t.TempDir()
	in := syntheticMeasured(t, dir, 300, 26)
	var outs, files [2]string
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("fit%d.json", i))
		stdout, stderr, code := runCLI("calibrate", in, "-target", "trn2", "-o", out, "-evals", "12", "-folds", "2", "-params", "dma_fixed_ns")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		outs[i], files[i] = stdout, mustRead(t, out)
	}
	if outs[0] != outs[1] || files[0] != files[1] {
		t.Errorf("two runs differ:\n%s\n%s\n%s\n%s", outs[0], outs[1], files[0], files[1])
	}
}

func TestCalibrateBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "fit.json")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hdr := "target,kernel,variant,dtype,batch,M,N,K,measured_us\n"
	row := func(target string, us string) string {
		return target + ",matmul,tiled,bf16,1,512,512,512," + us + "\n"
	}
	other := write("other.csv", hdr+row("trn1", "10")+row("trn1", "11")+row("trn1", "12"))
	few := write("few.csv", hdr+row("trn2", "10")+row("trn2", "11"))
	neg := write("neg.csv", hdr+row("trn2", "10")+row("trn2", "-1")+row("trn2", "12"))
	zero := write("zero.csv", hdr+row("trn2", "10")+row("trn2", "0")+row("trn2", "12"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"calibrate", other, "-target", "trn2", "-o", out}, "no usable rows for target trn2"},
		{[]string{"calibrate", few, "-target", "trn2", "-o", out}, "2 usable rows for target trn2, want more than the 2 parameters"},
		{[]string{"calibrate", neg, "-target", "trn2", "-o", out}, "measured_us"},
		{[]string{"calibrate", zero, "-target", "trn2", "-o", out}, "measured_us"},
		{[]string{"calibrate", few, "-target", "h100", "-o", out}, "no usable rows for target h100"},
		{[]string{"calibrate", few, "-target", "tpu", "-o", out}, "want a NeuronCore or GPU target"},
		{[]string{"calibrate", few, "-o", out}, "-target"},
		{[]string{"calibrate", few, "-target", "trn2", "-o", out, "-params", "tensor_ghz"}, `parameter "tensor_ghz" unknown`},
		{[]string{"calibrate", few, "-target", "trn2", "-o", out, "-params", "dma_fixed_ns,dma_fixed_ns"}, "repeated"},
		{[]string{"calibrate", few, "-target", "trn2"}, "-o"},
		{[]string{"calibrate", few, "-target", "trn2", "-o", out, "-folds", "1"}, "-folds"},
		{[]string{"calibrate", "-target", "trn2", "-o", out}, "want one measured-data CSV file"},
	} {
		t.Run(tc.want, func(t *testing.T) { wantUsageError(t, tc.args, tc.want, out) })
	}
}

// TestFitParamsBounds: every declared parameter's preset value lies in its
// bounds, and setting a value reads it back.
func TestFitParamsBounds(t *testing.T) {
	for _, g := range neuron.PresetNames() {
		c, err := neuron.Preset(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range neuron.FitParams(c) {
			v := p.Get(c)
			if !(p.Lo < p.Hi) || v < p.Lo || v > p.Hi {
				t.Errorf("%s %s: preset %.4g outside [%.4g, %.4g]", g, p.Name, v, p.Lo, p.Hi)
			}
			mid := (p.Lo + p.Hi) / 2
			d := c
			p.Set(&d, mid)
			if got := p.Get(d); math.Abs(got-mid) > 0.5+1e-9*mid {
				t.Errorf("%s %s: set %.4g, read %.4g", g, p.Name, mid, got)
			}
			if err := d.Validate(); err != nil {
				t.Errorf("%s %s = %.4g: %v", g, p.Name, mid, err)
			}
		}
	}
}

// FuzzSelectFitParams: any -params list is a subset of the declared
// parameters without repeats, or an error; never a panic.
func FuzzSelectFitParams(f *testing.F) {
	f.Add(defaultFitParams)
	f.Add("dma_fixed_ns,,semaphore_cycles")
	f.Add("x,dma_fixed_ns")
	c, err := neuron.Preset("trn1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, list string) {
		ps, err := neuron.SelectFitParams(c, strings.Split(list, ","))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if seen[p.Name] || !strings.Contains(","+list+",", ","+p.Name+",") {
				t.Errorf("%q: selected %s", list, p.Name)
			}
			seen[p.Name] = true
		}
	})
}

// TestCalibrateGPU: on an H100, times made with launch 2.5 µs and 75% of
// the HBM spec come back from the preset's 4 µs and 90%.
func TestCalibrateGPU(t *testing.T) {
	dir := t.TempDir()
	truth, err := gpu.Preset("h100")
	if err != nil {
		t.Fatal(err)
	}
	truth.LaunchUs, truth.HBMEfficiency = 2.5, 0.75
	base, err := bench.TargetByName("h100", "")
	if err != nil {
		t.Fatal(err)
	}
	target, err := base.(*bench.GPUTarget).WithGPUConfig(truth)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("target,kernel,dtype,batch,M,N,K,measured_us\n")
	for _, s := range [][3]int{{64, 4096, 4096}, {128, 8192, 8192}, {16, 2048, 8192}, {256, 1024, 1024}, {32, 16384, 4096}, {1024, 1024, 1024}} {
		spec := fmt.Sprintf("matmul:M=%d,N=%d,K=%d,dtype=bf16", s[0], s[1], s[2])
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		row, _, err := bench.Run(p, target)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "h100,matmul,bf16,1,%d,%d,%d,%.6f\n", s[0], s[1], s[2], row.TimeUs)
	}
	in := filepath.Join(dir, "gpu.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fit.json")
	stdout, stderr, code := runCLI("calibrate", in, "-target", "h100", "-o", out, "-evals", "150", "-folds", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(mustRead(t, out)), &got); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got["launch_us"]-2.5) > 0.25 || math.Abs(got["hbm_efficiency"]-0.75) > 0.04 {
		t.Errorf("fitted launch %.2f µs, HBM efficiency %.3f; want 2.5 and 0.75\n%s", got["launch_us"], got["hbm_efficiency"], stdout)
	}
}
