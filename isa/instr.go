package isa

import "fmt"

// Engine is the unit that runs an instruction.
type Engine uint8

const (
	Tensor Engine = iota // TensorE: 128×128 systolic array, SBUF → PSUM
	Vector               // VectorE
	Scalar               // ScalarE (activation engine)
	GpSimd               // GpSimdE
	DMA                  // one of the core's DMA queues (Instr.Queue)
	NumEngines
)

var engineNames = [NumEngines]string{"tensor", "vector", "scalar", "gpsimd", "dma"}

func (e Engine) String() string {
	if e < NumEngines {
		return engineNames[e]
	}
	return fmt.Sprintf("engine(%d)", uint8(e))
}

// Opcode names an instruction (docs/hardware.md A §2.2).
type Opcode uint8

const (
	OpMatmul       Opcode = iota // nc_matmul: Dst[M,N] (+)= Src[0][K,M]ᵀ · Src[1][K,N]
	OpTranspose                  // nc_transpose on TensorE: Dst[F,P] = Src[0][P,F]ᵀ (identity matmul)
	OpActivation                 // activation: Dst = Act(Src[0]*scale + bias), optional add-reduce into Red
	OpTensorTensor               // tensor_tensor: Dst = Src[0] ALU[0] Src[1]
	OpTensorScalar               // tensor_scalar: Dst = (Src[0] ALU[0] a) ALU[1] b
	OpTensorReduce               // tensor_reduce: Dst[P, ...] = reduce ALU[0] over the last Axes free dims of Src[0]
	OpTensorCopy                 // tensor_copy: Dst = Src[0] (with dtype conversion)
	OpMemset                     // memset: Dst = Imm[0]
	OpIota                       // iota: Dst = Affine(p, i...)
	OpAffineSelect               // affine_select: Dst = Affine(p, i...) Cmp 0 ? Src[0] : Imm[0]
	OpDMA                        // dma_copy: Dst = Src[0] between HBM and SBUF or SBUF and SBUF
	OpBNStats                    // bn_stats: Dst[P,6] = (count, mean, count·var) of the even and of the odd elements of Src[0][P,F≤512]
	OpBNAggr                     // bn_aggr: Dst[P,2] = (mean, var) combined from the bn_stats tuples of Src[0][P,3k]
	NumOpcodes
)

var opNames = [NumOpcodes]string{
	"nc_matmul", "nc_transpose", "activation", "tensor_tensor", "tensor_scalar",
	"tensor_reduce", "tensor_copy", "memset", "iota", "affine_select", "dma_copy",
	"bn_stats", "bn_aggr",
}

func (o Opcode) String() string {
	if o < NumOpcodes {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// ActFunc is a ScalarE activation function (docs/hardware.md A §2.2,
// "ScalarE activation functions").
type ActFunc uint8

const (
	ActCopy ActFunc = iota
	ActExp
	ActTanh
	ActGelu // tanh approximation
	ActSilu
	ActSigmoid
	ActRelu
	ActRsqrt
	ActReciprocal
	ActSquare
	NumActFuncs
)

var actNames = [NumActFuncs]string{"copy", "exp", "tanh", "gelu", "silu", "sigmoid", "relu", "rsqrt", "reciprocal", "square"}

func (f ActFunc) String() string {
	if f < NumActFuncs {
		return actNames[f]
	}
	return fmt.Sprintf("act(%d)", uint8(f))
}

// ALUOp is a Vector/Scalar/GpSimd arithmetic operation
// (docs/hardware.md A §2.2 "ALU ops").
type ALUOp uint8

const (
	ALUBypass ALUOp = iota // no operation: pass the first operand through
	ALUAdd
	ALUSub
	ALUMul
	ALUMax
	ALUMin
	ALUDiv
	ALUPow
	ALUIsGE // 1 if a >= b else 0
	ALUIsEq // 1 if a == b else 0
	NumALUOps
)

var aluNames = [NumALUOps]string{"bypass", "add", "subtract", "multiply", "max", "min", "divide", "power", "is_ge", "is_equal"}

func (o ALUOp) String() string {
	if o < NumALUOps {
		return aluNames[o]
	}
	return fmt.Sprintf("alu(%d)", uint8(o))
}

// CmpOp is the comparison of an affine_select predicate against zero.
type CmpOp uint8

const (
	CmpGE CmpOp = iota // value >= 0
	CmpGT              // value > 0
	CmpEQ              // value == 0
	NumCmpOps
)

var cmpNames = [NumCmpOps]string{"ge", "gt", "eq"}

func (c CmpOp) String() string {
	if c < NumCmpOps {
		return cmpNames[c]
	}
	return fmt.Sprintf("cmp(%d)", uint8(c))
}

// Affine is an integer expression in the partition index p and the free
// indices i0..i3 of the destination: Base + PMul·p + Σ FMul[k]·ik. iota
// writes it; affine_select compares it with zero (NKI's affine_select and
// iota take the same form).
type Affine struct {
	Base int
	PMul int
	FMul [MaxFreeDims]int
	Cmp  CmpOp
}

// Instr is one instruction. Operand slots by opcode:
//
//	nc_matmul      Src[0] stationary [K,M] (SBUF), Src[1] moving [K,N] (SBUF), Dst [M,N] (PSUM);
//	               Accumulate adds into Dst instead of overwriting; DoubleRow selects FP8 double-row mode
//	nc_transpose   Src[0] [P,F] (SBUF), Dst [F,P] (PSUM)
//	activation     Src[0] data, Src[1] optional bias [P,1], Src[2] optional scale [P,1];
//	               Imm[0] scale and Imm[1] bias when those slots are unused; Red optional [P,1] add-reduce result
//	tensor_tensor  Src[0] ALU[0] Src[1]
//	tensor_scalar  (Src[0] ALU[0] a) ALU[1] b, where a = Src[1] ([P,1]) if used else Imm[0], b likewise Src[2] / Imm[1]
//	tensor_reduce  reduce Src[0] with ALU[0] (add or max) over its last Axes free dims; Negate negates the result
//	tensor_copy    Src[0]
//	memset         Imm[0]
//	iota           Affine
//	affine_select  Affine.Cmp(value, 0) ? Src[0] : Imm[0]
//	dma_copy       Src[0] → Dst, on DMA queue Queue
//	bn_stats       Src[0] [P,F≤512] → Dst [P,6]
//	bn_aggr        Src[0] [P,3k] (k bn_stats tuples) → Dst [P,2]
type Instr struct {
	Op     Opcode
	Engine Engine
	Queue  uint8 // DMA queue, for Engine == DMA

	Dst AP
	Src [3]AP
	Red AP

	Act ActFunc
	ALU [2]ALUOp
	Imm [2]float32

	Affine Affine

	Axes       uint8
	Negate     bool
	Accumulate bool
	DoubleRow  bool

	// Site indexes Program.Sites: the kernel source line that issued the
	// instruction, or -1.
	Site int32
}
