package isa

import (
	"fmt"
	"math"
	"math/bits"
	"path"
	"strconv"
	"strings"
)

// ValidationError reports one instruction, or one tensor declaration, that
// breaks a layout or access rule of the architecture.
type ValidationError struct {
	Index int    // instruction index; -1 for a tensor declaration
	Site  Site   // kernel source line that issued the instruction, resolved
	Op    Opcode // the instruction's opcode (meaningless when Index is -1)
	Rule  string // rule id, one of Rules()
	Msg   string // what is wrong and what is allowed
}

func (e *ValidationError) Error() string {
	var sb strings.Builder
	if e.Index < 0 {
		sb.WriteString("program")
	} else {
		sb.WriteString("instr ")
		sb.WriteString(strconv.Itoa(e.Index))
		sb.WriteString(" (")
		sb.WriteString(e.Op.String())
		sb.WriteByte(')')
		if e.Site.File != "" {
			sb.WriteString(" at ")
			sb.WriteString(shortFile(e.Site.File))
			sb.WriteByte(':')
			sb.WriteString(strconv.Itoa(e.Site.Line))
		}
	}
	sb.WriteString(": rule ")
	sb.WriteString(strconv.Quote(e.Rule))
	sb.WriteString(": ")
	sb.WriteString(e.Msg)
	return sb.String()
}

// shortFile keeps the last directory and the file name of a source path
// ("kernels/matmul.go"): enough to find the line, short enough to read.
func shortFile(file string) string {
	dir, base := path.Split(file)
	if dir == "" {
		return base
	}
	return path.Base(dir) + "/" + base
}

// Rule is one layout or access rule that Validate enforces.
type Rule struct {
	ID     string // stable short id, as in ValidationError.Rule
	Desc   string // one line: what must hold
	Source string // the docs/hardware.md row (or design rule) it comes from
}

// Rule ids. They are part of the error format users and tests match on:
// never rename one.
const (
	ruleTensorShape     = "tensor-shape"
	ruleTensorName      = "tensor-name"
	ruleTensorKind      = "tensor-kind"
	ruleTensorDType     = "tensor-dtype"
	ruleSiteIndex       = "site-index"
	ruleOpcode          = "opcode"
	ruleEnum            = "enum"
	ruleEngine          = "engine"
	ruleDMAQueue        = "dma-queue"
	ruleOperands        = "operands"
	ruleDTypeArch       = "dtype-arch"
	ruleAPFields        = "ap-fields"
	rulePartStride      = "part-stride"
	ruleFreeDims        = "free-dims"
	ruleFreeCount       = "free-count"
	ruleFreeStride      = "free-stride"
	rulePartCount       = "part-count"
	rulePartRange       = "part-range"
	rulePartStart       = "part-start"
	ruleSBUFExtent      = "sbuf-extent"
	rulePSUMExtent      = "psum-extent"
	ruleHBMTensor       = "hbm-tensor"
	ruleHBMExtent       = "hbm-extent"
	ruleComputeHBM      = "compute-hbm"
	ruleTensorEMem      = "tensor-engine-mem"
	ruleGpSimdPSUM      = "gpsimd-psum"
	ruleDMAMem          = "dma-mem"
	ruleFreeSize        = "free-size"
	ruleMatmulParts     = "matmul-parts"
	ruleMatmulK         = "matmul-k"
	ruleMatmulDoubleRow = "matmul-double-row"
	ruleMatmulM         = "matmul-m"
	ruleMatmulN         = "matmul-n"
	ruleMatmulDstShape  = "matmul-dst-shape"
	ruleMatmulBank      = "matmul-bank"
	ruleMatmulPSUMDType = "matmul-psum-dtype"
	ruleMatmulFP32Pair  = "matmul-fp32-pair"
	ruleTransposeSize   = "transpose-size"
	ruleTransposeShape  = "transpose-shape"
	ruleElemShape       = "elem-shape"
	rulePerPartition    = "per-partition"
	ruleActConstBias    = "act-const-bias"
	ruleScalarALU       = "scalar-alu"
	ruleReduceAxes      = "reduce-axes"
	ruleReduceShape     = "reduce-shape"
	ruleReduceOp        = "reduce-op"
	ruleAffineDims      = "affine-dims"
	ruleDMAElems        = "dma-elems"
	ruleBNShape         = "bn-shape"
)

// Rules returns every rule Validate enforces, in the order it checks them.
func Rules() []Rule {
	return []Rule{
		{ruleTensorShape, "a declared tensor has at least one dimension, every dimension positive, at most 2^50 bytes", "DESIGN.md: a bad shape is an error"},
		{ruleTensorName, "tensor names are non-empty and unique (inputs and outputs are found by name)", "isa.TensorDecl"},
		{ruleTensorKind, "a tensor is input, output or scratch", "isa.TensorKind"},
		{ruleTensorDType, "a tensor's dtype is one the generation supports", "A §2.2 Data types"},
		{ruleSiteIndex, "Instr.Site indexes Program.Sites or is -1", "isa.Instr.Site"},
		{ruleOpcode, "the opcode is one of the modelled instructions", "A §2.2 nki.isa instruction list"},
		{ruleEnum, "activation function, ALU ops and affine comparison are known values", "A §2.2 ALU ops, ScalarE activation functions"},
		{ruleEngine, "the instruction runs on an engine that implements it", "A §2.2 instruction list, Engine column; tensor_copy row (Scalar v3+)"},
		{ruleDMAQueue, "DMA instructions name one of the 16 queues; compute instructions have none", "A §3.3 Queues: 16 queues per DMA engine"},
		{ruleOperands, "the operand slots the opcode needs are used, the others are empty, memories are known", "isa.Instr operand slots"},
		{ruleDTypeArch, "every operand's dtype is one the generation supports", "A §2.2 Data types"},
		{ruleAPFields, "SBUF/PSUM patterns name no tensor; HBM patterns start at row 0 (rows come from Offset and PStride)", "isa.AP"},
		{rulePartStride, "SBUF/PSUM patterns cover contiguous partitions (no partition stride)", "A §1.4 No striding in P"},
		{ruleFreeDims, "an access pattern has 1 to 4 free dimensions; unused ones are zero", "A §1.4 F access pattern up to 4-D"},
		{ruleFreeCount, "free-dimension counts are ≥ 1, and ≤ 65535 (uint16) on SBUF/PSUM", "A §1.4 F access pattern size uint16"},
		{ruleFreeStride, "SBUF/PSUM free-dimension strides fit in int16 (elements)", "A §1.4 F access pattern stride int16"},
		{rulePartCount, "SBUF/PSUM patterns cover 1..128 partitions; HBM patterns at least one row", "A §1.4 Partition dim (P) max 128"},
		{rulePartRange, "the partition range lies within the generation's partitions", "A §1.4 Partition dim (P) max 128"},
		{rulePartStart, "compute-engine operands start where their size allows: P>64 at 0, P>32 at 0/64, P≤32 at 0/32/64/96", "A §1.4 start_partition rule"},
		{ruleSBUFExtent, "SBUF bytes touched lie within one partition's SBUF", "A §1.1 SBUF per partition"},
		{rulePSUMExtent, "PSUM bytes touched lie within one partition's PSUM", "A §1.1 PSUM 8 banks × 2 KiB per partition"},
		{ruleHBMTensor, "an HBM pattern names a declared tensor", "isa.AP"},
		{ruleHBMExtent, "HBM elements touched lie within the tensor", "DESIGN.md: HBM bounds"},
		{ruleComputeHBM, "compute engines never address HBM; only DMA does", "A §2.2 dma_copy; §1.3 engine-SRAM connectivity"},
		{ruleTensorEMem, "TensorE reads SBUF only and writes PSUM only (nc_matmul, nc_transpose)", "A §1.3 TensorE reads SBUF only, writes PSUM only; §2.2 nc_transpose SBUF→PSUM"},
		{ruleGpSimdPSUM, "GpSimdE cannot access PSUM", "A §1.3 GpSimdE cannot access PSUM"},
		{ruleDMAMem, "DMA copies HBM→SBUF, SBUF→HBM or SBUF→SBUF; PSUM cannot go to HBM directly", "A §2.2 dma_copy; nki.language store (PSUM cannot go directly to HBM)"},
		{ruleFreeSize, "a Vector/Scalar/GpSimd operand has at most 64K free elements in SBUF, 4K in PSUM", "A §1.4 Max F per Vector/Scalar instruction"},
		{ruleMatmulParts, "stationary and moving have the same partition count (the contraction K)", "A §2.2 nc_matmul stationary[K,M], moving[K,N]"},
		{ruleMatmulK, "the contraction K is at most MatmulMaxK partitions", "A §2.2 nc_matmul K ≤ 128"},
		{ruleMatmulDoubleRow, "double-row mode: fp8 operands, v3+, stationary [K,2,M] and moving [K,2,N]", "A §2.2 nc_matmul perf_mode=double_row"},
		{ruleMatmulM, "the stationary free size M is at most MatmulMaxM", "A §2.2 nc_matmul M ≤ 128"},
		{ruleMatmulN, "the moving free size N is at most MatmulMaxN", "A §2.2 nc_matmul N ≤ 512 (v2/v3), ≤ 4096 fp32 (v4)"},
		{ruleMatmulDstShape, "the destination is [M,N]", "A §2.2 nc_matmul dst[M,N]"},
		{ruleMatmulBank, "on v2/v3 the destination lies within one PSUM bank", "A §2.2 nc_matmul N ≤ 512 (one PSUM bank of 512 FP32)"},
		{ruleMatmulPSUMDType, "the destination is fp32 (bf16 where PSUM holds bf16, v4)", "A §1.1 Matmul output / accum"},
		{ruleMatmulFP32Pair, "an fp32 matmul operand pairs only with fp32", "A §2.2 nc_matmul fp32 pairs only with fp32/tf32"},
		{ruleTransposeSize, "nc_transpose on TensorE is at most 128×128", "A §2.2 nc_transpose Tensor ≤128×128"},
		{ruleTransposeShape, "nc_transpose of [P,F] writes [F,P]", "A §2.2 nc_transpose"},
		{ruleElemShape, "elementwise ops: every data source has the destination's partitions and free elements", "A §1.4 P is the lane dim; §2.2 tensor_tensor, tensor_scalar, activation, tensor_copy"},
		{rulePerPartition, "per-partition operands (bias, scale, tensor_scalar operands, activation reduce) are [P,1]", "A §2.2 activation bias [P,1]; tensor_scalar a/b const or [P,1]"},
		{ruleActConstBias, "on v2 an activation bias is a [P,1] tile, not a nonzero immediate", "A §2.2 activation bias [P,1] (v3+: also const)"},
		{ruleScalarALU, "tensor_scalar on ScalarE is mult+add, mult or add", "A §2.2 tensor_scalar: ScalarE only mult+add, mult, add"},
		{ruleReduceAxes, "tensor_reduce reduces 1..NFree trailing free axes, never P", "A §2.2 tensor_reduce: reduce trailing free axes only; never P"},
		{ruleReduceShape, "tensor_reduce writes [P, kept free dims]", "A §2.2 tensor_reduce"},
		{ruleReduceOp, "tensor_reduce reduces with add or max", "isa.OpTensorReduce"},
		{ruleAffineDims, "iota/affine_select free coefficients only for the destination's free dims", "A §2.2 iota, affine_select"},
		{ruleDMAElems, "a DMA copies as many elements as it reads", "A §2.2 dma_copy"},
		{ruleBNShape, "bn_stats reads [P,F≤512] and writes [P,6]; bn_aggr reads [P,3k] and writes [P,2]", "A §1.4 bn_stats ≤ 512; §2.2 bn_stats / bn_aggr"},
	}
}

// Validate checks p against the layout and access rules of arch (see
// Rules) and returns the first violation as a *ValidationError, or nil.
// Tensor declarations are checked first, then instructions in order.
// Validation allocates nothing for a valid program; source sites are
// resolved only to build an error.
func (p *Program) Validate(a Arch) error {
	if err := checkTensors(p, a); err != nil {
		return err
	}
	// The checker is built in place: it is about 110 KiB (its shape
	// table), which a Validator returned by value would copy.
	var c instrChecker
	c.init(p, a)
	for i := range p.Instrs {
		if e := c.checkAt(i); e != nil {
			return e
		}
	}
	return nil
}

// Validator checks a program's instructions one at a time, for callers
// that walk the program anyway (a timing model validates each instruction
// just before it times it, so the program streams through the cache once).
// Checking every index in order gives the same first error as Validate.
type Validator struct {
	c instrChecker
}

// Validator checks p's tensor declarations against a and returns a
// Validator for its instructions. The program must not change while the
// Validator is in use.
func (p *Program) Validator(a Arch) (Validator, error) {
	if err := checkTensors(p, a); err != nil {
		return Validator{}, err
	}
	var v Validator
	v.c.init(p, a)
	return v, nil
}

// checkTensors checks p's tensor declarations in order.
func checkTensors(p *Program, a Arch) error {
	for i := range p.Tensors {
		if e := checkTensor(p, a, i); e != nil {
			return e
		}
	}
	return nil
}

// newInstrChecker unpacks a for checking p's instructions.
func newInstrChecker(p *Program, a Arch) instrChecker {
	var c instrChecker
	c.init(p, a)
	return c
}

// init makes c an empty checker of p's instructions against a.
func (c *instrChecker) init(p *Program, a Arch) {
	// Field by field: a composite literal of the whole checker could
	// be built in a temporary and copied.
	*c = instrChecker{}
	c.p, c.a, c.nSites, c.nTensors = p, a, len(p.Sites), len(p.Tensors)
	c.sbufCap, c.psumCap = a.SBUFPartitionBytes, a.PSUMPartitionBytes()
	for _, d := range a.DTypes {
		if d < numDTypes {
			c.dtypes |= 1 << d
		}
	}
}

// Check checks instruction i (0 ≤ i < len(p.Instrs)) and returns its first
// violation as a *ValidationError, or nil.
func (v *Validator) Check(i int) error {
	if e := v.c.checkAt(i); e != nil {
		return e
	}
	return nil
}

// maxTensorBytes bounds a declared tensor so element arithmetic cannot
// overflow; it is far above any device's HBM.
const maxTensorBytes = 1 << 50

func checkTensor(p *Program, a Arch, i int) error {
	t := &p.Tensors[i]
	fail := func(rule, format string, args ...any) error {
		return &ValidationError{Index: -1, Rule: rule, Msg: fmt.Sprintf("tensor %d %q: ", i, t.Name) + fmt.Sprintf(format, args...)}
	}
	if len(t.Shape) == 0 {
		return fail(ruleTensorShape, "shape is empty; want at least one dimension")
	}
	n := 1
	for k, d := range t.Shape {
		if d <= 0 {
			return fail(ruleTensorShape, "dimension %d of shape %v is %d; every dimension must be positive", k, t.Shape, d)
		}
		if n > maxTensorBytes/d {
			return fail(ruleTensorShape, "shape %v has more than 2^50 elements", t.Shape)
		}
		n *= d
	}
	if t.Name == "" {
		return fail(ruleTensorName, "name is empty")
	}
	for j := range i {
		if p.Tensors[j].Name == t.Name {
			return fail(ruleTensorName, "name already used by tensor %d", j)
		}
	}
	if t.Kind > Scratch {
		return fail(ruleTensorKind, "kind %d is not input, output or scratch", t.Kind)
	}
	if t.DType >= numDTypes || !a.Supports(t.DType) {
		return fail(ruleTensorDType, "dtype %s is not supported on %s (allowed: %s)", t.DType, a.Name, dtypeList(a))
	} else if n > maxTensorBytes/t.DType.Size() {
		return fail(ruleTensorShape, "shape %v of %s is more than 2^50 bytes", t.Shape, t.DType)
	}
	return nil
}

func dtypeList(a Arch) string {
	var names []string
	for _, d := range a.DTypes {
		names = append(names, d.String())
	}
	return strings.Join(names, ", ")
}

// instrChecker validates one instruction at a time. The architecture's
// dtypes and capacities are unpacked once so that the per-instruction
// checks are plain integer comparisons.
type instrChecker struct {
	p                *Program
	a                Arch
	i                int
	in               *Instr
	dtypes           uint64 // bit d set when a supports dtype d
	nSites, nTensors int
	sbufCap, psumCap int // bytes per partition

	// shapes remembers instruction shapes that passed every rule (see
	// check_cache.go).
	shapes shapeTable
}

func (c *instrChecker) checkAt(i int) *ValidationError {
	c.i, c.in = i, &c.p.Instrs[i]
	return c.check()
}

// supports is a.Supports(d) from the unpacked dtype set.
func (c *instrChecker) supports(d DType) bool { return d < 64 && c.dtypes&(1<<d) != 0 }

func (c *instrChecker) fail(rule, format string, args ...any) *ValidationError {
	var site Site
	if k := c.in.Site; k >= 0 && int(k) < len(c.p.Sites) {
		site = c.p.Sites[k]
		if site.File == "" {
			site = siteOfPC(site.PC)
		}
	}
	return &ValidationError{Index: c.i, Site: site, Op: c.in.Op, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// Operand slots: 0 Dst, 1..3 Src[0..2], 4 Red.
const numSlots = 5

func (in *Instr) slot(k int) *AP {
	switch k {
	case 0:
		return &in.Dst
	case 4:
		return &in.Red
	}
	return &in.Src[k-1]
}

// slotName is the operand's name in messages, after nki.isa's argument
// names.
func slotName(op Opcode, k int) string {
	switch k {
	case 0:
		return "dst"
	case 4:
		return "reduce result"
	}
	switch op {
	case OpMatmul:
		return [...]string{"stationary", "moving", "src2"}[k-1]
	case OpActivation:
		return [...]string{"data", "bias", "scale"}[k-1]
	case OpTensorTensor:
		return [...]string{"data1", "data2", "src2"}[k-1]
	case OpTensorScalar:
		return [...]string{"data", "operand0", "operand1"}[k-1]
	}
	if k == 1 {
		return "src"
	}
	return "src" + strconv.Itoa(k-1)
}

// Slot use by opcode.
const (
	slotForbidden = iota
	slotRequired
	slotOptional
)

// slotUse returns, for dst, src0..2 and red, whether the opcode needs,
// may use or must leave empty each slot (see the Instr doc).
func slotUse(op Opcode) [numSlots]uint8 {
	const f, r, o = slotForbidden, slotRequired, slotOptional
	switch op {
	case OpMatmul, OpTensorTensor:
		return [numSlots]uint8{r, r, r, f, f}
	case OpActivation:
		return [numSlots]uint8{r, r, o, o, o}
	case OpTensorScalar:
		return [numSlots]uint8{r, r, o, o, f}
	case OpMemset, OpIota:
		return [numSlots]uint8{r, f, f, f, f}
	}
	// nc_transpose, tensor_reduce, tensor_copy, affine_select, dma_copy
	return [numSlots]uint8{r, r, f, f, f}
}

// engineOK reports whether engine e implements op on arch a
// (docs/hardware.md A §2.2, Engine column).
func engineOK(a *Arch, op Opcode, e Engine) bool {
	switch op {
	case OpMatmul, OpTranspose:
		return e == Tensor
	case OpActivation:
		return e == Scalar
	case OpTensorTensor:
		return e == Vector || e == GpSimd
	case OpTensorScalar:
		return e == Vector || e == Scalar || e == GpSimd
	case OpTensorReduce, OpBNStats, OpBNAggr:
		return e == Vector
	case OpTensorCopy:
		return e == Vector || e == GpSimd || (e == Scalar && a.ScalarCopy)
	case OpMemset:
		return e == Vector || e == GpSimd
	case OpIota, OpAffineSelect:
		return e == GpSimd
	case OpDMA:
		return e == DMA
	}
	return false
}

func enginesFor(a *Arch, op Opcode) string {
	var names []string
	for e := Engine(0); e < NumEngines; e++ {
		if engineOK(a, op, e) {
			names = append(names, e.String())
		}
	}
	return strings.Join(names, ", ")
}

// check checks c.in (instruction c.i): a remembered shape passes with
// the per-instruction checks of lookup; any other instruction goes
// through checkFull, and its shape is remembered when it passes.
func (c *instrChecker) check() *ValidationError {
	if c.lookup(c.in) {
		return nil
	}
	if e := c.checkFull(); e != nil {
		return e
	}
	c.remember(c.in)
	return nil
}

// checkFull applies every rule to c.in, in the order of Rules, and
// returns the first violation.
func (c *instrChecker) checkFull() *ValidationError {
	in, a := c.in, &c.a
	if in.Site < -1 || int(in.Site) >= c.nSites {
		return c.fail(ruleSiteIndex, "site %d out of range: the program has %d sites (or -1 for none)", in.Site, c.nSites)
	}
	if in.Op >= NumOpcodes {
		return c.fail(ruleOpcode, "unknown opcode %d (allowed: %s)", uint8(in.Op), strings.Join(opNames[:], ", "))
	}
	if in.Act >= NumActFuncs || in.ALU[0] >= NumALUOps || in.ALU[1] >= NumALUOps || in.Affine.Cmp >= NumCmpOps {
		return c.checkEnums()
	}
	if !engineOK(a, in.Op, in.Engine) {
		why := ""
		if in.Op == OpTensorCopy && in.Engine == Scalar {
			why = fmt.Sprintf(" (ScalarE tensor_copy is v3+; on %s use activation copy)", a.Name)
		}
		return c.fail(ruleEngine, "%s cannot run on %s%s (allowed on %s: %s)", in.Op, in.Engine, why, a.Name, enginesFor(a, in.Op))
	}
	if in.Engine == DMA && int(in.Queue) >= NumDMAQueues {
		return c.fail(ruleDMAQueue, "queue %d out of range: a DMA engine has %d queues (0..%d)", in.Queue, NumDMAQueues, NumDMAQueues-1)
	}
	if in.Engine != DMA && in.Queue != 0 {
		return c.fail(ruleDMAQueue, "queue %d set on a %s instruction; only DMA instructions have queues", in.Queue, in.Engine)
	}
	use := slotUse(in.Op)
	if e := c.checkSlot(0, &in.Dst, use[0]); e != nil {
		return e
	}
	if e := c.checkSlot(1, &in.Src[0], use[1]); e != nil {
		return e
	}
	if e := c.checkSlot(2, &in.Src[1], use[2]); e != nil {
		return e
	}
	if e := c.checkSlot(3, &in.Src[2], use[3]); e != nil {
		return e
	}
	if e := c.checkSlot(4, &in.Red, use[4]); e != nil {
		return e
	}
	if e := c.checkMemories(); e != nil {
		return e
	}
	switch in.Op {
	case OpMatmul:
		return c.checkMatmul()
	case OpTranspose:
		return c.checkTranspose()
	case OpActivation:
		return c.checkActivation()
	case OpTensorTensor:
		if e := c.sameShape(1); e != nil {
			return e
		}
		return c.sameShape(2)
	case OpTensorScalar:
		return c.checkTensorScalar()
	case OpTensorReduce:
		return c.checkReduce()
	case OpBNStats, OpBNAggr:
		return c.checkBN()
	case OpTensorCopy:
		return c.sameShape(1)
	case OpIota:
		return c.checkAffine()
	case OpAffineSelect:
		if e := c.sameShape(1); e != nil {
			return e
		}
		return c.checkAffine()
	case OpDMA:
		if d, s := satElems(&in.Dst), satElems(&in.Src[0]); d != s {
			return c.fail(ruleDMAElems, "dst has %d elements, src %d: a DMA copies element for element", d, s)
		}
	}
	return nil
}

// checkSlot checks operand slot k against the opcode's use of it, then
// the operand itself.
func (c *instrChecker) checkSlot(k int, ap *AP, use uint8) *ValidationError {
	in := c.in
	if ap.Mem == MemNone {
		switch {
		case use == slotRequired:
			return c.fail(ruleOperands, "%s needs a %s operand", in.Op, slotName(in.Op, k))
		case ap.zero():
		case use == slotForbidden:
			return c.fail(ruleOperands, "%s has no %s operand; the slot must be empty", in.Op, slotName(in.Op, k))
		default:
			return c.fail(ruleOperands, "unused %s operand must be empty (memory none with other fields set)", slotName(in.Op, k))
		}
		return nil
	}
	if use == slotForbidden {
		return c.fail(ruleOperands, "%s has no %s operand; the slot must be empty", in.Op, slotName(in.Op, k))
	}
	return c.checkAP(k, ap)
}

func (c *instrChecker) checkEnums() *ValidationError {
	in := c.in
	if in.Act >= NumActFuncs {
		return c.fail(ruleEnum, "unknown activation function %d (allowed: %s)", uint8(in.Act), strings.Join(actNames[:], ", "))
	}
	for k, op := range in.ALU {
		if op >= NumALUOps {
			return c.fail(ruleEnum, "unknown ALU op %d in slot %d (allowed: %s)", uint8(op), k, strings.Join(aluNames[:], ", "))
		}
	}
	if in.Affine.Cmp >= NumCmpOps {
		return c.fail(ruleEnum, "unknown affine comparison %d (allowed: %s)", uint8(in.Affine.Cmp), strings.Join(cmpNames[:], ", "))
	}
	return nil
}

// F access-pattern field limits (docs/hardware.md A §1.4 "F access pattern":
// size uint16, stride int16, in elements).
const (
	maxFreeCount  = math.MaxUint16
	minFreeStride = math.MinInt16
	maxFreeStride = math.MaxInt16
)

// checkAP checks one used operand on its own: dtype, free dimensions,
// partitions and extents. k is the operand's slot (see Instr.slot), used
// only to name it in an error.
func (c *instrChecker) checkAP(k int, ap *AP) *ValidationError {
	if ap.Mem > PSUM {
		return c.fail(ruleOperands, "%s has unknown memory %d (allowed: hbm, sbuf, psum)", c.name(k), uint8(ap.Mem))
	}
	if !c.supports(ap.DType) {
		return c.fail(ruleDTypeArch, "%s dtype %s is not supported on %s (allowed: %s)", c.name(k), ap.DType, c.a.Name, dtypeList(c.a))
	}
	if ap.NFree < 1 || ap.NFree > MaxFreeDims {
		return c.fail(ruleFreeDims, "%s has %d free dimensions; allowed 1..%d", c.name(k), ap.NFree, MaxFreeDims)
	}
	if unusedDimsSet(ap) {
		for d := ap.NFree; d < MaxFreeDims; d++ {
			if ap.Free[d] != (Dim{}) {
				return c.fail(ruleFreeDims, "%s free dimension %d is set but the pattern has %d", c.name(k), d, ap.NFree)
			}
		}
	}
	if ap.Mem == HBM {
		return c.checkHBM(k, ap)
	}
	if ap.Tensor != 0 {
		return c.fail(ruleAPFields, "%s in %s names tensor %d; only HBM patterns name tensors", c.name(k), ap.Mem, ap.Tensor)
	}
	if ap.PStride != 0 {
		return c.fail(rulePartStride, "%s has partition stride %d; an access covers contiguous partitions", c.name(k), ap.PStride)
	}
	parts, start, np := int(ap.Parts), int(ap.Start), c.a.Partitions
	if parts < 1 || parts > np {
		return c.fail(rulePartCount, "%s covers %d partitions; allowed 1..%d", c.name(k), parts, np)
	}
	if start < 0 || start > np-parts {
		return c.fail(rulePartRange, "%s partitions [%d:%d) exceed the %d partitions of %s", c.name(k), start, start+parts, np, ap.Mem)
	}
	if c.in.Engine != DMA && !startOK(start, parts) {
		return c.fail(rulePartStart, "%s starts at partition %d with %d partitions; %s", c.name(k), start, parts, allowedStarts(parts))
	}
	// Counts and strides are 16-bit once checked, so the span's terms
	// cannot overflow.
	minOff, maxOff := 0, 0
	for d := range ap.NFree {
		f := ap.Free[d]
		if f.Count < 1 || f.Count > maxFreeCount {
			return c.fail(ruleFreeCount, "%s free dimension %d has count %d; allowed 1..%d", c.name(k), d, f.Count, maxFreeCount)
		}
		if f.Stride < minFreeStride || f.Stride > maxFreeStride {
			return c.fail(ruleFreeStride, "%s free dimension %d has stride %d; allowed %d..%d (int16 elements)", c.name(k), d, f.Stride, minFreeStride, maxFreeStride)
		}
		if ext := int(f.Stride) * int(f.Count-1); ext < 0 {
			minOff += ext
		} else {
			maxOff += ext
		}
	}
	rule, capacity := ruleSBUFExtent, c.sbufCap
	if ap.Mem == PSUM {
		rule, capacity = rulePSUMExtent, c.psumCap
	}
	// The span cannot overflow once the offset is within ±2^40.
	const far = 1 << 40
	lo, hi := ap.Offset, ap.Offset
	if ap.Offset > -far && ap.Offset < far {
		sz := ap.DType.Size()
		lo, hi = ap.Offset+minOff*sz, ap.Offset+(maxOff+1)*sz
	}
	if lo < 0 || hi > capacity || ap.Offset <= -far || ap.Offset >= far {
		return c.fail(rule, "%s touches bytes [%d:%d) of each partition; %s has %d bytes per partition on %s", c.name(k), lo, hi, ap.Mem, capacity, c.a.Name)
	}
	return nil
}

// unusedDimsSet reports whether a free dimension beyond NFree (1..4) is
// nonzero, without a loop.
func unusedDimsSet(ap *AP) bool {
	f, n := &ap.Free, ap.NFree
	var x uint64
	if n < 4 {
		x |= dimBits(f[3])
	}
	if n < 3 {
		x |= dimBits(f[2])
	}
	if n < 2 {
		x |= dimBits(f[1])
	}
	return x != 0
}

// dimBits packs d into one word, Stride low as in memory, so that the
// compiler loads it with one instruction.
func dimBits(d Dim) uint64 { return uint64(uint32(d.Stride)) | uint64(uint32(d.Count))<<32 }

// name is operand slot k's name in messages.
func (c *instrChecker) name(k int) string { return slotName(c.in.Op, k) }

// startOK is the start-partition rule (docs/hardware.md A §1.4): P∈(64,128]
// starts at 0; P∈(32,64] at 0 or 64; P∈(0,32] at 0, 32, 64 or 96.
func startOK(start, parts int) bool {
	switch {
	case parts > 64:
		return start == 0
	case parts > 32:
		return start == 0 || start == 64
	}
	return start%32 == 0
}

func allowedStarts(parts int) string {
	switch {
	case parts > 64:
		return "more than 64 partitions must start at 0"
	case parts > 32:
		return "33..64 partitions must start at 0 or 64"
	}
	return "up to 32 partitions must start at 0, 32, 64 or 96"
}

// checkHBM checks an HBM operand. Its counts, strides and rows are not
// bounded by the engines' 16-bit fields; they must not be Narrow's
// saturation values, which stand for numbers an AP cannot hold.
func (c *instrChecker) checkHBM(k int, ap *AP) *ValidationError {
	if ap.Start != 0 {
		return c.fail(ruleAPFields, "%s in hbm has start %d; HBM rows are addressed by offset and row stride, start must be 0", c.name(k), ap.Start)
	}
	if ap.Tensor < 0 || int(ap.Tensor) >= c.nTensors {
		return c.fail(ruleHBMTensor, "%s names tensor %d; the program declares %d", c.name(k), ap.Tensor, c.nTensors)
	}
	if ap.Parts < 1 {
		return c.fail(rulePartCount, "%s covers %d rows; want at least 1", c.name(k), ap.Parts)
	}
	if ap.Parts == math.MaxInt32 {
		return c.fail(rulePartCount, "%s covers %d rows; allowed 1..%d", c.name(k), ap.Parts, math.MaxInt32-1)
	}
	for d := range ap.NFree {
		f := ap.Free[d]
		if f.Count < 1 {
			return c.fail(ruleFreeCount, "%s free dimension %d has count %d; want at least 1", c.name(k), d, f.Count)
		}
		if f.Count == math.MaxInt32 {
			return c.fail(ruleFreeCount, "%s free dimension %d has count %d; allowed 1..%d", c.name(k), d, f.Count, math.MaxInt32-1)
		}
		if f.Stride == math.MinInt32 || f.Stride == math.MaxInt32 {
			return c.fail(ruleFreeStride, "%s free dimension %d has stride %d; allowed %d..%d", c.name(k), d, f.Stride, math.MinInt32+1, math.MaxInt32-1)
		}
	}
	t := &c.p.Tensors[ap.Tensor]
	n := t.Elems()
	lo, hi, ok := hbmSpan(ap)
	if !ok || lo < 0 || hi > n {
		if !ok {
			return c.fail(ruleHBMExtent, "%s reaches beyond ±2^60 elements of tensor %q (%d elements)", c.name(k), t.Name, n)
		}
		return c.fail(ruleHBMExtent, "%s touches elements [%d:%d) of tensor %q, which has %d", c.name(k), lo, hi, t.Name, n)
	}
	return nil
}

// hbmSpan is AP.Span for HBM patterns with overflow checks: counts and
// strides there are not bounded by the engines' uint16/int16 fields.
// ok is false when a term exceeds 2^60 in magnitude.
func hbmSpan(ap *AP) (lo, hi int, ok bool) {
	const lim = 1 << 60
	if ap.Offset < -lim || ap.Offset > lim {
		return 0, 0, false
	}
	minOff, maxOff := 0, 0
	for d := range ap.NFree {
		f := ap.Free[d]
		if f.Count <= 1 {
			continue
		}
		// 32-bit stride and count: the product fits in 64 bits.
		t := int(f.Stride) * int(f.Count-1)
		if t < -lim || t > lim {
			return 0, 0, false
		}
		if t < 0 {
			minOff += t
		} else {
			maxOff += t
		}
	}
	if ps, n := ap.PStride, int(ap.Parts)-1; n > 0 && ps != 0 {
		mag := ps
		if mag < 0 {
			mag = -mag
		}
		// n < 2^31: the product can reach 2^60 only if the stride is
		// beyond 2^29, and only then is the division needed.
		if ps < -lim || ps > lim || mag >= 1<<29 && n > lim/mag {
			return 0, 0, false
		}
		if t := ps * n; t < 0 {
			minOff += t
		} else {
			maxOff += t
		}
	}
	return ap.Offset + minOff, ap.Offset + maxOff + 1, true
}

// satMax caps element counts so that products of validated counts never
// overflow; no real operand comes near it.
const satMax = 1 << 62

func satMul(x, y int) int {
	if x <= 0 || y <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(x), uint64(y))
	if hi != 0 || lo > satMax {
		return satMax
	}
	return int(lo)
}

// satFree is AP.FreeElems, saturating at satMax.
func satFree(ap *AP) int {
	if n, ok := smallFree(ap); ok {
		return n
	}
	n := 1
	for d := range min(ap.NFree, MaxFreeDims) {
		n = satMul(n, int(ap.Free[d].Count))
	}
	return n
}

// satElems is AP.Elems, saturating at satMax.
func satElems(ap *AP) int { return satMul(int(ap.Parts), satFree(ap)) }

// smallFree is AP.FreeElems when NFree is 1..4 and every count is 1 to
// 2^15−1, so the product is below 2^60 and needs no saturation (ok false
// otherwise).
func smallFree(ap *AP) (int, bool) {
	if ap.NFree < 1 || ap.NFree > MaxFreeDims {
		return 0, false
	}
	n, all := 1, uint32(0)
	for d := range ap.NFree {
		c := uint32(ap.Free[d].Count)
		all |= c - 1
		n *= int(c)
	}
	return n, all < 1<<15-1
}

// checkMemories applies the engine–memory connectivity rules (docs/hardware.md
// A §1.3) and the per-instruction free-size limits of §1.4.
func (c *instrChecker) checkMemories() *ValidationError {
	in, a := c.in, &c.a
	switch in.Engine {
	case DMA:
		d, s := in.Dst.Mem, in.Src[0].Mem
		if !(d == SBUF && (s == HBM || s == SBUF)) && !(d == HBM && s == SBUF) {
			why := ""
			if s == PSUM {
				why = "; PSUM cannot go to HBM or SBUF by DMA: copy it to SBUF with an engine first"
			}
			return c.fail(ruleDMAMem, "DMA from %s to %s%s (allowed: hbm→sbuf, sbuf→hbm, sbuf→sbuf)", s, d, why)
		}
		return nil
	case Tensor:
		for k := 1; k < numSlots; k++ {
			if ap := in.slot(k); ap.Mem != MemNone && ap.Mem != SBUF {
				return c.fail(ruleTensorEMem, "%s %s is in %s; TensorE reads SBUF only", in.Op, slotName(in.Op, k), ap.Mem)
			}
		}
		if in.Dst.Mem != PSUM {
			return c.fail(ruleTensorEMem, "%s dst is in %s; TensorE writes PSUM only", in.Op, in.Dst.Mem)
		}
		return nil
	}
	for k := range numSlots {
		ap := in.slot(k)
		if ap.Mem == MemNone {
			continue
		}
		switch {
		case ap.Mem == HBM:
			return c.fail(ruleComputeHBM, "%s %s is in HBM; %s cannot address HBM, load it to SBUF with a DMA", in.Op, slotName(in.Op, k), in.Engine)
		case ap.Mem == PSUM && in.Engine == GpSimd:
			return c.fail(ruleGpSimdPSUM, "%s %s is in PSUM; GpSimdE cannot access PSUM", in.Op, slotName(in.Op, k))
		}
		limit := a.MaxFreeSBUF
		if ap.Mem == PSUM {
			limit = a.MaxFreePSUM
		}
		if n := satFree(ap); n > limit {
			return c.fail(ruleFreeSize, "%s %s has %d free elements per partition; at most %d in %s for one %s instruction", in.Op, slotName(in.Op, k), n, limit, ap.Mem, in.Engine)
		}
	}
	return nil
}

func (c *instrChecker) checkMatmul() *ValidationError {
	in, a := c.in, &c.a
	st, mv, d := &in.Src[0], &in.Src[1], &in.Dst
	if st.Parts != mv.Parts {
		return c.fail(ruleMatmulParts, "stationary has %d partitions, moving %d; both are the contraction K", st.Parts, mv.Parts)
	}
	if int(st.Parts) > a.MatmulMaxK {
		return c.fail(ruleMatmulK, "contraction K=%d partitions exceeds %d on %s", st.Parts, a.MatmulMaxK, a.Name)
	}
	var m, n int
	if in.DoubleRow {
		switch {
		case !a.FP8DoubleRow:
			return c.fail(ruleMatmulDoubleRow, "double-row mode needs NeuronCore-v3 or later; %s has none", a.Name)
		case !st.DType.IsFP8() || !mv.DType.IsFP8():
			return c.fail(ruleMatmulDoubleRow, "double-row mode needs fp8 operands; stationary is %s, moving %s", st.DType, mv.DType)
		case st.NFree != 2 || st.Free[0].Count != 2:
			return c.fail(ruleMatmulDoubleRow, "double-row stationary must be [K,2,M]; it has free dims %s", dimsString(st))
		case mv.NFree != 2 || mv.Free[0].Count != 2:
			return c.fail(ruleMatmulDoubleRow, "double-row moving must be [K,2,N]; it has free dims %s", dimsString(mv))
		}
		m, n = int(st.Free[1].Count), int(mv.Free[1].Count)
	} else {
		m, n = satFree(st), satFree(mv)
	}
	if m > a.MatmulMaxM {
		return c.fail(ruleMatmulM, "stationary free size M=%d exceeds %d", m, a.MatmulMaxM)
	}
	if n > a.MatmulMaxN {
		where := "fp32 elements of PSUM"
		if a.MatmulNInBank {
			where = "one PSUM bank"
		}
		return c.fail(ruleMatmulN, "moving free size %d exceeds %d (%s on %s)", n, a.MatmulMaxN, where, a.Name)
	}
	if int(d.Parts) != m || satFree(d) != n {
		return c.fail(ruleMatmulDstShape, "dst is [%d,%d]; stationary and moving make it [%d,%d]", d.Parts, satFree(d), m, n)
	}
	if (st.DType == FP32) != (mv.DType == FP32) {
		return c.fail(ruleMatmulFP32Pair, "stationary is %s, moving %s; fp32 pairs only with fp32", st.DType, mv.DType)
	}
	if !(d.DType == FP32 || (d.DType == BF16 && a.PSUMBF16)) {
		allowed := "fp32"
		if a.PSUMBF16 {
			allowed = "fp32, bf16"
		}
		return c.fail(ruleMatmulPSUMDType, "dst dtype %s; matmul writes %s into PSUM on %s", d.DType, allowed, a.Name)
	}
	if bank := a.PSUMBankBytes; a.MatmulNInBank && bank > 0 {
		lo, hi := d.Span()
		if lo/bank != (hi-1)/bank {
			return c.fail(ruleMatmulBank, "dst bytes [%d:%d) cross a PSUM bank boundary; on %s a matmul writes within one %d-byte bank", lo, hi, a.Name, bank)
		}
	}
	return nil
}

func dimsString(ap *AP) string {
	var b asmBuf
	writeDims(&b, ap)
	return string(b)
}

func (c *instrChecker) checkTranspose() *ValidationError {
	a, src, d := &c.a, &c.in.Src[0], &c.in.Dst
	p, f := int(src.Parts), satFree(src)
	if p > a.MatmulMaxK || f > a.MatmulMaxM {
		return c.fail(ruleTransposeSize, "src is [%d,%d]; nc_transpose on TensorE is at most [%d,%d]", p, f, a.MatmulMaxK, a.MatmulMaxM)
	}
	if int(d.Parts) != f || satFree(d) != p {
		return c.fail(ruleTransposeShape, "dst is [%d,%d]; the transpose of [%d,%d] is [%d,%d]", d.Parts, satFree(d), p, f, f, p)
	}
	return nil
}

// sameShape checks that source slot k has the destination's partitions
// and free elements.
func (c *instrChecker) sameShape(k int) *ValidationError {
	d, s := &c.in.Dst, c.in.slot(k)
	if s.Parts != d.Parts || satFree(s) != satFree(d) {
		return c.fail(ruleElemShape, "%s is [%d,%d], dst [%d,%d]; elementwise operands agree in partitions and free elements",
			slotName(c.in.Op, k), s.Parts, satFree(s), d.Parts, satFree(d))
	}
	return nil
}

// perPartition checks that slot k, if used, is [P,1] with the
// destination's P.
func (c *instrChecker) perPartition(k int) *ValidationError {
	s := c.in.slot(k)
	if s.Mem == MemNone {
		return nil
	}
	if p := c.in.Dst.Parts; s.Parts != p || satFree(s) != 1 {
		return c.fail(rulePerPartition, "%s is [%d,%d]; a per-partition operand is [%d,1]", slotName(c.in.Op, k), s.Parts, satFree(s), p)
	}
	return nil
}

func (c *instrChecker) checkActivation() *ValidationError {
	if e := c.sameShape(1); e != nil {
		return e
	}
	for _, k := range [...]int{2, 3, 4} {
		if e := c.perPartition(k); e != nil {
			return e
		}
	}
	if in := c.in; !c.a.ConstBias && in.Src[1].Mem == MemNone && in.Imm[1] != 0 {
		return c.fail(ruleActConstBias, "immediate bias %v; on %s an activation bias must be a [P,1] tile (constant bias is v3+)", in.Imm[1], c.a.Name)
	}
	return nil
}

func (c *instrChecker) checkTensorScalar() *ValidationError {
	if e := c.sameShape(1); e != nil {
		return e
	}
	for _, k := range [...]int{2, 3} {
		if e := c.perPartition(k); e != nil {
			return e
		}
	}
	if in := c.in; in.Engine == Scalar {
		ok := (in.ALU[0] == ALUMul && (in.ALU[1] == ALUAdd || in.ALU[1] == ALUBypass)) ||
			(in.ALU[0] == ALUAdd && in.ALU[1] == ALUBypass)
		if !ok {
			return c.fail(ruleScalarALU, "tensor_scalar on scalar with ops %s, %s; ScalarE does multiply+add, multiply or add only", in.ALU[0], in.ALU[1])
		}
	}
	return nil
}

func (c *instrChecker) checkReduce() *ValidationError {
	in, src, d := c.in, &c.in.Src[0], &c.in.Dst
	if in.ALU[0] != ALUAdd && in.ALU[0] != ALUMax {
		return c.fail(ruleReduceOp, "reduce op %s; tensor_reduce reduces with add or max", in.ALU[0])
	}
	axes := int(in.Axes)
	if axes < 1 || axes > int(src.NFree) {
		return c.fail(ruleReduceAxes, "reduces %d axes of a source with %d free dims; allowed 1..%d (the partition dim is never reduced)", axes, src.NFree, src.NFree)
	}
	kept := 1
	for k := range int(src.NFree) - axes {
		kept = satMul(kept, int(src.Free[k].Count))
	}
	if d.Parts != src.Parts || satFree(d) != kept {
		return c.fail(ruleReduceShape, "dst is [%d,%d]; reducing the last %d axes of src [%d,%s] leaves [%d,%d]",
			d.Parts, satFree(d), axes, src.Parts, dimsString(src), src.Parts, kept)
	}
	return nil
}

func (c *instrChecker) checkAffine() *ValidationError {
	f, n := c.in.Affine.FMul, c.in.Dst.NFree
	for k := n; k < MaxFreeDims; k++ {
		if f[k] != 0 {
			return c.fail(ruleAffineDims, "free coefficient %d is %d but dst has %d free dims", k, f[k], n)
		}
	}
	return nil
}
