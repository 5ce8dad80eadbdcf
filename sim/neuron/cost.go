package neuron

import (
	"math"

	"github.com/trnsim/trnsim/isa"
)

// The published Vector/Scalar/GpSimd cost rules (docs/hardware.md A §3.2) count
// engine cycles from N, the free elements per partition of the
// instruction's largest operand; partitions (≤ 128) cost nothing.

func is16(d isa.DType) bool { return d == isa.BF16 || d == isa.FP16 }

// innerContiguous reports whether the innermost free dimension is unit
// stride.
func innerContiguous(a *isa.AP) bool {
	if a.NFree == 0 {
		return true
	}
	d := a.Free[a.NFree-1]
	return d.Count <= 1 || d.Stride == 1
}

// wideStride reports whether the innermost stride of a used SBUF/PSUM
// operand exceeds limit bytes (A §1.3: halves the access bandwidth).
func wideStride(a *isa.AP, limit int) bool {
	if !used(a) || a.Mem == isa.HBM || a.NFree == 0 {
		return false
	}
	d := a.Free[a.NFree-1]
	s := int(d.Stride)
	if s < 0 {
		s = -s
	}
	return d.Count > 1 && s*a.DType.Size() > limit
}

// actTable returns the ScalarE activation-table set of f (A §3.2:
// t0 = {copy, square, rsqrt}, t1 sigmoid, t2 silu, t3 exp, t4 softplus).
// Functions the published list leaves out are given a set of their own,
// except relu, a piecewise-linear function assumed to sit with copy.
func actTable(f isa.ActFunc) int {
	switch f {
	case isa.ActCopy, isa.ActSquare, isa.ActRsqrt, isa.ActRelu:
		return 0
	case isa.ActSigmoid:
		return 1
	case isa.ActSilu:
		return 2
	case isa.ActExp:
		return 3
	case isa.ActTanh:
		return 5
	case isa.ActGelu:
		return 6
	case isa.ActReciprocal:
		return 7
	}
	return 8 + int(f)
}

// engineCycles returns the initiation interval, in cycles of its engine,
// of a Vector, Scalar or GpSimd instruction: the cost rule of its opcode
// family applied to N, then the narrow-stride penalty (see stridePenalty).
func (c *Config) engineCycles(in *isa.Instr) float64 {
	return c.engineCyclesWide(in, c.anyWide(in))
}

// engineCyclesWide is engineCycles for an instruction whose sources or
// destination have (wide) or have not an innermost stride wider than
// NarrowStrideBytes, as anyWide tells; a replay knows it from the memo.
func (c *Config) engineCyclesWide(in *isa.Instr, wide bool) float64 {
	// The larger count is taken before converting: the same value as the
	// larger of the converted counts (conversion is monotonic), without
	// the NaN and signed-zero cases of a float max.
	ne := freeElems(&in.Dst)
	if used(&in.Src[0]) {
		ne = max(ne, freeElems(&in.Src[0]))
	}
	n := float64(ne)
	var cyc float64
	switch in.Op {
	case isa.OpActivation:
		cyc = c.activationCycles(in, n)
	case isa.OpTensorTensor:
		cyc = c.tensorTensorCycles(in, n)
	case isa.OpTensorScalar, isa.OpTensorCopy:
		cyc = c.tensorScalarCycles(in, n)
	case isa.OpTensorReduce:
		cyc = c.tensorReduceCycles(in, n)
	case isa.OpMemset:
		cyc = c.memsetCycles(in, n)
	case isa.OpBNStats:
		// A §3.2 bn_stats max(MIN_II, N): one VectorE pass over the
		// [P, N ≤ 512] input, like tensor_scalar (A §3.2 generic rule,
		// one input tile ≈ N cycles).
		cyc = max(float64(c.MinIICycles), float64(freeElems(&in.Src[0])))
	case isa.OpBNAggr:
		// A §3.2 bn_aggr max(MIN_II, 13·(N/3)): 13 cycles per
		// (count, mean, count·var) triple of the input.
		cyc = max(float64(c.MinIICycles), 13*float64(freeElems(&in.Src[0])/3))
	case isa.OpIota, isa.OpAffineSelect:
		// A §3.2 iota 150 + N; affine_select GPSIMD_START + N. Neither
		// pays the narrow-stride penalty.
		return float64(c.GpSimdStartCycles) + n
	default:
		cyc = max(float64(c.MinIICycles), n)
	}
	return stridePenalty(cyc, wide)
}

// vectorPerfMode reports whether in runs on a VectorE with a bf16/fp16
// perf mode (A §3.2 NC-v3: more 16-bit lanes than partitions).
func (c *Config) vectorPerfMode(in *isa.Instr) bool {
	return in.Engine == isa.Vector && c.VectorWidth16 > c.Lanes
}

// activationCycles is the ScalarE activation rule, in cycles, for N free
// elements n.
func (c *Config) activationCycles(in *isa.Instr, n float64) float64 {
	minII := float64(c.MinIICycles)
	// A §3.2 activation max(MIN_II, N); activation_reduce adds MIN_II.
	cyc := max(minII, n)
	if used(&in.Red) {
		cyc += minII
	}
	return cyc
}

// tensorTensorCycles is the tensor_tensor rule, in cycles, for N free
// elements n: 1 or 2 cycles per element by operand memories, dtypes, ALU
// operation and layout, halved in VectorE perf mode, 8 per element for a
// VectorE division.
func (c *Config) tensorTensorCycles(in *isa.Instr, n float64) float64 {
	a, b, dst := &in.Src[0], &in.Src[1], &in.Dst
	onePSUM := (a.Mem == isa.PSUM) != (b.Mem == isa.PSUM)
	all16 := is16(a.DType) && is16(b.DType) && is16(dst.DType)
	allBF16 := a.DType == isa.BF16 && b.DType == isa.BF16 && dst.DType == isa.BF16
	simpleOp := in.ALU[0] == isa.ALUAdd || in.ALU[0] == isa.ALUSub || in.ALU[0] == isa.ALUMul
	contig := innerContiguous(a) && innerContiguous(b) && innerContiguous(dst)
	// A §3.2 tensor_tensor: N if one input in PSUM and the other in
	// SBUF, or all bf16 + add/mul/sub + contiguous; else 2N.
	cyc := 2 * n
	if onePSUM || (allBF16 && simpleOp && contig) {
		cyc = n
	}
	// A §3.2 NC-v3 perf mode: tensor_tensor 2× when both inputs are in
	// SBUF and all bf16/fp16.
	if c.vectorPerfMode(in) && a.Mem == isa.SBUF && b.Mem == isa.SBUF && all16 {
		cyc /= 2
	}
	if in.Engine == isa.Vector && in.ALU[0] == isa.ALUDiv {
		// A §3.2 Vector reciprocal max(MIN_II, 8N); division is
		// assumed to go through the same reciprocal datapath.
		cyc = 8 * n
	}
	return max(float64(c.MinIICycles), cyc)
}

// tensorScalarCycles is the tensor_scalar / tensor_copy rule, in cycles,
// for N free elements n: one cycle per element, 8 for a VectorE
// division, divided by the VectorE or ScalarE bf16/fp16 perf-mode factor.
func (c *Config) tensorScalarCycles(in *isa.Instr, n float64) float64 {
	src, dst := &in.Src[0], &in.Dst
	// A §3.2 tensor_scalar / tensor_copy max(MIN_II, N).
	cyc := n
	both16 := is16(src.DType) && is16(dst.DType)
	switch {
	case in.Engine == isa.Vector && in.Op == isa.OpTensorScalar && (in.ALU[0] == isa.ALUDiv || in.ALU[1] == isa.ALUDiv):
		cyc = 8 * n // A §3.2 Vector reciprocal 8N (division assumed alike)
	case c.vectorPerfMode(in) && both16:
		// A §3.2 NC-v3 Vector perf mode: 4× with in/out in SBUF and a
		// contiguous innermost dimension, 2× otherwise.
		if src.Mem == isa.SBUF && dst.Mem == isa.SBUF && innerContiguous(src) && innerContiguous(dst) {
			cyc /= float64(c.VectorWidth16) / float64(c.Lanes)
		} else {
			cyc /= min(2, float64(c.VectorWidth16)/float64(c.Lanes))
		}
	case in.Engine == isa.Scalar && c.ScalarWidth16 > c.Lanes && both16:
		// A §3.2 NC-v4 ScalarE perf mode: up to 2× for bf16/fp16.
		cyc /= float64(c.ScalarWidth16) / float64(c.Lanes)
	}
	return max(float64(c.MinIICycles), cyc)
}

// tensorReduceCycles is the tensor_reduce rule, in cycles, for N free
// elements n.
func (c *Config) tensorReduceCycles(in *isa.Instr, n float64) float64 {
	// A §3.2 tensor_reduce N/2 (bf16 in/out, add or max) else N.
	cyc := n
	if in.Src[0].DType == isa.BF16 && in.Dst.DType == isa.BF16 && (in.ALU[0] == isa.ALUAdd || in.ALU[0] == isa.ALUMax) {
		cyc = n / 2
	}
	return max(float64(c.MinIICycles), cyc)
}

// memsetCycles is the memset rule, in cycles, for N free elements n.
func (c *Config) memsetCycles(in *isa.Instr, n float64) float64 {
	// A §3.2 memset max(MIN_II, N/2) (zero, bf16/fp16) else max(MIN_II, N).
	cyc := n
	if in.Imm[0] == 0 && is16(in.Dst.DType) {
		cyc = n / 2
	}
	return max(float64(c.MinIICycles), cyc)
}

// anyWide reports whether a source or the destination of in has an
// innermost stride wider than NarrowStrideBytes (see wideStride).
func (c *Config) anyWide(in *isa.Instr) bool {
	for i := range in.Src {
		if wideStride(&in.Src[i], c.NarrowStrideBytes) {
			return true
		}
	}
	return wideStride(&in.Dst, c.NarrowStrideBytes)
}

// stridePenalty rounds cyc up to whole cycles and doubles it when a
// source or the destination has an innermost stride wider than
// NarrowStrideBytes (wide; A §1.3: halves the access bandwidth).
func stridePenalty(cyc float64, wide bool) float64 {
	if wide {
		return 2 * math.Ceil(cyc)
	}
	return math.Ceil(cyc)
}

// matmulShape returns the contraction rows, stationary columns and moving
// columns of a matmul; in double-row mode the outer free dimension (2) is
// part of the contraction.
func matmulShape(in *isa.Instr) (k, m, n int) {
	st, mv := &in.Src[0], &in.Src[1]
	k, m, n = int(st.Parts), freeElems(st), freeElems(mv)
	if in.DoubleRow {
		k, m, n = 2*k, m/2, n/2
	}
	return k, m, n
}

// matmulPasses is the TensorE cost multiplier of a matmul's operand types
// (A §3.1: fp32 costs 4× bf16).
func (c *Config) matmulPasses(in *isa.Instr) int {
	if in.Src[0].DType == isa.FP32 || in.Src[1].DType == isa.FP32 {
		return c.FP32Passes
	}
	return 1
}

// used and freeElems are isa.AP's Used and FreeElems through a pointer:
// the methods take the 64-byte pattern by value, a copy the hot loop of a
// replay does not need.
func used(a *isa.AP) bool { return a.Mem != isa.MemNone }

func freeElems(a *isa.AP) int {
	n := 1
	for i := range a.NFree {
		n *= int(a.Free[i].Count)
	}
	return n
}
