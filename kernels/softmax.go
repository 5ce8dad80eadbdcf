package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
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
		FLOPs:  func(p Params) float64 { return 5 * float64(p.Int("rows")) * float64(p.Int("cols")) }, // max, −max, exp, sum, ÷
		Neuron: softmaxNeuron,
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
		// exp(x−max) is rounded into the dtype in place (u), the division
		// result again (u); the fp32 row sum of cols terms in [0,1] is off
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
// exponential needs); exp(x − max) on ScalarE with the bias folded into the
// activation and the row sum taken by its add-reduce in the same pass
// (HARDWARE.md A §2.2 activation reduce); the division on VectorE
// (tensor_scalar divide by the per-row sum). The exponentials overwrite x
// in place, so a row costs its size once in SBUF.
func softmaxNeuron(arch isa.Arch, p Params) (*isa.Program, error) {
	R, C, dt := p.Int("rows"), p.Int("cols"), p.DType("dtype")
	b := isa.NewBuilder(arch, p.String())
	x := b.Input("x", dt, R, C)
	out := b.Output("out", dt, R, C)
	chunks := rowChunks(C)
	nch := len(chunks)
	xpool := b.SBUFPool("x", 2, C*dt.Size())
	opool := b.SBUFPool("out", 3, chunks[0].n*dt.Size())
	stat := b.SBUFPool("stats", 4, 2*nch*4)
	small := b.SBUFPool("rowstat", 8, 4)
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("softmax: cols=%d in %s does not fit one row per lane in SBUF: %w", C, dt, err)
	}
	for r0 := 0; r0 < R; r0 += lanes {
		rows := min(lanes, R-r0)
		xt := xpool.Tile(dt, rows, C)
		b.Load(xt, x.Tile(r0, 0, rows, C))
		st := stat.Tile(isa.FP32, rows, 2*nch) // [0,nch): −max per chunk, [nch,2nch): Σexp per chunk
		nmax := st.Col(0)
		if nch == 1 {
			b.TensorReduce(nmax, xt, isa.ALUMax, 1, true)
		} else {
			for i, c := range chunks {
				b.TensorReduce(st.Col(i), xt.Cols(c.c0, c.n), isa.ALUMax, 1, false)
			}
			nmax = small.Tile(isa.FP32, rows, 1)
			b.TensorReduce(nmax, st.Cols(0, nch), isa.ALUMax, 1, true)
		}
		for i, c := range chunks {
			xc := xt.Cols(c.c0, c.n)
			b.ActivationWith(xc, xc, isa.ActExp, isa.ActArgs{Scale: 1, BiasAP: nmax, Reduce: st.Col(nch + i)})
		}
		sum := st.Col(nch)
		if nch > 1 {
			sum = small.Tile(isa.FP32, rows, 1)
			b.TensorReduce(sum, st.Cols(nch, nch), isa.ALUAdd, 1, false)
		}
		for _, c := range chunks {
			o := opool.Tile(dt, rows, c.n)
			b.TensorScalar(isa.Vector, o, xt.Cols(c.c0, c.n), isa.ALUDiv, isa.PerPartition(sum), isa.ALUBypass, isa.Imm(0))
			b.Store(out.Tile(r0, c.c0, rows, c.n), o)
		}
	}
	return b.Program()
}
