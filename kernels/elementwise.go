package kernels

import (
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// This file holds the elementwise kernels of a decoder layer (silu_mul,
// gelu, add), the flat chunking they stream with, and the FLOP convention
// for non-matmul kernels. Access-pattern helpers every kernel uses are in
// layout.go, rounding bounds in rounding.go.
//
// FLOP convention for elementwise, normalisation, softmax and rope kernels:
// each arithmetic operation of the textbook formula counts once per
// element, a transcendental function (exp, tanh, rsqrt) counts as one.
// Nothing on a NeuronCore or GPU peaks on these FLOPs; they exist so rows
// of every kernel carry a comparable work figure.

// layerDTypes are the dtypes of the non-matmul layer kernels: fp8 is a
// storage format for matmul operands and attention inputs, not for
// normalised activations.
var layerDTypes = []string{"fp32", "bf16", "fp16"}

// flatChunks cuts n contiguous elements into DMA-friendly pieces for an
// elementwise kernel: full [128, f] tiles (partition p holds a contiguous
// run of f elements), then one [r, f] tile, then one [1, t] tail. f is at
// most fmax and no larger than needed to spread n over 128 lanes.
type flatChunk struct {
	off, parts, f int
}

func flatChunks(n, fmax int) []flatChunk {
	f := min(fmax, (n+lanes-1)/lanes)
	var cs []flatChunk
	off := 0
	for ; off+lanes*f <= n; off += lanes * f {
		cs = append(cs, flatChunk{off, lanes, f})
	}
	if r := (n - off) / f; r > 0 {
		cs = append(cs, flatChunk{off, r, f})
		off += r * f
	}
	if t := n - off; t > 0 {
		cs = append(cs, flatChunk{off, 1, t})
	}
	return cs
}

// elemFMax is the free size of one elementwise tile: 2048 elements is
// 4 KiB per partition in bf16, the transfer size at which DMA saturates
// (docs/hardware.md A §3.3 "≥ 4 KiB/partition saturates").
const elemFMax = 2048

func tokensHiddenParams(dtypes []string) []Param {
	return []Param{
		{Name: "tokens", Kind: IntParam, Default: "4096", Doc: "rows (tokens in the batch)"},
		{Name: "hidden", Kind: IntParam, Default: "4096", Doc: "columns (hidden or intermediate size)"},
		{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: dtypes, Doc: "input and output dtype"},
	}
}

func elemFLOPs(perElem float64) func(p Params) float64 {
	return func(p Params) float64 { return perElem * float64(p.Int("tokens")) * float64(p.Int("hidden")) }
}

// tokensHiddenInstrs estimates a [tokens, hidden] kernel's instructions:
// ≈ 0.75–1.3 per [128 × 512] tile (`trnsim asm`), rounded up.
func tokensHiddenInstrs(p Params) float64 {
	return 1.5 * tiles(p.Int("tokens"), 128) * tiles(p.Int("hidden"), 512)
}

// elementwiseGPU is the GPU description of an elementwise kernel over
// [tokens, hidden] with `inputs` input tensors and, per element, fp32
// FP32-pipe ops and mufu special-function ops (GPUElementwise).
func elementwiseGPU(name string, inputs int, fp32, mufu float64) func(plan.Device, Params) ([]GPUPlan, error) {
	return func(_ plan.Device, p Params) ([]GPUPlan, error) {
		n := p.Int("tokens") * p.Int("hidden")
		return memoryBoundPlan(p, GPUElementwise(name, n, p.DType("dtype").Size(), inputs, fp32, mufu)), nil
	}
}

// elementwiseKernel builds a streaming kernel over [tokens, hidden] tensors
// named ins, writing "out". body emits the compute for one tile: srcs are
// the loaded input tiles, dst the output tile; tmp allocates a scratch
// tile of the same shape.
func elementwiseKernel(name string, ins []string, body func(b *isa.Builder, dst isa.AP, srcs []isa.AP, tmp func(isa.DType) isa.AP)) func(b *isa.Builder, p Params) error {
	return func(b *isa.Builder, p Params) error {
		T, H, dt := p.Int("tokens"), p.Int("hidden"), p.DType("dtype")
		var hin []isa.HBMTensor
		for _, n := range ins {
			hin = append(hin, b.Input(n, dt, T, H))
		}
		out := b.Output("out", dt, T, H)
		// Three rotating buffers per stream: the load of tile i+1, the
		// compute of tile i and the store of tile i−1 run at once.
		var pools []*isa.Pool
		for _, n := range ins {
			pools = append(pools, b.SBUFPool(n, 3, elemFMax*dt.Size()))
		}
		opool := b.SBUFPool("out", 3, elemFMax*dt.Size())
		tpool := b.SBUFPool("tmp", 2, elemFMax*4)
		// A tile's instructions depend on its shape alone.
		cs := flatChunks(T*H, elemFMax)
		key := func(i int) uint64 { return isa.LoopKey(cs[i].parts, cs[i].f) }
		b.Loop(len(cs), key, func(i int) {
			c := cs[i]
			var srcs []isa.AP
			for i, t := range hin {
				s := pools[i].Tile(dt, c.parts, c.f)
				b.Load(s, hbmAP(t, c.off, c.parts, c.f, isa.Dim{Stride: 1, Count: isa.Narrow(c.f)}))
				srcs = append(srcs, s)
			}
			d := opool.Tile(dt, c.parts, c.f)
			body(b, d, srcs, func(tdt isa.DType) isa.AP { return tpool.Tile(tdt, c.parts, c.f) })
			b.Store(hbmAP(out, c.off, c.parts, c.f, isa.Dim{Stride: 1, Count: isa.Narrow(c.f)}), d)
		})
		return nil
	}
}

func siluMulKernel() *Kernel {
	return &Kernel{
		Name:         "silu_mul",
		Doc:          "out = x·silu(g), the gated-MLP elementwise step (x the up projection, g the gate)",
		Params:       tokensHiddenParams(layerDTypes),
		FromMeasured: rowsFromMeasured("tokens", "hidden"),
		FLOPs:        elemFLOPs(5), // sigmoid (exp, add, reciprocal), ·g, ·x
		// silu on ScalarE (its activation table), the product on VectorE:
		// the two engines stream in parallel, each about one element per
		// cycle per lane (docs/hardware.md A §3.2 activation, tensor_tensor).
		// silu(g) is kept in the I/O dtype so the product runs on VectorE's
		// all-bf16 fast path (A §3.2 tensor_tensor "all bf16 + mul").
		Instrs: tokensHiddenInstrs,
		// exp and reciprocal on MUFU.
		GPU: elementwiseGPU("silu_mul", 2, 4, 2),
		Neuron: elementwiseKernel("silu_mul", []string{"x", "g"}, func(b *isa.Builder, dst isa.AP, s []isa.AP, tmp func(isa.DType) isa.AP) {
			sg := tmp(dst.DType)
			b.Activation(sg, s[1], isa.ActSilu)
			b.TensorTensor(dst, s[0], sg, isa.ALUMul)
		}),
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			x, g := in["x"], in["g"]
			out := make([]float64, len(x))
			for i := range x {
				gv := float64(g[i])
				out[i] = float64(x[i]) * gv / (1 + math.Exp(-gv))
			}
			return map[string][]float64{"out": out}
		},
		// Two roundings into the dtype (silu(g), then the product) give at
		// most 2u relative error (u the unit roundoff); ScalarE's silu is
		// evaluated in fp32, a few fp32 ulps. Abs covers products that
		// underflow the dtype's smallest normal.
		Tolerance: func(p Params) Tolerance {
			u := unitRoundoff(p.DType("dtype"))
			return Tolerance{Abs: 1e-6, Rel: 2*u + 8*fp32u, Why: "two roundings to dtype (silu(g), product): 2u; fp32 silu: 8 ulp"}
		},
	}
}

func geluKernel() *Kernel {
	return &Kernel{
		Name:         "gelu",
		Doc:          "out = gelu(x), tanh approximation",
		Params:       tokensHiddenParams(layerDTypes),
		FromMeasured: rowsFromMeasured("tokens", "hidden"),
		FLOPs:        elemFLOPs(8), // x³ (2), ·c, +x, ·√(2/π), tanh, +1, ·x/2
		Instrs:       tokensHiddenInstrs,
		GPU:          elementwiseGPU("gelu", 1, 7, 1), // tanh on MUFU
		Neuron: elementwiseKernel("gelu", []string{"x"}, func(b *isa.Builder, dst isa.AP, s []isa.AP, _ func(isa.DType) isa.AP) {
			b.Activation(dst, s[0], isa.ActGelu)
		}),
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			x := in["x"]
			out := make([]float64, len(x))
			for i, v := range x {
				out[i] = geluTanh(float64(v))
			}
			return map[string][]float64{"out": out}
		},
		// One rounding into the dtype (u); the fp32 evaluation of the tanh
		// form loses a few fp32 ulps, more near gelu's zero at x≈0 where
		// the result is small: Abs covers that.
		Tolerance: func(p Params) Tolerance {
			u := unitRoundoff(p.DType("dtype"))
			return Tolerance{Abs: 1e-6, Rel: u + 16*fp32u, Why: "one rounding to dtype (u); fp32 tanh-form evaluation: 16 ulp"}
		},
	}
}

// geluTanh is the tanh approximation of GELU that ScalarE's gelu
// implements: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func geluTanh(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func addKernel() *Kernel {
	return &Kernel{
		Name:         "add",
		Doc:          "out = x + residual, the residual add",
		Params:       tokensHiddenParams(layerDTypes),
		FromMeasured: rowsFromMeasured("tokens", "hidden"),
		FLOPs:        elemFLOPs(1),
		// One VectorE tensor_tensor per tile; the kernel is DMA-bound
		// (three bytes moved per byte computed on).
		Instrs: tokensHiddenInstrs,
		GPU:    elementwiseGPU("add", 2, 1, 0),
		Neuron: elementwiseKernel("add", []string{"x", "residual"}, func(b *isa.Builder, dst isa.AP, s []isa.AP, _ func(isa.DType) isa.AP) {
			b.TensorTensor(dst, s[0], s[1], isa.ALUAdd)
		}),
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			x, r := in["x"], in["residual"]
			out := make([]float64, len(x))
			for i := range x {
				out[i] = float64(x[i]) + float64(r[i])
			}
			return map[string][]float64{"out": out}
		},
		// The sum is exact in fp32 and rounded once into the dtype.
		Tolerance: func(p Params) Tolerance {
			u := unitRoundoff(p.DType("dtype"))
			return Tolerance{Abs: 0, Rel: u, Why: "sum exact in fp32, one rounding to dtype (u)"}
		},
	}
}
