package isa

import (
	"fmt"
	"runtime"
	"slices"
)

// Functional execution.
//
// Exec runs a Program with real numbers. Its storage model:
//
//   - SBUF and PSUM hold bytes, per partition, in each element's encoding
//     (round.go: IEEE fp32/fp16/bf16, OCP e4m3fn, IEEE-like e5m2, two's
//     complement int32), little-endian. Each space is sized by the largest
//     byte offset and partition the program touches, not by the
//     architecture's capacity, so a program that uses 40 KiB of each SBUF
//     partition costs 128 × 40 KiB.
//   - HBM tensors are the declared row-major arrays of float32, each value
//     representable in the tensor's dtype (HBM access patterns must use the
//     tensor's own dtype).
//   - Aliasing views: because SBUF and PSUM are bytes, two access patterns
//     of different dtypes over the same bytes see the same bits, as on the
//     hardware: a bf16 view of fp32 PSUM reads the halves of each word; an
//     fp32 written over fp8 data replaces four fp8 elements. Nothing is
//     refused; the result is the reinterpretation of the bytes.
//   - Within one instruction each source row (partition) is read whole
//     before the destination row is written, so in-place operations and
//     overlaps within a partition read the old values. When a destination
//     row overlaps a source row of a different partition (or HBM row),
//     rows are processed one at a time in increasing order, and a later row
//     may read what an earlier row wrote; otherwise rows may run
//     concurrently (exec_parallel.go), which changes no bit.
//
// Arithmetic: Vector, Scalar and GpSimd work in fp32 (docs/hardware.md A §2.2:
// "All Vector/Scalar arithmetic in FP32 with free input/output casting");
// every write rounds to the destination's dtype with DType.Round. Matmul
// multiplies in fp32 and accumulates each output element in fp32 over the
// contraction in increasing row order (docs/hardware.md A §1.1: "FP32 in PSUM
// always"); see exec_matmul.go. ScalarE's transcendental functions are
// piecewise polynomials on the hardware (A §2.2); Exec evaluates them in
// float64 and rounds to fp32, so it does not model their approximation
// error.

// ExecError reports an input or an instruction that Exec cannot run.
type ExecError struct {
	Program string
	Index   int    // instruction index, or -1 for an input tensor error
	Op      Opcode // the instruction's opcode (Index ≥ 0)
	Site    Site   // the kernel source line of the instruction (Index ≥ 0)
	Tensor  string // the input tensor at fault (Index < 0)
	Msg     string
}

func (e *ExecError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("exec %s: tensor %q: %s", e.Program, e.Tensor, e.Msg)
	}
	return fmt.Sprintf("exec %s: instruction %d (%s) at %s: %s", e.Program, e.Index, e.Op, e.Site, e.Msg)
}

// Exec runs p functionally on arch with the given input tensors (by name,
// row-major, values representable in each tensor's dtype; other values are
// rounded to it) and returns the Output tensors by name. Missing, unknown
// and wrong-length inputs are errors naming the tensor; p must satisfy
// Validate(a).
func Exec(p *Program, a Arch, inputs map[string][]float32) (map[string][]float32, error) {
	if p == nil {
		return nil, fmt.Errorf("exec: nil program")
	}
	if err := p.Validate(a); err != nil {
		return nil, err
	}
	m, err := newMachine(p, a)
	if err != nil {
		return nil, err
	}
	if err := m.loadInputs(inputs); err != nil {
		return nil, err
	}
	for i := range p.Instrs {
		m.exec(&p.Instrs[i])
	}
	out := map[string][]float32{}
	for i, t := range p.Tensors {
		if t.Kind == Output {
			out[t.Name] = m.hbm[i]
		}
	}
	return out, nil
}

// machine is the state of one Exec run.
type machine struct {
	prog *Program
	arch Arch
	sbuf space
	psum space
	hbm  [][]float32

	// work holds one set of row buffers per worker goroutine (GOMAXPROCS
	// of them), each as long as the largest per-partition element count of
	// any access pattern in the program.
	work []scratch
	// Larger buffers, grown on demand and reused: matmul operands and
	// result, transposes, DMA copies that reshape.
	mmA, mmB, mmC []float32
	flat          []float32
}

// space is SBUF or PSUM: parts partitions of stride bytes each.
type space struct {
	data   []byte
	stride int
}

func (m *machine) errAt(i int, format string, args ...any) error {
	in := &m.prog.Instrs[i]
	return &ExecError{Program: m.prog.Name, Index: i, Op: in.Op, Site: m.prog.SiteOf(i), Msg: fmt.Sprintf(format, args...)}
}

func (m *machine) errTensor(name, format string, args ...any) error {
	return &ExecError{Program: m.prog.Name, Index: -1, Tensor: name, Msg: fmt.Sprintf(format, args...)}
}

// maxFreeElems bounds the elements per partition of one access pattern
// Exec accepts; it keeps every product of counts and strides far from
// integer overflow.
const maxFreeElems = 1 << 28

// newMachine checks every instruction's operands (so that execution needs
// no further checks and cannot index out of range) and sizes the storage.
func newMachine(p *Program, a Arch) (*machine, error) {
	m := &machine{prog: p, arch: a, hbm: make([][]float32, len(p.Tensors))}
	for i, t := range p.Tensors {
		if t.DType >= numDTypes {
			return nil, m.errTensor(t.Name, "unknown dtype %d", t.DType)
		}
		n := 1
		for _, d := range t.Shape {
			if d <= 0 || n > maxFreeElems/d {
				return nil, m.errTensor(t.Name, "shape %v: dimensions must be positive with at most %d elements", t.Shape, maxFreeElems)
			}
			n *= d
		}
		m.hbm[i] = make([]float32, n)
	}
	var sbufHi, psumHi, sbufParts, psumParts, maxFree int
	for i := range p.Instrs {
		in := &p.Instrs[i]
		if err := m.checkShapes(i, in); err != nil {
			return nil, err
		}
		for _, ap := range in.operands() {
			if !ap.Used() {
				continue
			}
			maxFree = max(maxFree, ap.FreeElems())
			_, hi := ap.Span()
			switch ap.Mem {
			case SBUF:
				sbufHi, sbufParts = max(sbufHi, hi), max(sbufParts, int(ap.Start)+int(ap.Parts))
			case PSUM:
				psumHi, psumParts = max(psumHi, hi), max(psumParts, int(ap.Start)+int(ap.Parts))
			}
		}
	}
	m.sbuf = space{data: make([]byte, sbufParts*sbufHi), stride: sbufHi}
	m.psum = space{data: make([]byte, psumParts*psumHi), stride: psumHi}
	m.work = make([]scratch, runtime.GOMAXPROCS(0))
	for w := range m.work {
		for k := range m.work[w].row {
			m.work[w].row[k] = make([]float32, maxFree)
		}
	}
	return m, nil
}

var slotNames = [5]string{"destination", "source 0", "source 1", "source 2", "reduce"}

// operands returns the instruction's access-pattern slots.
func (in *Instr) operands() [5]AP { return [5]AP{in.Dst, in.Src[0], in.Src[1], in.Src[2], in.Red} }

// loadInputs copies the caller's inputs into HBM, rounding each value to
// the tensor's dtype.
func (m *machine) loadInputs(inputs map[string][]float32) error {
	for i, t := range m.prog.Tensors {
		if t.Kind != Input {
			continue
		}
		x, ok := inputs[t.Name]
		if !ok {
			return m.errTensor(t.Name, "input missing (the program declares it %s %v)", t.DType, t.Shape)
		}
		if len(x) != len(m.hbm[i]) {
			return m.errTensor(t.Name, "input has %d elements, shape %v needs %d", len(x), t.Shape, len(m.hbm[i]))
		}
		roundRun(t.DType, x, m.hbm[i])
	}
	names := make([]string, 0, len(inputs))
	for name := range inputs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if j := m.prog.TensorIndex(name); j < 0 || m.prog.Tensors[j].Kind != Input {
			return m.errTensor(name, "not an input of program %s", m.prog.Name)
		}
	}
	return nil
}

// checkAP checks one operand against the storage rules Exec relies on:
// a known memory and dtype, positive counts, partitions within the
// architecture, bytes within the partition's capacity (SBUF, PSUM) or
// elements within the tensor (HBM, which must be read in its own dtype).
func (m *machine) checkAP(i int, slot string, ap AP) error {
	if ap.DType >= numDTypes {
		return m.errAt(i, "%s: unknown dtype %d", slot, ap.DType)
	}
	if ap.NFree > MaxFreeDims {
		return m.errAt(i, "%s: %d free dimensions, allowed 0..%d", slot, ap.NFree, MaxFreeDims)
	}
	const maxStride = 1 << 24
	n := 1
	for k := 0; k < int(ap.NFree); k++ {
		d := ap.Free[k]
		if d.Count <= 0 || d.Stride < -maxStride || d.Stride > maxStride {
			return m.errAt(i, "%s: free dimension %d is (stride %d, count %d): count must be positive, |stride| ≤ %d", slot, k, d.Stride, d.Count, maxStride)
		}
		if n > maxFreeElems/int(d.Count) {
			return m.errAt(i, "%s: more than %d elements per partition", slot, maxFreeElems)
		}
		n *= int(d.Count)
	}
	if ap.Parts <= 0 {
		return m.errAt(i, "%s: %d partitions, must be positive", slot, ap.Parts)
	}
	if ap.Offset < -maxFreeElems || ap.Offset > maxFreeElems || ap.PStride < -maxFreeElems || ap.PStride > maxFreeElems {
		return m.errAt(i, "%s: offset %d or row stride %d out of range", slot, ap.Offset, ap.PStride)
	}
	switch ap.Mem {
	case SBUF, PSUM:
		if ap.Start < 0 || int(ap.Start)+int(ap.Parts) > m.arch.Partitions {
			return m.errAt(i, "%s: partitions %d..%d outside 0..%d", slot, ap.Start, int(ap.Start)+int(ap.Parts)-1, m.arch.Partitions-1)
		}
		capacity := m.arch.SBUFPartitionBytes
		if ap.Mem == PSUM {
			capacity = m.arch.PSUMPartitionBytes()
		}
		if lo, hi := ap.Span(); lo < 0 || hi > capacity {
			return m.errAt(i, "%s: bytes %d..%d of each partition outside the %s partition's 0..%d", slot, lo, hi-1, ap.Mem, capacity-1)
		}
	case HBM:
		if ap.Tensor < 0 || int(ap.Tensor) >= len(m.prog.Tensors) {
			return m.errAt(i, "%s: tensor %d not declared (program has %d)", slot, ap.Tensor, len(m.prog.Tensors))
		}
		t := m.prog.Tensors[ap.Tensor]
		if ap.DType != t.DType {
			return m.errAt(i, "%s: reads tensor %q as %s, declared %s", slot, t.Name, ap.DType, t.DType)
		}
		if lo, hi := ap.Span(); lo < 0 || hi > len(m.hbm[ap.Tensor]) {
			return m.errAt(i, "%s: elements %d..%d outside tensor %q (%d elements)", slot, lo, hi-1, t.Name, len(m.hbm[ap.Tensor]))
		}
	default:
		return m.errAt(i, "%s: no memory", slot)
	}
	return nil
}

// checkShapes checks the operand slots an opcode uses and their shapes:
// every used operand against the storage rules (checkAP), a destination,
// then the shape rule of the opcode's family.
func (m *machine) checkShapes(i int, in *Instr) error {
	for k, ap := range in.operands() {
		if ap.Used() {
			if err := m.checkAP(i, slotNames[k], ap); err != nil {
				return err
			}
		}
	}
	if err := m.need(i, "destination", in.Dst); err != nil {
		return err
	}
	switch in.Op {
	case OpMatmul:
		return m.matmulShape(i, in)
	case OpTranspose:
		return m.transposeShape(i, in)
	case OpActivation:
		return m.activationShape(i, in)
	case OpTensorTensor:
		return m.tensorTensorShape(i, in)
	case OpTensorScalar:
		return m.tensorScalarShape(i, in)
	case OpTensorReduce:
		return m.reduceShape(i, in)
	case OpBNStats, OpBNAggr:
		return m.bnShape(i, in)
	case OpTensorCopy, OpAffineSelect:
		return m.copyShape(i, in)
	case OpMemset, OpIota:
		return nil // the destination alone
	case OpDMA:
		return m.dmaShape(i, in)
	}
	return m.errAt(i, "unknown opcode %d", in.Op)
}

// need checks that operand slot is used.
func (m *machine) need(i int, slot string, ap AP) error {
	if !ap.Used() {
		return m.errAt(i, "%s operand missing", slot)
	}
	return nil
}

// sameShape checks that operand slot has the destination's partitions and
// free elements.
func (m *machine) sameShape(i int, in *Instr, slot string, ap AP) error {
	if ap.Parts != in.Dst.Parts || ap.FreeElems() != in.Dst.FreeElems() {
		return m.errAt(i, "%s is [%d,%d], destination [%d,%d]: shapes must match", slot, ap.Parts, ap.FreeElems(), in.Dst.Parts, in.Dst.FreeElems())
	}
	return nil
}

// column checks that operand slot, if used, holds one value per
// destination partition.
func (m *machine) column(i int, in *Instr, slot string, ap AP) error {
	if ap.Used() && (ap.Parts != in.Dst.Parts || ap.FreeElems() != 1) {
		return m.errAt(i, "%s is [%d,%d], must be one value per destination partition [%d,1]", slot, ap.Parts, ap.FreeElems(), in.Dst.Parts)
	}
	return nil
}

// aluOK checks that op is a known ALU operation.
func (m *machine) aluOK(i int, op ALUOp) error {
	if op >= NumALUOps {
		return m.errAt(i, "unknown ALU operation %d", op)
	}
	return nil
}

// elementwise checks a source that an elementwise instruction maps onto
// the destination element by element: present and of the same shape.
func (m *machine) elementwise(i int, in *Instr, slot string, ap AP) error {
	if err := m.need(i, slot, ap); err != nil {
		return err
	}
	return m.sameShape(i, in, slot, ap)
}

// transposeShape checks transpose: a source [P,F] gives the destination
// [F,P].
func (m *machine) transposeShape(i int, in *Instr) error {
	src := in.Src[0]
	if err := m.need(i, "source", src); err != nil {
		return err
	}
	if int(in.Dst.Parts) != src.FreeElems() || in.Dst.FreeElems() != int(src.Parts) {
		return m.errAt(i, "source is [%d,%d], destination [%d,%d]: must be its transpose", src.Parts, src.FreeElems(), in.Dst.Parts, in.Dst.FreeElems())
	}
	return nil
}

// activationShape checks activation: a known function, a source of the
// destination's shape, and bias, scale and reduce operands (each
// optional) of one value per partition.
func (m *machine) activationShape(i int, in *Instr) error {
	if in.Act >= NumActFuncs {
		return m.errAt(i, "unknown activation function %d", in.Act)
	}
	if err := m.elementwise(i, in, "source", in.Src[0]); err != nil {
		return err
	}
	if err := m.column(i, in, "bias", in.Src[1]); err != nil {
		return err
	}
	if err := m.column(i, in, "scale", in.Src[2]); err != nil {
		return err
	}
	return m.column(i, in, "reduce", in.Red)
}

// tensorTensorShape checks tensor_tensor: a known ALU operation and two
// sources of the destination's shape (both checked present before either
// shape).
func (m *machine) tensorTensorShape(i int, in *Instr) error {
	if err := m.aluOK(i, in.ALU[0]); err != nil {
		return err
	}
	if err := m.need(i, "source 0", in.Src[0]); err != nil {
		return err
	}
	if err := m.need(i, "source 1", in.Src[1]); err != nil {
		return err
	}
	if err := m.sameShape(i, in, "source 0", in.Src[0]); err != nil {
		return err
	}
	return m.sameShape(i, in, "source 1", in.Src[1])
}

// tensorScalarShape checks tensor_scalar: two known ALU operations, a
// source of the destination's shape, and scalar operands (each optional)
// of one value per partition.
func (m *machine) tensorScalarShape(i int, in *Instr) error {
	if err := m.aluOK(i, in.ALU[0]); err != nil {
		return err
	}
	if err := m.aluOK(i, in.ALU[1]); err != nil {
		return err
	}
	if err := m.elementwise(i, in, "source", in.Src[0]); err != nil {
		return err
	}
	if err := m.column(i, in, "operand 0", in.Src[1]); err != nil {
		return err
	}
	return m.column(i, in, "operand 1", in.Src[2])
}

// copyShape checks tensor_copy and affine_select: a known comparison
// (affine_select), checked first, and a source of the destination's shape.
func (m *machine) copyShape(i int, in *Instr) error {
	if in.Op == OpAffineSelect && in.Affine.Cmp >= NumCmpOps {
		return m.errAt(i, "unknown comparison %d", in.Affine.Cmp)
	}
	return m.elementwise(i, in, "source", in.Src[0])
}

// dmaShape checks dma: a source with as many elements as the destination
// (the two may differ in layout).
func (m *machine) dmaShape(i int, in *Instr) error {
	if err := m.need(i, "source", in.Src[0]); err != nil {
		return err
	}
	if in.Src[0].Elems() != in.Dst.Elems() {
		return m.errAt(i, "copies %d elements into %d", in.Src[0].Elems(), in.Dst.Elems())
	}
	return nil
}

// matmulShape checks that nc_matmul's operands contract: stationary [K,M]
// and moving [K,N] (each [K,2,·] in double-row mode) give the destination
// [M,N].
func (m *machine) matmulShape(i int, in *Instr) error {
	st, mv := in.Src[0], in.Src[1]
	if err := m.need(i, "stationary", st); err != nil {
		return err
	}
	if err := m.need(i, "moving", mv); err != nil {
		return err
	}
	r := 1
	if in.DoubleRow {
		r = 2
	}
	if st.Parts != mv.Parts {
		return m.errAt(i, "stationary has %d partitions (K), moving %d: they must match", st.Parts, mv.Parts)
	}
	if st.FreeElems()%r != 0 || mv.FreeElems()%r != 0 {
		return m.errAt(i, "double-row operands need an even number of free elements, have %d and %d", st.FreeElems(), mv.FreeElems())
	}
	if M, N := st.FreeElems()/r, mv.FreeElems()/r; int(in.Dst.Parts) != M || in.Dst.FreeElems() != N {
		return m.errAt(i, "destination is [%d,%d], stationary and moving give [%d,%d]", in.Dst.Parts, in.Dst.FreeElems(), M, N)
	}
	return nil
}

// reduceShape checks tensor_reduce: a source, reduced by add or max over
// its last Axes free dimensions, the destination keeping the others.
func (m *machine) reduceShape(i int, in *Instr) error {
	src := in.Src[0]
	if err := m.need(i, "source", src); err != nil {
		return err
	}
	if in.ALU[0] != ALUAdd && in.ALU[0] != ALUMax {
		return m.errAt(i, "reduce operation %s: allowed add, max", in.ALU[0])
	}
	if int(in.Axes) < 1 || int(in.Axes) > int(src.NFree) {
		return m.errAt(i, "reduces %d axes of a source with %d free dimensions: allowed 1..%d", in.Axes, src.NFree, src.NFree)
	}
	outer := 1
	for k := 0; k < int(src.NFree)-int(in.Axes); k++ {
		outer *= int(src.Free[k].Count)
	}
	if in.Dst.Parts != src.Parts || in.Dst.FreeElems() != outer {
		return m.errAt(i, "destination is [%d,%d], reducing the last %d axes of [%d,%d] gives [%d,%d]",
			in.Dst.Parts, in.Dst.FreeElems(), in.Axes, src.Parts, src.FreeElems(), src.Parts, outer)
	}
	return nil
}

// exec runs one instruction whose operands newMachine checked.
func (m *machine) exec(in *Instr) {
	switch in.Op {
	case OpMatmul:
		m.matmul(in)
	case OpTranspose:
		m.transpose(in)
	case OpActivation:
		m.activation(in)
	case OpTensorTensor:
		m.tensorTensor(in)
	case OpTensorScalar:
		m.tensorScalar(in)
	case OpTensorReduce:
		m.tensorReduce(in)
	case OpBNStats:
		m.bnStats(in)
	case OpBNAggr:
		m.bnAggr(in)
	case OpTensorCopy:
		m.copyAP(in.Dst, in.Src[0])
	case OpMemset:
		m.memset(in)
	case OpIota:
		m.iota(in)
	case OpAffineSelect:
		m.affineSelect(in)
	case OpDMA:
		m.copyAP(in.Dst, in.Src[0])
	}
}
