package tune

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/gpu"
)

func preset(t testing.TB, name string) gpu.Config {
	t.Helper()
	c, err := gpu.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gpuKernelsOf parses spec and returns its GPU kernels on dev.
func gpuKernelsOf(t testing.TB, dev gpu.Config, spec string) []gpu.Kernel {
	t.Helper()
	p, err := kernels.Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := gpuKernels(dev, p)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func runGPU(t testing.TB, dev gpu.Config, ks []gpu.Kernel) *sim.Report {
	t.Helper()
	rep, err := gpu.Run(dev, ks)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func attnTFLOPS(t *testing.T, dev gpu.Config, s kernels.GPUAttnShape, variant string) float64 {
	t.Helper()
	ks, _, err := kernels.GPUAttentionKernels(dev.Device(), s, variant)
	if err != nil {
		t.Fatal(err)
	}
	return runGPU(t, dev, ks).TFLOPS()
}

// FA3 §4.1 (B §1.3, Fig. 5): FlashAttention-3 is 1.5–2.0× faster than
// FlashAttention-2 in FP16 on H100.
func TestFA3BeatsFA2OnH100(t *testing.T) {
	h100 := preset(t, "h100")
	for _, d := range []int{64, 128, 256} {
		for _, causal := range []bool{false, true} {
			s := kernels.GPUAttnShape{Batch: 2, Heads: 16 * 128 / d, Seqlen: 8192, Headdim: d, Causal: causal, DType: isa.FP16}
			fa2 := attnTFLOPS(t, h100, s, "fa2")
			fa3 := attnTFLOPS(t, h100, s, "fa3")
			if r := fa3 / fa2; r < 1.4 || r > 2.2 {
				t.Errorf("d=%d causal=%v: fa3 %.0f / fa2 %.0f TFLOP/s = %.2f, want 1.5–2.0 (±0.1)", d, causal, fa3, fa2, r)
			}
		}
	}
}

// Causal attention does half the FLOPs but its short query blocks finish
// early and the diagonal blocks cost as much as full ones: at short
// sequence lengths it runs at lower TFLOP/s (FA2 and FA3 Fig. 5).
func TestCausalSlowerAtShortSeqlen(t *testing.T) {
	for _, tc := range []struct{ gpu, variant string }{{"h100", "fa3"}, {"h100", "fa2"}, {"a100", "fa2"}} {
		dev := preset(t, tc.gpu)
		for _, seq := range []int{512, 1024} {
			s := kernels.GPUAttnShape{Batch: 16384 / seq, Heads: 32, Seqlen: seq, Headdim: 64, DType: isa.BF16}
			full := attnTFLOPS(t, dev, s, tc.variant)
			s.Causal = true
			causal := attnTFLOPS(t, dev, s, tc.variant)
			if causal >= 0.9*full {
				t.Errorf("%s %s seqlen %d: causal %.0f TFLOP/s, non-causal %.0f; want causal clearly lower", tc.gpu, tc.variant, seq, causal, full)
			}
		}
	}
}

// Flash-Decoding (B §1.5 sources [FD]): at batch 1 and long context, the
// no-split kernel keeps only batch·heads SMs busy; splitting the keys
// makes decoding many times faster.
func TestSplitKVManyTimesFasterAtSmallBatchLongContext(t *testing.T) {
	for _, name := range []string{"a100", "h100"} {
		dev := preset(t, name)
		s := kernels.GPUDecodeShape{Batch: 1, Heads: 16, KVHeads: 2, Seqlen: 65536, Headdim: 128, DType: isa.FP16}
		split, v, n, err := decodeKernels(dev, s, "splitkv", 0)
		if err != nil || v != "splitkv" || n < 2 || len(split) != 2 {
			t.Fatalf("%s splitkv: %d kernels, variant %s, %d splits, err %v", name, len(split), v, n, err)
		}
		nosplit, _, _, err := decodeKernels(dev, s, "nosplit", 0)
		if err != nil {
			t.Fatal(err)
		}
		a, b := runGPU(t, dev, split).TimeNs, runGPU(t, dev, nosplit).TimeNs
		if b < 8*a {
			t.Errorf("%s: nosplit %.0f µs vs splitkv %.0f µs, want ≥ 8× faster with splits", name, b/1e3, a/1e3)
		}
		best, v, _, _ := decodeKernels(dev, s, "best", 0)
		if v != "splitkv" || !reflect.DeepEqual(best, split) {
			t.Errorf("%s: best resolved to %s", name, v)
		}
	}
}

// GEMM throughput steps with wave quantisation (B §1.5): with 128×256
// tiles, 132 tiles fill one wave of H100's 132 SMs; 133 need a second.
func TestGEMMWaveQuantisation(t *testing.T) {
	h100 := preset(t, "h100")
	var tile kernels.GPUGEMMTile
	for _, c := range kernels.GPUGEMMTiling(h100.Device(), isa.BF16) {
		if c.TM == 128 && c.TN == 256 && c.ClusterM == 2 && c.ClusterN == 1 {
			tile = c
		}
	}
	if tile.TM == 0 {
		t.Fatal("no 128×256 tiling with a 2×1 cluster")
	}
	// Throughput of the device span: the fixed launch and tail cost (the
	// same for every grid) is left out, so the steps are the waves'.
	tflops := func(tiles int) float64 {
		s := kernels.GPUGEMMShape{M: 128 * tiles, N: 256, K: 8192, Batch: 1, DType: isa.BF16}
		rep := runGPU(t, h100, kernels.GPUGEMMDescribe(h100.Device(), s, tile, 1))
		return rep.FLOPs / (rep.TimeNs - h100.LaunchUs*1e3) / 1e3
	}
	one, two := tflops(132), tflops(133)
	if one < 1.7*two {
		t.Errorf("132 tiles %.0f TFLOP/s, 133 tiles %.0f: want the second wave to nearly halve throughput", one, two)
	}
	if full := tflops(264); full < 0.95*one {
		t.Errorf("264 tiles (two full waves) %.0f TFLOP/s, want about the one-wave %.0f", full, one)
	}
	// The library choice sees the same steps: one more row of tiles past a
	// full wave costs throughput even when it may pick another tiling.
	best := func(m int) float64 {
		ks, _, err := gemmKernels(t, h100, kernels.GPUGEMMShape{M: m, N: 4096, K: 4096, Batch: 1, DType: isa.BF16})
		if err != nil {
			t.Fatal(err)
		}
		return runGPU(t, h100, ks).TFLOPS()
	}
	// 4096/256 = 16 tile columns; 33 rows of 128 = 528 tiles = 4 waves;
	// 34 rows = 544 tiles = 4.1 waves.
	if a, b := best(33*128), best(33*128+128); b > 0.97*a {
		t.Errorf("M=%d %.0f TFLOP/s, M=%d %.0f: want a step down", 33*128, a, 34*128, b)
	}
}

// Calibrated ranges from B §1.5 and the measured 8192³ bf16 GEMM (~798
// TFLOP/s on H100): big GEMMs run at 75–90% of peak; fp32 runs on CUDA
// cores; a skinny GEMM is bound by HBM.
func TestGEMMRegimes(t *testing.T) {
	h100, a100 := preset(t, "h100"), preset(t, "a100")
	cases := []struct {
		dev       gpu.Config
		s         kernels.GPUGEMMShape
		lo, hi    float64 // % of peak
		wantBound string
	}{
		{h100, kernels.GPUGEMMShape{M: 8192, N: 8192, K: 8192, Batch: 1, DType: isa.BF16}, 75, 90, ""},
		{a100, kernels.GPUGEMMShape{M: 8192, N: 8192, K: 8192, Batch: 1, DType: isa.FP16}, 85, 99, "tensor_pipe"},
		{h100, kernels.GPUGEMMShape{M: 8192, N: 8192, K: 8192, Batch: 1, DType: isa.FP8E4M3}, 60, 90, ""},
		{h100, kernels.GPUGEMMShape{M: 4096, N: 4096, K: 4096, Batch: 1, DType: isa.FP32}, 50, 100, ""},
		{a100, kernels.GPUGEMMShape{M: 16, N: 12288, K: 12288, Batch: 1, DType: isa.FP16}, 0, 10, "hbm"},
	}
	for _, c := range cases {
		ks, ch, err := gemmKernels(t, c.dev, c.s)
		if err != nil {
			t.Fatal(err)
		}
		rep := runGPU(t, c.dev, ks)
		p := rep.PctPeak()
		if p < c.lo || p > c.hi || (c.wantBound != "" && rep.Bound != c.wantBound) {
			t.Errorf("%s %+v: %.1f%% of peak, bound %s (%s); want %v–%v%% %s", c.dev.Name, c.s, p, rep.Bound, ch, c.lo, c.hi, c.wantBound)
		}
	}
	if _, _, err := gemmKernels(t, a100, kernels.GPUGEMMShape{M: 256, N: 256, K: 256, Batch: 1, DType: isa.FP8E4M3}); err == nil {
		t.Error("fp8 GEMM on A100: want an error")
	}
}

// Every kernel of the registry has a GPU description on every preset (the
// composite layer and NeuronCore-only variants are errors naming why).
func TestGPUKernelsForEveryKernel(t *testing.T) {
	for _, dev := range gpu.Presets() {
		cfg := preset(t, dev)
		for _, k := range kernels.Builtin().Kernels() {
			p, err := kernels.Builtin().Parse(k.Name)
			if err != nil {
				t.Fatalf("%s defaults: %v", k.Name, err)
			}
			ks, err := gpuKernels(cfg, p)
			switch {
			case k.Parts != nil:
				if err == nil || !strings.Contains(err.Error(), "composite") {
					t.Errorf("%s on %s: err = %v, want composite", k.Name, dev, err)
				}
				continue
			case err != nil:
				t.Errorf("%s on %s: %v", k.Name, dev, err)
				continue
			}
			rep := runGPU(t, cfg, ks)
			if rep.TimeNs <= 0 || rep.FLOPs != p.Kernel.FLOPs(p) {
				t.Errorf("%s on %s: time %v ns, FLOPs %v want %v", k.Name, dev, rep.TimeNs, rep.FLOPs, p.Kernel.FLOPs(p))
			}
		}
	}
}

func TestGPUKernelErrors(t *testing.T) {
	h100, a100, b200 := preset(t, "h100"), preset(t, "a100"), preset(t, "b200")
	ks := kernels.Builtin()
	tests := []struct {
		dev     gpu.Config
		spec    string
		wantErr string
	}{
		{h100, "matmul:variant=tiled", "variant=best"},
		{h100, "matmul:variant=fully_optimized", "variant=best"},
		{a100, "attention:variant=fa3", "does not run on a100"},
		{b200, "attention:variant=fa2", "does not run on b200"},
		{h100, "attention:variant=tiled", "does not run"},
		{a100, "attention:dtype=fp8", "fp8"},
		{h100, "attention:dtype=fp8,variant=fa2", "fp8"},
		{h100, "decode_attention:variant=nosplit,splits=4", "nosplit"},
		{h100, "decode_attention:seqlen=256,splits=64", "exceeds"},
	}
	for _, tc := range tests {
		p, err := ks.Parse(tc.spec)
		if err != nil {
			t.Errorf("%s: %v (the spec must parse for the GPU error to be tested)", tc.spec, err)
			continue
		}
		if _, err := gpuKernels(tc.dev, p); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s on %s: err = %v, want one containing %q", tc.spec, tc.dev.Name, err, tc.wantErr)
		}
	}
	// fp32 attention is no workload (the kernel's dtypes exclude it), but
	// the GPU description refuses it on its own too.
	s := kernels.GPUAttnShape{Batch: 1, Heads: 8, Seqlen: 512, Headdim: 128, DType: isa.FP32}
	if _, _, err := kernels.GPUAttentionKernels(h100.Device(), s, "best"); err == nil || !strings.Contains(err.Error(), "dtype fp32") {
		t.Errorf("fp32 attention on h100: err = %v, want one containing %q", err, "dtype fp32")
	}
}

func TestGPUPlanResolvesVariants(t *testing.T) {
	ks := kernels.Builtin()
	for _, tc := range []struct{ dev, spec, want string }{
		{"h100", "attention", "fa3"},
		{"h200", "attention:dtype=fp8e4m3", "fa3"},
		{"a100", "attention", "fa2"},
		{"b200", "attention", "fa3"},
		{"h100", "matmul", "best"},
		{"h100", "decode_attention:batch=1,seqlen=32768", "splitkv"},
	} {
		p, err := ks.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := GPU(preset(t, tc.dev), p)
		if err != nil || plan.Variant != tc.want {
			t.Errorf("%s on %s: variant %q, err %v; want %q", tc.spec, tc.dev, plan.Variant, err, tc.want)
		}
	}
}

// Memory-bound kernels run near the achievable HBM bandwidth once they
// are big enough to fill the GPU.
func TestMemoryBoundKernels(t *testing.T) {
	h100 := preset(t, "h100")
	for _, spec := range []string{
		"rmsnorm:tokens=16384,hidden=8192", "layernorm:tokens=16384,hidden=8192",
		"softmax:rows=16384,cols=8192", "silu_mul:tokens=16384,hidden=8192",
		"gelu:tokens=16384,hidden=8192", "add:tokens=16384,hidden=8192",
		"rope:tokens=16384,heads=32,headdim=128",
	} {
		g := gpuKernelsOf(t, h100, spec)
		rep := runGPU(t, h100, g)
		bw, _ := rep.Metric("hbm_bandwidth_gbps")
		if bw < 0.7*h100.HBMGBps || bw > h100.HBMGBps*h100.HBMEfficiency*1.0001 || rep.Bound != "hbm" {
			t.Errorf("%s: %.0f GB/s, bound %s; want 70–90%% of %v GB/s, hbm", spec, bw, rep.Bound, h100.HBMGBps)
		}
	}
}

// The simulator is fast: the largest workloads time in milliseconds.
func TestGPUModelIsFast(t *testing.T) {
	h100 := preset(t, "h100")
	for _, spec := range []string{
		"matmul:M=16384,N=16384,K=16384",
		"attention:batch=1,heads=32,seqlen=16384,headdim=128,causal=true",
		"decode_attention:batch=1,heads=32,kv_heads=8,seqlen=131072,headdim=128",
	} {
		g := gpuKernelsOf(t, h100, spec)
		a, b := runGPU(t, h100, g), runGPU(t, h100, g)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs differ", spec)
		}
	}
}

func BenchmarkGPUPlanGEMM16k(b *testing.B) {
	h100 := preset(b, "h100")
	p, err := kernels.Builtin().Parse("matmul:M=16384,N=16384,K=16384")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := gpuKernels(h100, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGPURunCausalAttention16k(b *testing.B) {
	h100 := preset(b, "h100")
	ks := gpuKernelsOf(b, h100, "attention:batch=1,heads=32,seqlen=16384,headdim=128,causal=true")
	for b.Loop() {
		if _, err := gpu.Run(h100, ks); err != nil {
			b.Fatal(err)
		}
	}
}

// Odd and extreme shapes give a time or an error, never a panic, on every
// GPU preset.
func TestGPUPlanEdgeShapes(t *testing.T) {
	specs := []string{
		"matmul:M=1,N=1,K=1", "matmul:M=1,N=100000,K=7", "matmul:M=100000,N=100000,K=100000",
		"matmul:M=3000000,N=3000000,K=3000000", "matmul:M=17,N=33,K=65,batch=1000,dtype=fp32",
		"attention:batch=1,heads=1,seqlen=1,headdim=8", "attention:batch=1,heads=1,seqlen=1,headdim=8,causal=true",
		"attention:batch=64,heads=64,seqlen=32768,headdim=128,causal=true",
		"attention:batch=1,heads=48,kv_heads=6,seqlen=1000,headdim=72,causal=true",
		"attention:headdim=512", "attention:headdim=100",
		"decode_attention:batch=1,heads=1,kv_heads=1,seqlen=1,headdim=64",
		"decode_attention:batch=4096,heads=128,kv_heads=1,seqlen=1000000,headdim=256",
		"decode_attention:batch=1,heads=8,kv_heads=8,seqlen=3,headdim=32,variant=nosplit",
		"rmsnorm:tokens=1,hidden=1", "softmax:rows=1,cols=1000000", "rope:tokens=1,heads=1,headdim=2",
		"add:tokens=100000,hidden=100000",
	}
	ks := kernels.Builtin()
	for _, name := range gpu.Presets() {
		dev := preset(t, name)
		for _, spec := range specs {
			p, err := ks.Parse(spec)
			if err != nil {
				continue // rejected before it reaches the GPU model
			}
			g, err := gpuKernels(dev, p)
			if err != nil {
				continue
			}
			rep, err := gpu.Run(dev, g)
			if err != nil {
				t.Errorf("%s on %s: planned but did not run: %v", spec, name, err)
				continue
			}
			if !(rep.TimeNs > 0) || rep.TimeNs > 1e15 {
				t.Errorf("%s on %s: time %v ns", spec, name, rep.TimeNs)
			}
		}
	}
}

// gpuKernels returns the kernels of the plan GPU chooses for p on dev.
func gpuKernels(dev gpu.Config, p kernels.Params) ([]gpu.Kernel, error) {
	c, err := GPU(dev, p)
	return c.Kernels, err
}

// gemmKernels returns the kernels of the GEMM tiling chosen for s on dev
// and the choice's description.
func gemmKernels(t testing.TB, dev gpu.Config, s kernels.GPUGEMMShape) ([]gpu.Kernel, string, error) {
	t.Helper()
	plans, err := kernels.GPUGEMMPlans(dev.Device(), s)
	if err != nil {
		return nil, "", err
	}
	i, _, err := Fastest(dev, plans)
	if err != nil {
		return nil, "", err
	}
	return plans[i].Kernels, plans[i].Detail, nil
}

// decodeKernels returns the kernels of the decode plan chosen for s, the
// variant and the number of splits.
func decodeKernels(dev gpu.Config, s kernels.GPUDecodeShape, variant string, splits int) ([]gpu.Kernel, string, int, error) {
	plans, err := kernels.GPUDecodePlans(dev.Device(), s, variant, splits)
	if err != nil {
		return nil, "", 0, err
	}
	i, _, err := Fastest(dev, plans)
	if err != nil {
		return nil, "", 0, err
	}
	n := 1
	if _, err := fmt.Sscanf(plans[i].Detail, plans[i].Variant+" splits %d", &n); err != nil {
		return nil, "", 0, err
	}
	return plans[i].Kernels, plans[i].Variant, n, nil
}

// A user's kernel without a GPU description is ErrUnsupported on every
// GPU, never a panic; one with several candidates gets the fastest.
func TestGPUChoice(t *testing.T) {
	reg := kernels.Builtin()
	noGPU := &kernels.Kernel{
		Name: "neuron_only", Doc: "a NeuronCore-only kernel",
		FLOPs:     func(kernels.Params) float64 { return 0 },
		Instrs:    func(kernels.Params) float64 { return 1 },
		Neuron:    func(*isa.Builder, kernels.Params) error { return nil },
		Reference: func(kernels.Params, map[string][]float32) map[string][]float64 { return nil },
		Tolerance: func(kernels.Params) kernels.Tolerance { return kernels.Tolerance{} },
	}
	if err := reg.Register(noGPU); err != nil {
		t.Fatal(err)
	}
	p, err := reg.Parse("neuron_only")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range gpu.Presets() {
		if _, err := GPU(preset(t, name), p); !errors.Is(err, kernels.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	h100 := preset(t, "h100")
	mm, err := reg.Parse("matmul:M=4096,N=4096,K=4096")
	if err != nil {
		t.Fatal(err)
	}
	c, err := GPU(h100, mm)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := kernels.GPUPlans(h100.Device(), mm)
	if err != nil {
		t.Fatal(err)
	}
	if c.Candidates != len(plans) || c.Candidates < 10 {
		t.Fatalf("%d candidates, GPUPlans has %d", c.Candidates, len(plans))
	}
	for _, pl := range plans {
		ns, err := gpu.Time(h100, pl.Kernels)
		if err == nil && ns < c.TimeNs {
			t.Errorf("%s takes %.0f ns, faster than the choice %s (%.0f ns)", pl.Detail, ns, c.Detail, c.TimeNs)
		}
	}
	att, err := reg.Parse("attention:seqlen=1024")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := GPU(h100, att); err != nil || c.Candidates != 1 || !math.IsNaN(c.TimeNs) {
		t.Errorf("attention: %+v, %v; want one untimed candidate", c, err)
	}
}
