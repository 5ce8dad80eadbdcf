package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

func softmaxKernel() *Kernel {
	return &Kernel{
		Name: "softmax",
		Doc:  "out = softmax(x) along each row",
		Params: []Param{
			{Name: "rows", Kind: IntParam, Default: "4096", Doc: "independent rows"},
			{Name: "cols", Kind: IntParam, Default: "4096", Doc: "softmax length"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: layerDTypes, Doc: "input and output dtype"},
		},
		FLOPs: func(p Params) float64 { return 5 * float64(p.Int("rows")) * float64(p.Int("cols")) }, // max, −max, exp, sum, ÷
		// ≈ 1.3 instructions per [128 × 512] tile (`trnsim asm`).
		Instrs:       func(p Params) float64 { return 1.5 * tiles(p.Int("rows"), 128) * tiles(p.Int("cols"), 512) },
		Neuron:       softmaxNeuron,
		FromMeasured: rowsFromMeasured("rows", "cols"),
		GPU: func(_ plan.Device, p Params) ([]GPUPlan, error) {
			e := p.DType("dtype").Size()
			return memoryBoundPlan(p, GPURowKernel("softmax", p.Int("rows"), p.Int("cols"), e, 0, 4, 1, 1)), nil
		},
		Reference: func(p Params, in map[string][]float32) map[string][]float64 {
			R, C := p.Int("rows"), p.Int("cols")
			x := in["x"]
			out := make([]float64, R*C)
			for r := range R {
				row, o := x[r*C:(r+1)*C], out[r*C:(r+1)*C]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, float64(v))
				}
				s := 0.0
				for j, v := range row {
					o[j] = math.Exp(float64(v) - m)
					s += o[j]
				}
				for j := range o {
					o[j] /= s
				}
			}
			return map[string][]float64{"out": out}
		},
		// exp(x−max) is rounded into the dtype in place (u), the product
		// with 1/sum again (u); the fp32 reciprocal and row sum of cols terms in [0,1] is off
		// by at most cols·2^-24 relative. Outputs are positive and every
		// step relative, so the bound is relative.
		Tolerance: func(p Params) Tolerance {
			u, C := unitRoundoff(p.DType("dtype")), float64(p.Int("cols"))
			return Tolerance{Abs: 1e-7, Rel: 2*u + (C+16)*fp32u,
				Why: "exp rounded to dtype and the quotient rounded (2u); fp32 row sum and exp: (cols+16)·2^-24"}
		},
	}
}

// softmaxNeuron: rows on lanes, each row resident in SBUF. Row max on
// VectorE (tensor_reduce with negate gives −max directly, the bias the
// exponential needs; a 16-bit result keeps the reduce in its N/2 form,
// docs/hardware.md A §3.2, and the max of 16-bit values is exact in 16 bits);
// exp(x − max) on ScalarE with the bias folded into the activation and the
// row sum taken by its add-reduce in the same pass (A §2.2 activation
// reduce); the normalisation on VectorE (one reciprocal per row, then a
// tensor_scalar multiply: a VectorE division costs 8 cycles per element).
// The exponentials overwrite x in place, so a row costs its size once in
// SBUF. The three steps are software-pipelined across row tiles (swPipe),
// so the engines stream different tiles instead of waiting on one.
func softmaxNeuron(b *isa.Builder, p Params) error {
	arch := b.Arch()
	R, C, dt := p.Int("rows"), p.Int("cols"), p.DType("dtype")
	x := b.Input("x", dt, R, C)
	out := b.Output("out", dt, R, C)
	chunks := rowChunks(C)
	nch := len(chunks)
	mdt := dt // dtype of the maxima: exact in the input dtype
	xbufs := 3
	if 3*C*dt.Size() > arch.SBUFPartitionBytes-6*chunks[0].n*dt.Size()-(1<<10) {
		xbufs = 2
	}
	xpool := b.SBUFPool("x", xbufs, C*dt.Size())
	opool := b.SBUFPool("out", 3, chunks[0].n*dt.Size())
	stat := b.SBUFPool("stats", 4, (2*nch+3)*4)
	mpool := b.SBUFPool("max", 4, (nch+1)*mdt.Size())
	if err := b.Err(); err != nil {
		return fmt.Errorf("softmax: cols=%d in %s does not fit one row per lane in SBUF: %w", C, dt, err)
	}
	pipe := newPipe([]int{0, 1, 2, 2}, []int{2, 3, 0, 1})
	xring := newSlotRing(xbufs)
	for r0 := 0; r0 < R; r0 += lanes {
		rows := min(lanes, R-r0)
		xslot := xring.take(pipe)
		xt := xpool.Tile(dt, rows, C)
		st := stat.Tile(isa.FP32, rows, 2*nch+3) // Σexp per chunk, Σexp, 1/Σexp
		mx := mpool.Tile(mdt, rows, nch+1)       // max per chunk, −max
		nmax, sum, rinv := mx.Col(nch), st.Col(nch), st.Col(nch+1)
		if nch == 1 {
			nmax, sum = mx.Col(0), st.Col(0)
		}
		xring.use(xslot, pipe.nextIdx())
		pipe.push(func(stage int) {
			switch stage {
			case 0: // DMA, VectorE: −max
				b.Load(xt, x.Tile(r0, 0, rows, C))
				if nch == 1 {
					b.TensorReduce(nmax, xt, isa.ALUMax, 1, true)
					return
				}
				for i, c := range chunks {
					b.TensorReduce(mx.Col(i), xt.Cols(c.c0, c.n), isa.ALUMax, 1, false)
				}
				b.TensorReduce(nmax, mx.Cols(0, nch), isa.ALUMax, 1, true)
			case 1: // ScalarE: exp(x − max) in place, row sums
				for i, c := range chunks {
					xc := xt.Cols(c.c0, c.n)
					b.ActivationWith(xc, xc, isa.ActExp, isa.ActArgs{Scale: 1, BiasAP: nmax, Reduce: st.Col(i)})
				}
			case 2: // VectorE: 1/Σ
				if nch > 1 {
					b.TensorReduce(sum, st.Cols(0, nch), isa.ALUAdd, 1, false)
				}
				b.TensorScalar(isa.Vector, rinv, sum, isa.ALUPow, isa.Imm(-1), isa.ALUBypass, isa.Imm(0))
			case 3: // VectorE: ·1/Σ, DMA out
				for _, c := range chunks {
					o := opool.Tile(dt, rows, c.n)
					b.TensorScalar(isa.Vector, o, xt.Cols(c.c0, c.n), isa.ALUMul, isa.PerPartition(rinv), isa.ALUBypass, isa.Imm(0))
					b.Store(out.Tile(r0, c.c0, rows, c.n), o)
				}
			}
		})
	}
	pipe.flush()
	return nil
}
