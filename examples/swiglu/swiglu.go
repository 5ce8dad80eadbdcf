// Package swiglu is a worked example of a kernel written outside package
// kernels: a fused SwiGLU MLP block, out = (silu(x·Wg) ⊙ (x·Wu))·Wd, with
// its NeuronCore program, its GPU description and its float64 reference,
// registered through the public API (kernels.Registry.Register). README
// "Writing a kernel" walks through it.
//
// Shapes: x is [tokens, hidden] (given transposed, XT [hidden, tokens], as
// NKI matmuls take their stationary operand), Wg and Wu are
// [hidden, intermediate], Wd is [intermediate, hidden], out is
// [tokens, hidden]. The intermediate activation h = silu(x·Wg) ⊙ (x·Wu) is
// kept in the I/O dtype, as a framework's bf16 MLP keeps it.
package swiglu

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// Kernel returns the swiglu_mlp kernel. Register it with
// kernels.Registry.Register.
func Kernel() *kernels.Kernel {
	return &kernels.Kernel{
		Name: "swiglu_mlp",
		Doc:  "fused SwiGLU MLP block: out = (silu(x·Wg) ⊙ (x·Wu))·Wd (examples/swiglu)",
		Params: []kernels.Param{
			{Name: "tokens", Kind: kernels.IntParam, Default: "512", Max: 1 << 20, Doc: "rows of x"},
			{Name: "hidden", Kind: kernels.IntParam, Default: "2048", Max: 1 << 16, Doc: "model dimension"},
			{Name: "intermediate", Kind: kernels.IntParam, Default: "5632", Max: 1 << 17, Doc: "MLP dimension"},
			{Name: "dtype", Kind: kernels.DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp16"}, Doc: "x, weights, h and out"},
		},
		// Matmul FLOPs only (docs/hardware.md B §1.5): the fused gate and up
		// projections, 2·T·2I·H, and the down projection, 2·T·H·I.
		FLOPs: func(p kernels.Params) float64 {
			return 6 * float64(p.Int("tokens")) * float64(p.Int("hidden")) * float64(p.Int("intermediate"))
		},
		Instrs:    instrs,
		Neuron:    neuron,
		GPU:       gpuPlans,
		Reference: reference,
		Tolerance: tolerance,
	}
}

// Register adds the kernel to reg.
func Register(reg *kernels.Registry) error { return reg.Register(Kernel()) }

// tile sizes of the NeuronCore program: every generation's matmul takes
// K ≤ 128 contraction rows, M ≤ 128 stationary columns and N ≤ 512 moving
// columns (docs/hardware.md A §2.2 nc_matmul).
const (
	tk = 128 // contraction rows per matmul
	tm = 128 // tokens per tile (the down projection's stationary columns)
	tn = 512 // hidden columns per down-projection matmul
)

func ceil(a, b int) int { return (a + b - 1) / b }

// instrs counts the program's loops: per token tile, two matmuls and two
// weight loads per (intermediate, hidden) 128-block, two instructions per
// intermediate block for h, and a matmul and a load per (intermediate
// block, 512 hidden columns) of the down projection, plus the stores.
func instrs(p kernels.Params) float64 {
	nh, ni, nd := ceil(p.Int("hidden"), tk), ceil(p.Int("intermediate"), tk), ceil(p.Int("hidden"), tn)
	per := 4*ni*nh + 2*ni + 2*ni*nd + 2*nd + nh
	return float64(ceil(p.Int("tokens"), tm) * per)
}

// neuron emits the program: for each tile of up to 128 tokens, load its
// x columns; for each 128-row block of the intermediate dimension compute
// gᵀ and uᵀ (intermediate on partitions, tokens along the free dimension)
// in PSUM by accumulating over hidden, and write hᵀ = silu(gᵀ) ⊙ uᵀ to SBUF
// in the I/O dtype; then the down projection contracts over the
// intermediate dimension, which hᵀ already has on partitions, so h never
// needs a transpose.
func neuron(b *isa.Builder, p kernels.Params) error {
	T, H, I, dt := p.Int("tokens"), p.Int("hidden"), p.Int("intermediate"), p.DType("dtype")
	xt := b.Input("XT", dt, H, T)
	wg := b.Input("WG", dt, H, I)
	wu := b.Input("WU", dt, H, I)
	wd := b.Input("WD", dt, I, H)
	out := b.Output("OUT", dt, T, H)
	nh, ni := ceil(H, tk), ceil(I, tk)
	e := dt.Size()
	// SBUF per partition: the x tile's hidden blocks and the h blocks of
	// one token tile, twice (the next tile's loads overlap this one's
	// work), plus rotating weight and output tiles.
	if need := 2*nh*tm*e + 2*ni*tm*e + 8*tm*e + 4*tn*e + 2*tn*e; need > b.Arch().SBUFPartitionBytes {
		return fmt.Errorf("swiglu_mlp %s: needs %d bytes of SBUF per partition, %s has %d; fewer tokens per call or a blocked variant",
			p, need, b.Arch().Name, b.Arch().SBUFPartitionBytes)
	}
	xs := b.SBUFPool("x", 2*nh, tm*e)
	hs := b.SBUFPool("h", 2*ni, tm*e)
	ws := b.SBUFPool("w", 8, tm*e)
	wds := b.SBUFPool("wd", 4, tn*e)
	os := b.SBUFPool("out", 2, tn*e)
	sg := b.SBUFPool("silu", 2, tm*e)
	acc := b.PSUMPool("gu", 4, tm*4)
	dacc := b.PSUMPool("down", 2, tn*4)
	// One iteration per token tile, a fast-forwardable Builder.Loop: a
	// tile's instructions depend only on how many tokens it has (its key),
	// and its HBM offsets on its index, so a timing-only run skips the
	// tiles of a steady state instead of building and timing each one.
	tokens := func(i int) int { return min(tm, T-i*tm) }
	b.Loop(ceil(T, tm), func(i int) uint64 { return isa.LoopKey(tokens(i)) }, func(i int) {
		t0, tt := i*tm, tokens(i)
		x := make([]isa.AP, nh)
		for hb := range nh {
			rows := min(tk, H-hb*tk)
			x[hb] = xs.Tile(dt, rows, tt)
			b.Load(x[hb], xt.Tile(hb*tk, t0, rows, tt))
		}
		h := make([]isa.AP, ni)
		for ib := range ni {
			ir := min(tk, I-ib*tk)
			g, u := acc.Tile(isa.FP32, ir, tt), acc.Tile(isa.FP32, ir, tt)
			for hb := range nh {
				rows := min(tk, H-hb*tk)
				wgt, wut := ws.Tile(dt, rows, ir), ws.Tile(dt, rows, ir)
				b.Load(wgt, wg.Tile(hb*tk, ib*tk, rows, ir))
				b.Load(wut, wu.Tile(hb*tk, ib*tk, rows, ir))
				b.Matmul(g, wgt, x[hb], hb > 0)
				b.Matmul(u, wut, x[hb], hb > 0)
			}
			// silu on ScalarE from PSUM, the product on VectorE: h is
			// rounded to the dtype twice, as the reference models.
			s := sg.Tile(dt, ir, tt)
			b.Activation(s, g, isa.ActSilu)
			h[ib] = hs.Tile(dt, ir, tt)
			b.TensorTensor(h[ib], s, u, isa.ALUMul)
		}
		for h0 := 0; h0 < H; h0 += tn {
			w := min(tn, H-h0)
			d := dacc.Tile(isa.FP32, tt, w)
			for ib := range ni {
				ir := min(tk, I-ib*tk)
				wdt := wds.Tile(dt, ir, w)
				b.Load(wdt, wd.Tile(ib*tk, h0, ir, w))
				b.Matmul(d, h[ib], wdt, ib > 0)
			}
			o := os.Tile(dt, tt, w)
			b.TensorCopy(isa.Vector, o, d)
			b.Store(out.Tile(t0, h0, tt, w), o)
		}
	})
	return nil
}

// gpuPlans describes the block as a GPU library runs it: one GEMM of x
// with the concatenated [Wg | Wu] whose epilogue applies silu and the
// product (storing h, half the GEMM's columns), then the down-projection
// GEMM. The candidates are the library's tilings that both GEMMs can use
// without split-K (the fused epilogue needs whole sums); package tune
// times them and keeps the fastest.
func gpuPlans(dev plan.Device, p kernels.Params) ([]kernels.GPUPlan, error) {
	T, H, I, dt := p.Int("tokens"), p.Int("hidden"), p.Int("intermediate"), p.DType("dtype")
	up := kernels.GPUGEMMShape{M: T, N: 2 * I, K: H, Batch: 1, DType: dt}
	down := kernels.GPUGEMMShape{M: T, N: H, K: I, Batch: 1, DType: dt}
	var plans []kernels.GPUPlan
	for _, t := range kernels.GPUGEMMTiling(dev, dt) {
		if t.ClusterM > ceil(T, t.TM) || t.ClusterN > ceil(min(H, 2*I), t.TN) {
			continue
		}
		g := kernels.GPUGEMMDescribe(dev, up, t, 1)[0]
		g.Name = "gemm_swiglu"
		// Per output tile: tm × tn/2 h values, each an exp and a
		// reciprocal on MUFU (silu) and about four FP32 ops; h is half the
		// columns, so half the stores.
		hv := float64(t.TM) * float64(t.TN) / 2
		g.Epilogue.MUFUOps += 2 * hv
		g.Epilogue.FP32Ops += 4 * hv
		g.Epilogue.StoreBytes /= 2
		d := kernels.GPUGEMMDescribe(dev, down, t, 1)
		plans = append(plans, kernels.GPUPlan{
			Kernels: append([]plan.Kernel{g}, d...),
			Variant: "fused",
			Detail:  "tile " + t.String(),
		})
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("swiglu_mlp: no GEMM tiling for %s on %s", dt, dev.Name)
	}
	return plans, nil
}

// reference computes out in float64 from the inputs, rounding h to the
// dtype where the program stores it: silu(g) once, the product once.
func reference(p kernels.Params, in map[string][]float32) map[string][]float64 {
	T, H, I, dt := p.Int("tokens"), p.Int("hidden"), p.Int("intermediate"), p.DType("dtype")
	xt, wg, wu, wd := in["XT"], in["WG"], in["WU"], in["WD"]
	out := make([]float64, T*H)
	h := make([]float64, I)
	for t := range T {
		for i := range I {
			var g, u float64
			for k := range H {
				x := float64(xt[k*T+t])
				g += x * float64(wg[k*I+i])
				u += x * float64(wu[k*I+i])
			}
			s := dt.Round(float32(g / (1 + math.Exp(-g))))
			h[i] = float64(dt.Round(float32(float64(s) * u)))
		}
		for j := range H {
			var o float64
			for i := range I {
				o += h[i] * float64(wd[i*H+j])
			}
			out[t*H+j] = o
		}
	}
	return map[string][]float64{"OUT": out}
}

// tolerance: out is rounded once into the dtype (u relative). h is the
// reference's h up to the rare element whose fp32-accumulated g or u lands
// on the other side of a rounding boundary: one dtype ulp (2u relative)
// of that h. Bounding every h by one ulp gives |Δout| ≤ 2u·Σ|h_i||wd_i|;
// with the check's uniform [-1, 1) inputs g and u have variance H/9, so
// E|h| ≈ 0.32·H/9, E|wd| = 1/2 and Σ|h||wd| ≈ I·H/56, concentrated within
// a few percent for I ≥ 100. The fp32 accumulations add ≤ (H + I)·2^-24
// of the same sums.
func tolerance(p kernels.Params) kernels.Tolerance {
	u := 1.0 / (1 << 8)
	if p.DType("dtype") == isa.FP16 {
		u = 1.0 / (1 << 11)
	}
	H, I := float64(p.Int("hidden")), float64(p.Int("intermediate"))
	s := I * H / 56
	return kernels.Tolerance{
		Abs: 2*u*s + (H+I)*s/(1<<24),
		Rel: u,
		Why: "out rounded once (u); every h within one ulp: 2u·Σ|h||wd| ≈ 2u·I·H/56; fp32 sums (H+I)·2^-24",
	}
}
