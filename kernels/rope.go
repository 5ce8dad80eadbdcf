package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

func ropeKernel() *Kernel {
	return &Kernel{
		Name: "rope",
		Doc:  "rotary position embedding, rotate-half form: out = x·cos + rotate_half(x)·sin per head",
		Params: []Param{
			{Name: "tokens", Kind: IntParam, Default: "4096", Doc: "tokens (rows)"},
			{Name: "heads", Kind: IntParam, Default: "32", Doc: "heads rotated with the same angles"},
			{Name: "headdim", Kind: IntParam, Default: "128", Doc: "head dimension (even)"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: layerDTypes, Doc: "input and output dtype"},
		},
		Check: func(p Params) error {
			if d := p.Int("headdim"); d%2 != 0 {
				return fmt.Errorf("rope: headdim=%d must be even (it rotates pairs of halves)", d)
			}
			return nil
		},
		FLOPs: func(p Params) float64 {
			return 3 * float64(p.Int("tokens")) * float64(p.Int("heads")) * float64(p.Int("headdim")) // two products and a sum per output
		},
		// ≈ 1.3 instructions per [128 tokens × 512 values] tile.
		Instrs: func(p Params) float64 {
			return 1.5 * tiles(p.Int("tokens"), 128) * tiles(p.Int("heads")*p.Int("headdim"), 512)
		},
		Neuron:       ropeNeuron,
		FromMeasured: ropeFromMeasured,
		GPU: func(_ plan.Device, p Params) ([]GPUPlan, error) {
			return memoryBoundPlan(p, gpuRope(p.Int("tokens"), p.Int("heads"), p.Int("headdim"), p.DType("dtype").Size())), nil
		},
		Reference: ropeReference,
		// Each output is rnd(rnd(a·b) ± rnd(c·d)): the two products are
		// rounded into the dtype (u·|a·b| + u·|c·d| ≤ 2u for inputs in
		// [-1,1), absolute since the sum may cancel), the result once more
		// (u relative).
		Tolerance: func(p Params) Tolerance {
			u := unitRoundoff(p.DType("dtype"))
			return Tolerance{Abs: 2*u + 4*fp32u, Rel: u, Why: "products rounded to dtype (2u absolute, inputs in [-1,1)); result rounded (u)"}
		},
	}
}

// ropeReference: x [T, heads, d], cos and sin [T, d/2]; for i < d/2,
// out[i] = x[i]·cos[i] − x[i+d/2]·sin[i] and out[i+d/2] = x[i+d/2]·cos[i] +
// x[i]·sin[i] (Llama's rotate_half convention).
func ropeReference(p Params, in map[string][]float32) map[string][]float64 {
	T, Hh, d := p.Int("tokens"), p.Int("heads"), p.Int("headdim")
	x, cs, sn := in["x"], in["cos"], in["sin"]
	h2 := d / 2
	out := make([]float64, T*Hh*d)
	for t := range T {
		for h := range Hh {
			base := (t*Hh + h) * d
			for i := range h2 {
				x1, x2 := float64(x[base+i]), float64(x[base+h2+i])
				c, s := float64(cs[t*h2+i]), float64(sn[t*h2+i])
				out[base+i] = x1*c - x2*s
				out[base+h2+i] = x2*c + x1*s
			}
		}
	}
	return map[string][]float64{"out": out}
}

// ropeNeuron: tokens on lanes, each token's heads·headdim values along the
// free axis; the cos/sin rows of the tile are loaded once and read by every
// head through a stride-0 access pattern (no copies per head). The six
// products and sums are VectorE tensor_tensor ops over all heads at once; products go to fp32 scratch so the result is rounded once.
// Heads are processed in groups that keep one instruction under 4096
// elements per lane.
func ropeNeuron(b *isa.Builder, p Params) error {
	T, Hh, d, dt := p.Int("tokens"), p.Int("heads"), p.Int("headdim"), p.DType("dtype")
	h2 := d / 2
	x := b.Input("x", dt, T, Hh, d)
	cs := b.Input("cos", dt, T, h2)
	sn := b.Input("sin", dt, T, h2)
	out := b.Output("out", dt, T, Hh, d)

	hg := max(1, min(Hh, rowFMax/d)) // heads per instruction group
	sz := dt.Size()
	xpool := b.SBUFPool("x", 3, hg*d*sz)
	opool := b.SBUFPool("out", 3, hg*d*sz)
	cpool := b.SBUFPool("cossin", 4, h2*sz)
	tpool := b.SBUFPool("prod", 4, hg*h2*sz)
	if err := b.Err(); err != nil {
		return fmt.Errorf("rope: headdim=%d does not fit SBUF: %w", d, err)
	}
	// One iteration per 128-token tile: its instructions depend on its
	// rows alone.
	rowsOf := func(i int) int { return min(lanes, T-i*lanes) }
	b.Loop(ceilDiv(T, lanes), func(i int) uint64 { return isa.LoopKey(rowsOf(i)) }, func(i int) {
		r0, rows := i*lanes, rowsOf(i)
		ct := cpool.Tile(dt, rows, h2)
		b.Load(ct, cs.Tile(r0, 0, rows, h2))
		st := cpool.Tile(dt, rows, h2)
		b.Load(st, sn.Tile(r0, 0, rows, h2))
		for h0 := 0; h0 < Hh; h0 += hg {
			nh := min(hg, Hh-h0)
			xt := xpool.Tile(dt, rows, nh*d)
			b.Load(xt, hbmAP(x, r0*Hh*d+h0*d, rows, Hh*d, isa.Dim{Stride: 1, Count: isa.Narrow(nh * d)}))
			ot := opool.Tile(dt, rows, nh*d)
			// [rows, nh, d/2] views of the halves and of cos/sin
			// broadcast over heads.
			half := func(a isa.AP, second bool) isa.AP {
				off := 0
				if second {
					off = h2 * a.DType.Size()
				}
				return view(a, off, isa.Dim{Stride: isa.Narrow(d), Count: isa.Narrow(nh)}, isa.Dim{Stride: 1, Count: isa.Narrow(h2)})
			}
			bc := func(a isa.AP) isa.AP {
				return view(a, 0, isa.Dim{Stride: 0, Count: isa.Narrow(nh)}, isa.Dim{Stride: 1, Count: isa.Narrow(h2)})
			}
			x1, x2 := half(xt, false), half(xt, true)
			c, s := bc(ct), bc(st)
			t1 := tpool.Tile(dt, rows, nh, h2)
			t2 := tpool.Tile(dt, rows, nh, h2)
			b.TensorTensor(t1, x1, c, isa.ALUMul)
			b.TensorTensor(t2, x2, s, isa.ALUMul)
			b.TensorTensor(half(ot, false), t1, t2, isa.ALUSub)
			t3 := tpool.Tile(dt, rows, nh, h2)
			t4 := tpool.Tile(dt, rows, nh, h2)
			b.TensorTensor(t3, x2, c, isa.ALUMul)
			b.TensorTensor(t4, x1, s, isa.ALUMul)
			b.TensorTensor(half(ot, true), t3, t4, isa.ALUAdd)
			b.Store(hbmAP(out, r0*Hh*d+h0*d, rows, Hh*d, isa.Dim{Stride: 1, Count: isa.Narrow(nh * d)}), ot)
		}
	})
	return nil
}

// gpuRope: one CTA per token rotates all heads with that token's cos and
// sin rows (read once, reused across heads from registers).
func gpuRope(tokens, heads, d, e int) plan.Kernel {
	x := float64(heads * d * e)
	cs := float64(d / 2 * e)
	return plan.Kernel{
		Name:    "rope",
		Threads: min(1024, max(32, (heads*d/8+31)/32*32)), RegsPerThread: 32, Stages: 1,
		Prologue: plan.Phase{
			Loads:   []plan.Load{{Bytes: x}, {Bytes: cs}, {Bytes: cs}},
			FP32Ops: float64(heads*d) * 3,
		},
		Epilogue: plan.Phase{StoreBytes: x},
		Grid:     []plan.Group{{Count: tokens}},
	}
}
