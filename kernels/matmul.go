package kernels

import (
	"math"

	"github.com/trnsim/trnsim/isa"
)

func matmulKernel() *Kernel {
	return &Kernel{
		Name: "matmul",
		Doc:  "C[M,N] = A[M,K]·B[K,N], A given transposed in HBM (AT[K,M]) as NKI kernels take it",
		Params: []Param{
			{Name: "M", Kind: IntParam, Default: "4096", Doc: "rows of C"},
			{Name: "N", Kind: IntParam, Default: "4096", Doc: "columns of C"},
			{Name: "K", Kind: IntParam, Default: "4096", Doc: "contraction length"},
			{Name: "batch", Kind: IntParam, Default: "1", Doc: "independent matmuls"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"fp32", "bf16", "fp16", "fp8e4m3", "fp8e5m2"}, Doc: "input dtype"},
			{Name: "variant", Kind: EnumParam, Default: "tiled", Allowed: []string{"tiled"}, Doc: "NKI matmul tutorial step"},
		},
		FLOPs: func(p Params) float64 {
			return 2 * float64(p.Int("batch")) * float64(p.Int("M")) * float64(p.Int("N")) * float64(p.Int("K"))
		},
		Neuron:    matmulNeuron,
		Reference: matmulReference,
		Tolerance: matmulTolerance,
	}
}

// matmulOutDType is the dtype of C: the input dtype, except fp8 inputs
// produce bf16 (fp8 is a storage format for weights and activations, not
// for results).
func matmulOutDType(in isa.DType) isa.DType {
	if in.IsFP8() {
		return isa.BF16
	}
	return in
}

func matmulNeuron(arch isa.Arch, p Params) (*isa.Program, error) {
	M, N, K, batch := p.Int("M"), p.Int("N"), p.Int("K"), p.Int("batch")
	dt := p.DType("dtype")
	b := isa.NewBuilder(arch, p.String())
	at := b.Input("AT", dt, batch, K, M)
	bm := b.Input("B", dt, batch, K, N)
	c := b.Output("C", matmulOutDType(dt), batch, M, N)

	const tk, tm, tn = 128, 128, 512
	lhs := b.SBUFPool("lhsT", 2, tm*dt.Size())
	rhs := b.SBUFPool("rhs", 2, tn*dt.Size())
	out := b.SBUFPool("out", 2, tn*matmulOutDType(dt).Size())
	acc := b.PSUMPool("acc", 2, tn*4)
	for bi := 0; bi < batch; bi++ {
		for m0 := 0; m0 < M; m0 += tm {
			mt := min(tm, M-m0)
			for n0 := 0; n0 < N; n0 += tn {
				nt := min(tn, N-n0)
				ps := acc.Tile(isa.FP32, mt, nt)
				for k0 := 0; k0 < K; k0 += tk {
					kt := min(tk, K-k0)
					a := lhs.Tile(dt, kt, mt)
					b.Load(a, at.Tile(bi*K+k0, m0, kt, mt))
					r := rhs.Tile(dt, kt, nt)
					b.Load(r, bm.Tile(bi*K+k0, n0, kt, nt))
					b.Matmul(ps, a, r, k0 > 0)
				}
				o := out.Tile(matmulOutDType(dt), mt, nt)
				b.TensorCopy(isa.Vector, o, ps)
				b.Store(c.Tile(bi*M+m0, n0, mt, nt), o)
			}
		}
	}
	return b.Program()
}

func matmulReference(p Params, in map[string][]float32) map[string][]float64 {
	M, N, K, batch := p.Int("M"), p.Int("N"), p.Int("K"), p.Int("batch")
	at, bm := in["AT"], in["B"]
	c := make([]float64, batch*M*N)
	for bi := 0; bi < batch; bi++ {
		gemmTN(c[bi*M*N:(bi+1)*M*N], at[bi*K*M:(bi+1)*K*M], bm[bi*K*N:(bi+1)*K*N], M, N, K)
	}
	return map[string][]float64{"C": c}
}

// matmulTolerance: products of inputs are exact in the fp32 PSUM
// accumulator up to fp32 rounding, which grows with √K for random-signed
// terms; the result is then rounded once to C's dtype (half an ulp:
// 2^-8 relative for bf16, 2^-11 for fp16, 2^-24 for fp32). Inputs are
// rounded before the float64 reference sees them, so input rounding is not
// error. The absolute term covers cancellation: with inputs in [-1, 1) the
// sum's magnitude is O(√K), so elements near zero get an absolute bound of
// output-ulp·√K.
func matmulTolerance(p Params) Tolerance {
	K := float64(p.Int("K"))
	var rel float64
	why := ""
	switch matmulOutDType(p.DType("dtype")) {
	case isa.FP32:
		rel, why = 1.0/(1<<24), "fp32 output: PSUM fp32 accumulation error ~ K·2^-24"
		rel *= K
	case isa.BF16:
		rel, why = 1.0/(1<<8), "bf16 output: one rounding to bf16 (2^-8 relative) after fp32 accumulation"
	case isa.FP16:
		rel, why = 1.0/(1<<11), "fp16 output: one rounding to fp16 (2^-11 relative) after fp32 accumulation"
	}
	rel += K / (1 << 24)
	return Tolerance{Abs: rel * math.Sqrt(K), Rel: rel, Why: why}
}
