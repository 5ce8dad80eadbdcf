package isa

import (
	"fmt"
	"runtime"
)

// NumDMAQueues is the number of DMA queues a Builder spreads transfers over
// (docs/hardware.md A §3.3: 16 queues per DMA engine).
const NumDMAQueues = 16

// Builder appends instructions to a Program the way NKI kernels are
// written: plain Go loops over tiles. Errors are sticky: after the first
// one every call is a no-op and Program returns it, so kernels check once.
//
// A Builder either stores the program (NewBuilder: for assembly, traces,
// profiles and functional execution) or streams it (NewStreamBuilder: each
// instruction is validated and handed to a Sink as it is emitted, and
// nothing is kept, so memory does not grow with program length).
type Builder struct {
	arch     Arch
	prog     Program
	err      error
	sbufUsed int // bytes per partition reserved by SBUF pools
	psumUsed int // bytes per partition reserved by PSUM pools
	sites    map[uintptr]int32
	dmaNext  int
	pools    []*Pool  // every pool made, in order: their rotations are Loop's state
	loop     *loopRun // the Loop being fast-forwarded, if any

	n         int // instructions emitted
	maxStored int // cap on stored instructions; 0: none

	// Streaming: sink receives each instruction, validated by check
	// against arch; cur is the instruction being handed over (a field, so
	// passing its address to the sink does not allocate).
	sink      Sink
	check     instrChecker
	cur       Instr
	keepSites bool // streaming: record each instruction's site (KeepSites)
}

// Sink consumes the instructions of a streaming Builder (see
// NewStreamBuilder) in program order. Tensor is called once per declared
// HBM tensor, after the declaration was validated and before any
// instruction that names it; Instr is called once per instruction, after
// it was validated. in is valid only during the call. An error from Instr
// stops the build: it becomes the Builder's error.
type Sink interface {
	Tensor(i int, d TensorDecl)
	Instr(i int, in *Instr) error
}

// NewBuilder starts an empty program named name for arch, stored
// instruction by instruction (see Program).
func NewBuilder(arch Arch, name string) *Builder {
	return &Builder{arch: arch, prog: Program{Name: name}, sites: map[uintptr]int32{}}
}

// NewStreamBuilder starts a program named name for arch whose instructions
// are not stored: each one is checked against arch's layout and access
// rules (the checks Program.Validate makes) when it is emitted and then
// handed to sink. Instructions carry no source site (Site -1) unless
// KeepSites is called; an
// instruction that breaks a rule is reported as a *ValidationError naming
// the kernel line that emitted it. Program returns an error for a
// streaming Builder; Err reports how the stream ended.
func NewStreamBuilder(arch Arch, name string, sink Sink) *Builder {
	b := &Builder{arch: arch, prog: Program{Name: name}, sites: map[uintptr]int32{}, sink: sink}
	b.check = newInstrChecker(&b.prog, arch)
	b.check.in = &b.cur // the checker always reads the instruction under construction
	return b
}

// Streaming reports whether the Builder hands its instructions to a Sink
// instead of storing them.
func (b *Builder) Streaming() bool { return b.sink != nil }

// KeepSites makes a streaming Builder record each instruction's source
// site as a storing one does (Instr.Site indexes Sites), for a Sink that
// keeps spans for a trace or profile. It costs a call-stack lookup per
// instruction, which timing-only runs skip.
func (b *Builder) KeepSites() { b.keepSites = true }

// Sites returns the source sites recorded so far (Program.Sites).
func (b *Builder) Sites() []Site { return b.prog.Sites }

// LimitStored caps the number of instructions a storing Builder keeps:
// emitting one more is an error (*StoredCapError). It has no effect on a
// streaming Builder, whose memory does not grow with the program.
func (b *Builder) LimitStored(n int) { b.maxStored = n }

// Reserve pre-sizes a storing Builder for about n instructions (a
// kernel's own estimate), so the instruction list is not regrown and
// copied as it fills. It is bounded by the stored cap and ignored when
// streaming.
func (b *Builder) Reserve(n int) {
	if b.sink != nil || n <= cap(b.prog.Instrs) {
		return
	}
	if b.maxStored > 0 {
		n = min(n, b.maxStored)
	}
	// Estimates are rounded up; beyond 64 Mi instructions (26 GB) let
	// append grow the list instead of reserving on a guess.
	n = min(n, 1<<26)
	ins := make([]Instr, len(b.prog.Instrs), n)
	copy(ins, b.prog.Instrs)
	b.prog.Instrs = ins
}

// StoredCapError reports a program with more instructions than a storing
// Builder may keep (Builder.LimitStored). Its message leaves out the
// program's name, which callers already print.
type StoredCapError struct {
	Program string
	Cap     int
}

func (e *StoredCapError) Error() string {
	return fmt.Sprintf("more than %d instructions to store (traces, profiles, assembly and functional checks keep every instruction; timing-only runs stream and have no such cap): shrink the shape", e.Cap)
}

// Arch returns the generation the program is built for.
func (b *Builder) Arch() Arch { return b.arch }

// Err returns the first error recorded, if any.
func (b *Builder) Err() error { return b.err }

// Fail records err (the first one wins) so a kernel can report its own
// shape errors through the builder.
func (b *Builder) Fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Tensors returns the HBM tensors declared so far, also after an error
// (declarations are recorded regardless), so a caller can size a run from
// the declarations alone: fail the builder first and instructions are not
// stored.
func (b *Builder) Tensors() []TensorDecl { return append([]TensorDecl(nil), b.prog.Tensors...) }

// Len returns the number of instructions emitted so far.
func (b *Builder) Len() int { return b.n }

// Program validates and returns the program built so far, marked as
// validated for the builder's architecture (see Program.ValidatedFor).
// A streaming Builder has no program to return: it returns its error, or
// an error saying the program was streamed.
func (b *Builder) Program() (*Program, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.sink != nil {
		return nil, fmt.Errorf("program %s was streamed to its sink, not stored", b.prog.Name)
	}
	p := b.prog
	if err := p.Validate(b.arch); err != nil {
		return nil, err
	}
	p.valid = stampOf(&p, b.arch)
	return &p, nil
}

// HBMTensor is a tensor in HBM declared by a program.
type HBMTensor struct {
	Index int
	Decl  TensorDecl
}

// Rows is the number of rows when the tensor is seen as 2-D: the product of
// all dimensions but the last.
func (t HBMTensor) Rows() int { return t.Decl.Elems() / t.Cols() }

// Cols is the last (contiguous) dimension.
func (t HBMTensor) Cols() int {
	if len(t.Decl.Shape) == 0 {
		return 1
	}
	return t.Decl.Shape[len(t.Decl.Shape)-1]
}

// Tile returns the [rows, cols] window at (r0, c0) of the tensor seen as
// 2-D (see Rows).
func (t HBMTensor) Tile(r0, c0, rows, cols int) AP {
	c := t.Cols()
	return AP{Mem: HBM, DType: t.Decl.DType, Tensor: Narrow(t.Index), Offset: r0*c + c0,
		Parts: Narrow(rows), PStride: c, NFree: 1, Free: [MaxFreeDims]Dim{{Stride: 1, Count: Narrow(cols)}}}
}

func (b *Builder) tensor(kind TensorKind, name string, dt DType, shape []int) HBMTensor {
	for _, d := range shape {
		if d <= 0 {
			b.Fail(fmt.Errorf("tensor %q: dimension %d in shape %v must be positive", name, d, shape))
			break
		}
	}
	decl := TensorDecl{Name: name, Kind: kind, DType: dt, Shape: append([]int(nil), shape...)}
	b.prog.Tensors = append(b.prog.Tensors, decl)
	i := len(b.prog.Tensors) - 1
	if b.sink != nil && b.err == nil {
		if err := checkTensor(&b.prog, b.arch, i); err != nil {
			b.Fail(err)
		} else {
			b.sink.Tensor(i, decl)
		}
	}
	return HBMTensor{Index: i, Decl: decl}
}

// Input declares an HBM tensor the caller supplies.
func (b *Builder) Input(name string, dt DType, shape ...int) HBMTensor {
	return b.tensor(Input, name, dt, shape)
}

// Output declares an HBM tensor the program writes and returns.
func (b *Builder) Output(name string, dt DType, shape ...int) HBMTensor {
	return b.tensor(Output, name, dt, shape)
}

// Scratch declares an HBM workspace tensor.
func (b *Builder) Scratch(name string, dt DType, shape ...int) HBMTensor {
	return b.tensor(Scratch, name, dt, shape)
}

// instr returns the instruction under construction (b.cur), cleared and
// with op and engine set. Each emitting method fills it in place and calls
// emit: the 408-byte Instr is built once, where the checker and the sink
// read it, instead of built on the stack and copied there.
func (b *Builder) instr(op Opcode, eng Engine) *Instr {
	in := &b.cur
	*in = Instr{}
	in.Op, in.Engine = op, eng
	return in
}

// emit appends the instruction under construction (see instr) (storing)
// or validates and hands it to the sink (streaming). It must be called
// directly by the exported Builder method the kernel called: the kernel's
// line is found by skipping a fixed number of frames.
//
// Storing records the emitting line's program counter per instruction
// (resolved to file:line only when a profile, assembly or error asks; each
// distinct line is one Site). Streaming records none: it captures the line
// only when the instruction breaks a rule, for the error.
func (b *Builder) emit() {
	if b.err != nil {
		return
	}
	in := &b.cur
	if b.sink != nil {
		in.Site = -1
		c := &b.check
		c.nTensors = len(b.prog.Tensors)
		c.i = b.n
		if e := c.check(); e != nil {
			// Frames: runtime.Callers, emit, the Builder method, the kernel.
			e.Site = siteOfPC(callerPC(3))
			b.err = e
			return
		}
		if b.keepSites {
			in.Site = b.siteOf(callerPC(3))
		}
		if err := b.sink.Instr(b.n, in); err != nil {
			b.err = err
			return
		}
		b.n++
		return
	}
	if b.maxStored > 0 && len(b.prog.Instrs) >= b.maxStored {
		b.err = &StoredCapError{Program: b.prog.Name, Cap: b.maxStored}
		return
	}
	in.Site = b.siteOf(callerPC(3))
	if n := len(b.prog.Instrs); n == cap(b.prog.Instrs) && n >= 1024 {
		// Double rather than append's 1.25× for large slices: each
		// instruction is copied at most once more on average.
		c := 2 * n
		if b.maxStored > 0 {
			c = min(c, b.maxStored)
		}
		ins := make([]Instr, n, c)
		copy(ins, b.prog.Instrs)
		b.prog.Instrs = ins
	}
	b.prog.Instrs = append(b.prog.Instrs, *in)
	b.n++
}

// callerPC returns the program counter skip frames above its caller's
// caller (skip as for runtime.Callers, counted from the function that
// calls callerPC), or 0.
func callerPC(skip int) uintptr {
	var pc [1]uintptr
	if runtime.Callers(skip+1, pc[:]) == 0 {
		return 0
	}
	return pc[0]
}

// siteOf returns the Sites index of program counter pc, adding it on first
// sight; -1 for 0.
func (b *Builder) siteOf(pc uintptr) int32 {
	if pc == 0 {
		return -1
	}
	if i, ok := b.sites[pc]; ok {
		return i
	}
	i := int32(len(b.prog.Sites))
	b.prog.Sites = append(b.prog.Sites, Site{PC: pc})
	b.sites[pc] = i
	return i
}

// dma emits dma_copy on the next DMA queue in turn.
func (b *Builder) dma(dst, src AP) {
	in := b.instr(OpDMA, DMA)
	in.Queue = uint8(b.dmaNext % NumDMAQueues)
	b.dmaNext++
	in.Dst, in.Src[0] = dst, src
}

// Load copies an HBM window into an SBUF tile (dma_copy).
func (b *Builder) Load(dst, src AP) {
	b.dma(dst, src)
	b.emit()
}

// Store copies an SBUF tile to an HBM window (dma_copy).
func (b *Builder) Store(dst, src AP) {
	b.dma(dst, src)
	b.emit()
}

// DMACopy copies between any two memories a DMA may reach (HBM↔SBUF,
// SBUF↔SBUF).
func (b *Builder) DMACopy(dst, src AP) {
	b.dma(dst, src)
	b.emit()
}

// Matmul appends nc_matmul: dst[M,N] = stationary[K,M]ᵀ · moving[K,N], added
// to dst when accumulate is set.
//
// FP8 double-row mode (NC-v3/v4, docs/hardware.md A §2.2 perf_mode=double_row):
// a stationary of shape [K, 2, M] and a moving of shape [K, 2, N] (two free
// dimensions, the outer of count 2) contract over 2·K rows in the time of
// K: dst[m,n] = Σ_k Σ_r stationary[k,r,m]·moving[k,r,n].
func (b *Builder) Matmul(dst, stationary, moving AP, accumulate bool) {
	in := b.instr(OpMatmul, Tensor)
	in.Dst, in.Src[0], in.Src[1] = dst, stationary, moving
	in.Accumulate = accumulate
	in.DoubleRow = stationary.NFree == 2 && stationary.Free[0].Count == 2
	b.emit()
}

// Transpose appends nc_transpose on TensorE: dst[F,P] = src[P,F]ᵀ.
func (b *Builder) Transpose(dst, src AP) {
	in := b.instr(OpTranspose, Tensor)
	in.Dst, in.Src[0] = dst, src
	b.emit()
}

// ActArgs are the optional parts of an activation. Scale multiplies the
// input (zero means zero: set it), Bias is added; ScaleAP and BiasAP are
// [P,1] per-partition alternatives; Reduce, if used, receives the
// per-partition sum of the outputs.
type ActArgs struct {
	Scale   float32
	Bias    float32
	ScaleAP AP
	BiasAP  AP
	Reduce  AP
}

// Activation appends activation on ScalarE: dst = f(src).
func (b *Builder) Activation(dst, src AP, f ActFunc) {
	in := b.instr(OpActivation, Scalar)
	in.Dst, in.Src[0] = dst, src
	in.Act, in.Imm = f, [2]float32{1, 0}
	b.emit()
}

// ActivationWith appends activation on ScalarE: dst = f(src*scale + bias),
// with an optional add-reduce into args.Reduce.
func (b *Builder) ActivationWith(dst, src AP, f ActFunc, args ActArgs) {
	in := b.instr(OpActivation, Scalar)
	in.Dst, in.Src[0], in.Src[1], in.Src[2] = dst, src, args.BiasAP, args.ScaleAP
	in.Act, in.Imm, in.Red = f, [2]float32{args.Scale, args.Bias}, args.Reduce
	b.emit()
}

// TensorTensor appends tensor_tensor on VectorE: dst = a op c.
func (b *Builder) TensorTensor(dst, a, c AP, op ALUOp) {
	in := b.instr(OpTensorTensor, Vector)
	in.Dst, in.Src[0], in.Src[1] = dst, a, c
	in.ALU[0] = op
	b.emit()
}

// Operand is a tensor_scalar operand: an immediate, or a [P,1] tile giving
// one value per partition.
type Operand struct {
	AP  AP
	Imm float32
}

// Imm returns an immediate operand.
func Imm(v float32) Operand { return Operand{Imm: v} }

// PerPartition returns a [P,1] tile operand.
func PerPartition(ap AP) Operand { return Operand{AP: ap} }

// TensorScalar appends tensor_scalar on engine eng: dst = (src op0 a) op1 c.
// Pass ALUBypass as op1 for a single operation.
func (b *Builder) TensorScalar(eng Engine, dst, src AP, op0 ALUOp, a Operand, op1 ALUOp, c Operand) {
	in := b.instr(OpTensorScalar, eng)
	in.Dst, in.Src[0], in.Src[1], in.Src[2] = dst, src, a.AP, c.AP
	in.ALU, in.Imm = [2]ALUOp{op0, op1}, [2]float32{a.Imm, c.Imm}
	b.emit()
}

// TensorReduce appends tensor_reduce on VectorE: reduce src with op (add or
// max) over its last axes free dimensions into dst, negated if negate.
func (b *Builder) TensorReduce(dst, src AP, op ALUOp, axes int, negate bool) {
	in := b.instr(OpTensorReduce, Vector)
	in.Dst, in.Src[0] = dst, src
	in.ALU[0], in.Axes, in.Negate = op, uint8(axes), negate
	b.emit()
}

// TensorCopy appends tensor_copy on engine eng, converting dtypes.
func (b *Builder) TensorCopy(eng Engine, dst, src AP) {
	in := b.instr(OpTensorCopy, eng)
	in.Dst, in.Src[0] = dst, src
	b.emit()
}

// Memset appends memset on engine eng (Vector or GpSimd): dst = v.
func (b *Builder) Memset(eng Engine, dst AP, v float32) {
	in := b.instr(OpMemset, eng)
	in.Dst, in.Imm[0] = dst, v
	b.emit()
}

// Iota appends iota on GpSimd: dst = aff(p, i...).
func (b *Builder) Iota(dst AP, aff Affine) {
	in := b.instr(OpIota, GpSimd)
	in.Dst, in.Affine = dst, aff
	b.emit()
}

// AffineSelect appends affine_select on GpSimd: dst = src where
// aff(p, i...) compares true against zero, fill elsewhere. A causal mask
// keeps key j ≤ query i with Affine{Base: q0 - k0, PMul: 1, FMul: {-1}}.
func (b *Builder) AffineSelect(dst, src AP, aff Affine, fill float32) {
	in := b.instr(OpAffineSelect, GpSimd)
	in.Dst, in.Src[0], in.Affine, in.Imm[0] = dst, src, aff, fill
	b.emit()
}
