package isa

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text assembly: one directive or instruction per line.
//
//	; a comment runs from ';' to the end of the line
//	.program matmul:M=512,N=512,K=384,batch=1,dtype=bf16,variant=tiled
//	.tensor AT input bf16 [1,384,512]
//	.site 0 github.com/trnsim/trnsim/kernels.matmulNeuron /src/kernels/matmul.go:57
//	dma_copy dma.0 sbuf[0:128]@0 bf16 {1x128} <- hbm:AT[0:128:512]@0 bf16 {1x128} ; site 0 matmul.go:57
//	nc_matmul tensor psum[0:128]@0 fp32 {1x512} <- sbuf[0:128]@0 bf16 {1x128}, sbuf[0:128]@256 bf16 {1x512} acc=0 ; site 3 matmul.go:60
//
// An instruction is OPCODE ENGINE[.QUEUE] DST [<- SRC0[, SRC1[, SRC2]]]
// [key=value ...] [; site N ...]. An unused operand slot is written "_";
// trailing unused sources are left out. An operand is
//
//	MEM[:TENSOR][START:END[:PSTRIDE]]@OFFSET DTYPE {STRIDExCOUNT,...}
//
// with the partition (or, in HBM, row) range START:END, the row stride
// PSTRIDE (HBM only), the byte offset within a partition (SBUF, PSUM) or
// element offset within the tensor (HBM), and the free dimensions outermost
// first, in elements. TENSOR is a declared tensor's name or #INDEX.
//
// Attributes, each printed only where it is set or the opcode uses it:
// acc=0|1, double_row=1, act=NAME, alu0=NAME, alu1=NAME, imm0=FLOAT,
// imm1=FLOAT, axes=N, negate=1, base=N, pmul=N, fmul=N[,N...], cmp=NAME,
// red=OPERAND. Floats print in the shortest form that reads back to the
// same float32. The comment "; site N" binds the instruction to source
// site N (declared by .site; without it the instruction has site -1).
//
// Sites keep their function, file and line; program counters do not
// survive text, so Parse leaves Site.PC zero.

// SyntaxError reports a line of assembly that Parse cannot read.
type SyntaxError struct {
	Line int // 1-based line number
	Col  int // 1-based byte column, 0 if the whole line is at fault
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("assembly line %d, column %d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("assembly line %d: %s", e.Line, e.Msg)
}

// asmBuf builds one line of assembly without per-field allocations.
type asmBuf []byte

func (b *asmBuf) str(s string) { *b = append(*b, s...) }
func (b *asmBuf) ch(c byte)    { *b = append(*b, c) }
func (b *asmBuf) num(v int)    { *b = strconv.AppendInt(*b, int64(v), 10) }

// asmMaxLine bounds one line of assembly.
const asmMaxLine = 1 << 20

// formatAP writes an operand without a program: HBM tensors as #INDEX.
func formatAP(a AP) string {
	var b asmBuf
	writeAP(&b, &a, nil)
	return string(b)
}

// writeAP writes one operand. With p, an HBM tensor is written by name
// when the name reads back to the same index.
func writeAP(sb *asmBuf, a *AP, p *Program) {
	sb.str(a.Mem.String())
	if a.Mem > PSUM {
		sb.num(int(a.Mem))
	}
	if a.Mem == HBM || a.Tensor != 0 {
		sb.ch(':')
		if p != nil && a.Tensor >= 0 && int(a.Tensor) < len(p.Tensors) && asmIdent(p.Tensors[a.Tensor].Name) &&
			p.TensorIndex(p.Tensors[a.Tensor].Name) == int(a.Tensor) {
			sb.str(p.Tensors[a.Tensor].Name)
		} else {
			sb.ch('#')
			sb.num(int(a.Tensor))
		}
	}
	sb.ch('[')
	sb.num(int(a.Start))
	sb.ch(':')
	sb.num(int(a.Start) + int(a.Parts))
	if a.PStride != 0 {
		sb.ch(':')
		sb.num(a.PStride)
	}
	sb.str("]@")
	sb.num(a.Offset)
	sb.ch(' ')
	sb.str(a.DType.String())
	sb.ch(' ')
	writeDims(sb, a)
}

func writeDims(sb *asmBuf, a *AP) {
	sb.ch('{')
	for d := range min(max(a.NFree, 0), MaxFreeDims) {
		if d > 0 {
			sb.ch(',')
		}
		sb.num(int(a.Free[d].Stride))
		sb.ch('x')
		sb.num(int(a.Free[d].Count))
	}
	sb.ch('}')
}

// asmIdent reports whether a tensor name can appear bare in an operand.
func asmIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '.' || r == '-'))) {
			return false
		}
	}
	return true
}

// asmQuote returns s bare when it reads back as one word, else Go-quoted.
func asmQuote(s string) string {
	if s == "" || !utf8.ValidString(s) || strings.ContainsAny(s, ";\"") {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func asmFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// Print writes p as text assembly that Parse reads back to an equal
// Program (program counters aside: see the package's assembly notes).
// Sites recorded by PC are written resolved, as p.Resolve would leave
// them; p itself is not changed. Print refuses values that have no text form (an unknown
// opcode, engine, dtype, memory or enum, more than four free dimensions).
func Print(w io.Writer, p *Program) error {
	bw := bufio.NewWriter(w)
	var sb asmBuf
	sb.str(".program ")
	sb.str(asmQuote(p.Name))
	sb.ch('\n')
	for i, t := range p.Tensors {
		if t.Kind > Scratch || t.DType >= numDTypes {
			return fmt.Errorf("isa.Print: tensor %d %q: kind %d or dtype %d has no assembly name", i, t.Name, t.Kind, t.DType)
		}
		sb.str(".tensor ")
		sb.str(asmQuote(t.Name))
		sb.ch(' ')
		sb.str(t.Kind.String())
		sb.ch(' ')
		sb.str(t.DType.String())
		sb.str(" [")
		for k, d := range t.Shape {
			if k > 0 {
				sb.ch(',')
			}
			sb.num(d)
		}
		sb.str("]\n")
	}
	sites := resolvedSites(p.Sites)
	for i, s := range sites {
		sb.str(".site ")
		sb.num(i)
		sb.ch(' ')
		sb.str(asmQuote(s.Func))
		sb.ch(' ')
		sb.str(asmQuote(s.File))
		sb.ch(':')
		sb.num(s.Line)
		sb.ch('\n')
	}
	if _, err := bw.Write(sb); err != nil {
		return err
	}
	for i := range p.Instrs {
		sb = sb[:0]
		if err := writeInstr(&sb, p, sites, i); err != nil {
			return err
		}
		sb.ch('\n')
		if _, err := bw.Write(sb); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeInstr writes instruction i of p as one line: the operation and its
// operands, the attributes its opcode uses or that are set, and its source
// site as a comment. It refuses values without a text form first, so
// nothing is written for them.
func writeInstr(sb *asmBuf, p *Program, sites []Site, i int) error {
	in := &p.Instrs[i]
	if err := checkPrintable(in, i); err != nil {
		return err
	}
	writeOperation(sb, in, p)
	writeAttrs(sb, in, p)
	writeSiteComment(sb, in, sites)
	return nil
}

// checkPrintable reports values of instruction i that have no assembly
// form: an unknown opcode, engine or enum, an operand with an unknown
// memory or dtype, or free dimensions beyond the operand's count.
func checkPrintable(in *Instr, i int) error {
	bad := func(what string, v uint8) error {
		return fmt.Errorf("isa.Print: instr %d: %s %d has no assembly name", i, what, v)
	}
	switch {
	case in.Op >= NumOpcodes:
		return bad("opcode", uint8(in.Op))
	case in.Engine >= NumEngines:
		return bad("engine", uint8(in.Engine))
	case in.Act >= NumActFuncs:
		return bad("activation function", uint8(in.Act))
	case in.ALU[0] >= NumALUOps:
		return bad("ALU op", uint8(in.ALU[0]))
	case in.ALU[1] >= NumALUOps:
		return bad("ALU op", uint8(in.ALU[1]))
	case in.Affine.Cmp >= NumCmpOps:
		return bad("comparison", uint8(in.Affine.Cmp))
	}
	for k := range numSlots {
		ap := in.slot(k)
		if *ap == (AP{}) {
			continue
		}
		if ap.Mem > PSUM || ap.DType >= numDTypes || ap.NFree > MaxFreeDims {
			return fmt.Errorf("isa.Print: instr %d: %s operand has memory %d, dtype %d, %d free dims: no assembly form",
				i, slotName(in.Op, k), ap.Mem, ap.DType, ap.NFree)
		}
		for d := ap.NFree; d < MaxFreeDims; d++ {
			if ap.Free[d] != (Dim{}) {
				return fmt.Errorf("isa.Print: instr %d: %s operand sets free dimension %d beyond its %d", i, slotName(in.Op, k), d, ap.NFree)
			}
		}
	}
	return nil
}

// writeOperation writes "opcode engine[.queue] dst <- src0, src1, ...":
// the sources up to the last one used.
func writeOperation(sb *asmBuf, in *Instr, p *Program) {
	sb.str(in.Op.String())
	sb.ch(' ')
	sb.str(in.Engine.String())
	if in.Engine == DMA || in.Queue != 0 {
		sb.ch('.')
		sb.num(int(in.Queue))
	}
	sb.ch(' ')
	writeSlot(sb, &in.Dst, p)
	nsrc := 0
	for k := range in.Src {
		if in.Src[k] != (AP{}) {
			nsrc = k + 1
		}
	}
	for k := range nsrc {
		if k == 0 {
			sb.str(" <- ")
		} else {
			sb.str(", ")
		}
		writeSlot(sb, &in.Src[k], p)
	}
}

// writeAttrs writes the key=value attributes: each one the opcode uses
// (so a reader sees it, even at its zero value) and any other that is
// set (so nothing is lost in a round trip).
func writeAttrs(sb *asmBuf, in *Instr, p *Program) {
	op := in.Op
	attr := func(key, val string) {
		sb.ch(' ')
		sb.str(key)
		sb.ch('=')
		sb.str(val)
	}
	attrInt := func(key string, v int) { attr(key, strconv.Itoa(v)) }
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	if op == OpMatmul || in.Accumulate {
		attr("acc", flag(in.Accumulate))
	}
	if in.DoubleRow {
		attr("double_row", "1")
	}
	if op == OpActivation || in.Act != 0 {
		attr("act", in.Act.String())
	}
	usesALU0 := op == OpTensorTensor || op == OpTensorScalar || op == OpTensorReduce
	if usesALU0 || in.ALU[0] != 0 {
		attr("alu0", in.ALU[0].String())
	}
	if op == OpTensorScalar || in.ALU[1] != 0 {
		attr("alu1", in.ALU[1].String())
	}
	usesImm0 := op == OpMemset || op == OpAffineSelect ||
		(op == OpActivation && !in.Src[2].Used()) || (op == OpTensorScalar && !in.Src[1].Used())
	if usesImm0 || math.Float32bits(in.Imm[0]) != 0 {
		attr("imm0", asmFloat(in.Imm[0]))
	}
	usesImm1 := (op == OpActivation && !in.Src[1].Used()) || (op == OpTensorScalar && !in.Src[2].Used() && in.ALU[1] != ALUBypass)
	if usesImm1 || math.Float32bits(in.Imm[1]) != 0 {
		attr("imm1", asmFloat(in.Imm[1]))
	}
	if op == OpTensorReduce || in.Axes != 0 {
		attrInt("axes", int(in.Axes))
	}
	if in.Negate {
		attr("negate", "1")
	}
	writeAffine(sb, in, attr, attrInt)
	if in.Red != (AP{}) {
		sb.str(" red=")
		writeAP(sb, &in.Red, p)
	}
}

// writeAffine writes the affine attributes (base, pmul, fmul, cmp) that
// iota and affine_select use or that are set.
func writeAffine(sb *asmBuf, in *Instr, attr func(key, val string), attrInt func(key string, v int)) {
	af := &in.Affine
	usesAffine := in.Op == OpIota || in.Op == OpAffineSelect
	if usesAffine || af.Base != 0 {
		attrInt("base", af.Base)
	}
	if usesAffine || af.PMul != 0 {
		attrInt("pmul", af.PMul)
	}
	if af.FMul != ([MaxFreeDims]int{}) {
		n := MaxFreeDims
		for n > 1 && af.FMul[n-1] == 0 {
			n--
		}
		var fs []string
		for _, v := range af.FMul[:n] {
			fs = append(fs, strconv.Itoa(v))
		}
		attr("fmul", strings.Join(fs, ","))
	}
	if in.Op == OpAffineSelect || af.Cmp != 0 {
		attr("cmp", af.Cmp.String())
	}
}

// writeSiteComment writes "; site N file:line" for an instruction with a
// source site (the file and line when the site is resolved).
func writeSiteComment(sb *asmBuf, in *Instr, sites []Site) {
	if in.Site == -1 {
		return
	}
	sb.str(" ; site ")
	sb.num(int(in.Site))
	if in.Site >= 0 && int(in.Site) < len(sites) {
		if s := sites[in.Site]; s.File != "" {
			sb.ch(' ')
			sb.str(asmQuote(path.Base(s.File)))
			sb.ch(':')
			sb.num(s.Line)
		}
	}
}

// resolvedSites returns sites with every site recorded by PC resolved to
// function, file and line, copying only when one needs it: Print keeps
// source lines without changing the program it prints.
func resolvedSites(sites []Site) []Site {
	var out []Site
	for i, s := range sites {
		if s.PC == 0 || s.File != "" {
			continue
		}
		if out == nil {
			out = slices.Clone(sites)
		}
		f, _ := runtime.CallersFrames([]uintptr{s.PC}).Next()
		out[i].Func, out[i].File, out[i].Line = f.Function, f.File, f.Line
	}
	if out == nil {
		return sites
	}
	return out
}

func writeSlot(sb *asmBuf, a *AP, p *Program) {
	if *a == (AP{}) {
		sb.ch('_')
		return
	}
	writeAP(sb, a, p)
}

// Parse reads text assembly written by Print (or by hand) into a Program.
// It checks syntax only; run Validate for the architecture's rules. Errors
// are *SyntaxError naming the line, except errors reading r.
func Parse(r io.Reader) (*Program, error) { return parse(r, MaxAsmInstrs) }

// parse is Parse with a bound on the instructions read.
func parse(r io.Reader, maxInstrs int) (*Program, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), asmMaxLine)
	ps := &asmParser{prog: &Program{}, maxInstrs: maxInstrs}
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if err := ps.line(n, line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &SyntaxError{Line: n + 1, Msg: fmt.Sprintf("line longer than %d bytes", asmMaxLine)}
		}
		return nil, fmt.Errorf("isa.Parse: %w", err)
	}
	return ps.prog, nil
}

type asmParser struct {
	prog      *Program
	maxInstrs int  // more instructions are an error
	named     bool // a .program directive was read
	s         string
	pos       int
	lineNum   int
}

// errAt is a syntax error at byte offset pos of the current line.
func (ps *asmParser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Line: ps.lineNum, Col: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

func (ps *asmParser) skipSpace() {
	for ps.pos < len(ps.s) {
		r, n := utf8.DecodeRuneInString(ps.s[ps.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		ps.pos += n
	}
}

// atEnd reports whether only blanks or a comment remain.
func (ps *asmParser) atEnd() bool {
	ps.skipSpace()
	return ps.pos == len(ps.s) || ps.s[ps.pos] == ';'
}

func (ps *asmParser) peek() byte {
	if ps.pos < len(ps.s) {
		return ps.s[ps.pos]
	}
	return 0
}

func (ps *asmParser) expect(c byte) error {
	if ps.peek() != c {
		return ps.errAt(ps.pos, "want %q, found %s", c, ps.found())
	}
	ps.pos++
	return nil
}

// found describes what is at the cursor, for error messages.
func (ps *asmParser) found() string {
	if ps.pos >= len(ps.s) {
		return "end of line"
	}
	rest := ps.s[ps.pos:]
	if len(rest) > 16 {
		rest = rest[:16] + "…"
	}
	return strconv.Quote(rest)
}

// word reads a run of bytes up to a blank, a ';' or any byte in stop.
func (ps *asmParser) word(stop string) string {
	start := ps.pos
	for ps.pos < len(ps.s) {
		c := ps.s[ps.pos]
		if c == ';' || c == ' ' || c == '\t' || c == '\v' || c == '\f' || strings.IndexByte(stop, c) >= 0 {
			break
		}
		r, n := utf8.DecodeRuneInString(ps.s[ps.pos:])
		if unicode.IsSpace(r) {
			break
		}
		ps.pos += n
	}
	return ps.s[start:ps.pos]
}

// str reads a bare word or a Go-quoted string; stop ends a bare word.
func (ps *asmParser) str(what, stop string) (string, error) {
	ps.skipSpace()
	start := ps.pos
	if ps.peek() == '"' {
		q, err := strconv.QuotedPrefix(ps.s[ps.pos:])
		if err != nil {
			return "", ps.errAt(start, "%s: malformed quoted string", what)
		}
		ps.pos += len(q)
		v, err := strconv.Unquote(q)
		if err != nil {
			return "", ps.errAt(start, "%s: malformed quoted string", what)
		}
		return v, nil
	}
	w := ps.word(stop)
	if w == "" {
		return "", ps.errAt(start, "want %s, found %s", what, ps.found())
	}
	return w, nil
}

// integer reads an optionally signed decimal integer.
func (ps *asmParser) integer(what string) (int, error) {
	start := ps.pos
	if c := ps.peek(); c == '+' || c == '-' {
		ps.pos++
	}
	for ps.pos < len(ps.s) && ps.s[ps.pos] >= '0' && ps.s[ps.pos] <= '9' {
		ps.pos++
	}
	v, err := strconv.Atoi(ps.s[start:ps.pos])
	if err != nil {
		ps.pos = start
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, ps.errAt(start, "%s %s out of range", what, ne.Num)
		}
		return 0, ps.errAt(start, "want %s (an integer), found %s", what, ps.found())
	}
	return v, nil
}

// intIn reads an integer within [lo, hi].
func (ps *asmParser) intIn(what string, lo, hi int) (int, error) {
	start := ps.pos
	v, err := ps.integer(what)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		return 0, ps.errAt(start, "%s %d out of range %d..%d", what, v, lo, hi)
	}
	return v, nil
}

// enum reads a word from names and returns its index.
func (ps *asmParser) enum(what string, names []string, stop string) (int, error) {
	start := ps.pos
	w := ps.word(stop)
	for i, n := range names {
		if n == w {
			return i, nil
		}
	}
	return 0, ps.errAt(start, "unknown %s %q (allowed: %s)", what, w, strings.Join(names, ", "))
}

func (ps *asmParser) line(n int, s string) error {
	ps.s, ps.pos, ps.lineNum = s, 0, n
	if ps.atEnd() {
		return nil
	}
	start := ps.pos
	var err error
	if ps.peek() == '.' {
		switch d := ps.word(""); d {
		case ".program":
			err = ps.program(start)
		case ".tensor":
			err = ps.tensor()
		case ".site":
			err = ps.site()
		default:
			return ps.errAt(start, "unknown directive %q (allowed: .program, .tensor, .site)", d)
		}
	} else {
		err = ps.instr()
	}
	if err != nil {
		return err
	}
	if !ps.atEnd() {
		return ps.errAt(ps.pos, "unexpected %s", ps.found())
	}
	return nil
}

func (ps *asmParser) program(start int) error {
	if ps.named {
		return ps.errAt(start, "second .program directive")
	}
	name, err := ps.str("program name", "")
	if err != nil {
		return err
	}
	ps.prog.Name, ps.named = name, true
	return nil
}

var asmKindNames = []string{"input", "output", "scratch"}

func (ps *asmParser) tensor() error {
	name, err := ps.str("tensor name", "")
	if err != nil {
		return err
	}
	ps.skipSpace()
	kind, err := ps.enum("tensor kind", asmKindNames, "")
	if err != nil {
		return err
	}
	ps.skipSpace()
	dt, err := ps.dtype("[")
	if err != nil {
		return err
	}
	ps.skipSpace()
	if err := ps.expect('['); err != nil {
		return err
	}
	var shape []int
	for ps.skipSpace(); ps.peek() != ']'; ps.skipSpace() {
		if len(shape) > 0 {
			if err := ps.expect(','); err != nil {
				return err
			}
			ps.skipSpace()
		}
		d, err := ps.integer("dimension")
		if err != nil {
			return err
		}
		shape = append(shape, d)
	}
	ps.pos++
	ps.prog.Tensors = append(ps.prog.Tensors, TensorDecl{Name: name, Kind: TensorKind(kind), DType: dt, Shape: shape})
	return nil
}

func (ps *asmParser) dtype(stop string) (DType, error) {
	start := ps.pos
	w := ps.word(stop)
	d, err := ParseDType(w)
	if err != nil {
		return 0, ps.errAt(start, "%v", err)
	}
	return d, nil
}

func (ps *asmParser) site() error {
	ps.skipSpace()
	idx, err := ps.integer("site index")
	if err != nil {
		return err
	}
	if idx != len(ps.prog.Sites) {
		return ps.errAt(ps.pos-1, "site %d out of order: want site %d next", idx, len(ps.prog.Sites))
	}
	fn, err := ps.str("function name", "")
	if err != nil {
		return err
	}
	ps.skipSpace()
	start := ps.pos
	var file string
	var line int
	if ps.peek() == '"' {
		if file, err = ps.str("file", ""); err != nil {
			return err
		}
		if err := ps.expect(':'); err != nil {
			return err
		}
		if line, err = ps.integer("line"); err != nil {
			return err
		}
	} else {
		w := ps.word("")
		i := strings.LastIndexByte(w, ':')
		if i < 0 {
			return ps.errAt(start, "want FILE:LINE, found %q", w)
		}
		file = w[:i]
		if line, err = strconv.Atoi(w[i+1:]); err != nil {
			return ps.errAt(start+i+1, "want a line number, found %q", w[i+1:])
		}
	}
	ps.prog.Sites = append(ps.prog.Sites, Site{Func: fn, File: file, Line: line})
	return nil
}

// MaxAsmInstrs bounds the instructions of a program Parse reads: 4 Mi,
// the bound kernels.MaxInstrs puts on a built-in workload. A stored
// instruction with its timing state costs about 1 KB, so this keeps a
// hand-written or generated file within a few GB instead of running out of
// memory.
const MaxAsmInstrs = 1 << 22

// instr parses an instruction line in its states: the operation (opcode,
// engine, queue), the operands, the attributes, then a "; site N"
// comment. Operand and attribute values are decoded by slot, operand and
// attr.
func (ps *asmParser) instr() error {
	if len(ps.prog.Instrs) >= ps.maxInstrs {
		return ps.errAt(0, "more than %d instructions, the most a program may hold; split the program", ps.maxInstrs)
	}
	op, err := ps.enum("opcode", opNames[:], "")
	if err != nil {
		return err
	}
	// Build the instruction in place: an Instr is large enough that
	// copying it dominates parsing. On error Parse returns no program.
	ps.prog.Instrs = append(ps.prog.Instrs, Instr{Op: Opcode(op), Site: -1})
	in := &ps.prog.Instrs[len(ps.prog.Instrs)-1]
	if err := ps.engineQueue(in); err != nil {
		return err
	}
	if err := ps.operands(in); err != nil {
		return err
	}
	if err := ps.attrs(in); err != nil {
		return err
	}
	return ps.siteComment(in)
}

// engineQueue reads "engine" or "engine.queue".
func (ps *asmParser) engineQueue(in *Instr) error {
	ps.skipSpace()
	eng, err := ps.enum("engine", engineNames[:], ".")
	if err != nil {
		return err
	}
	in.Engine = Engine(eng)
	if ps.peek() == '.' {
		ps.pos++
		q, err := ps.intIn("queue", 0, math.MaxUint8)
		if err != nil {
			return err
		}
		in.Queue = uint8(q)
	}
	return nil
}

// operands reads "dst" and, after "<-", up to len(in.Src) sources.
func (ps *asmParser) operands(in *Instr) error {
	var err error
	ps.skipSpace()
	if in.Dst, err = ps.slot(); err != nil {
		return err
	}
	ps.skipSpace()
	if !strings.HasPrefix(ps.s[ps.pos:], "<-") {
		return nil
	}
	ps.pos += 2
	for k := 0; ; k++ {
		ps.skipSpace()
		if k == len(in.Src) {
			return ps.errAt(ps.pos, "more than %d sources", len(in.Src))
		}
		if in.Src[k], err = ps.slot(); err != nil {
			return err
		}
		ps.skipSpace()
		if ps.peek() != ',' {
			return nil
		}
		ps.pos++
	}
}

// attrs reads key=value attributes up to the end of the line or a
// comment; each key at most once.
func (ps *asmParser) attrs(in *Instr) error {
	var seen uint32 // attributes given, by index in asmAttrList
	for !ps.atEnd() {
		start := ps.pos
		key := ps.word("=")
		if ps.peek() != '=' {
			return ps.errAt(start, "want attribute key=value, found %q", key)
		}
		ps.pos++
		if k := slices.Index(asmAttrList, key); k >= 0 {
			if seen&(1<<k) != 0 {
				return ps.errAt(start, "attribute %s given twice", key)
			}
			seen |= 1 << k
		}
		if err := ps.attr(in, key, start); err != nil {
			return err
		}
	}
	return nil
}

// siteComment reads the rest of the line: a comment "; site N ..." binds
// the instruction to source site N; any other comment is ignored.
func (ps *asmParser) siteComment(in *Instr) error {
	if ps.pos >= len(ps.s) {
		return nil
	}
	ps.pos++
	ps.skipSpace()
	if rest := ps.s[ps.pos:]; rest == "site" || strings.HasPrefix(rest, "site ") || strings.HasPrefix(rest, "site\t") {
		ps.pos += len("site")
		ps.skipSpace()
		v, err := ps.intIn("site", math.MinInt32, math.MaxInt32)
		if err != nil {
			return err
		}
		in.Site = int32(v)
	}
	ps.pos = len(ps.s)
	return nil
}

var asmAttrList = []string{"acc", "double_row", "act", "alu0", "alu1", "imm0", "imm1", "axes", "negate", "base", "pmul", "fmul", "cmp", "red"}

func (ps *asmParser) attr(in *Instr, key string, start int) error {
	var err error
	boolean := func(dst *bool) error {
		v, err := ps.intIn(key, 0, 1)
		*dst = v == 1
		return err
	}
	float := func(dst *float32) error {
		s := ps.pos
		w := ps.word("")
		f, err := strconv.ParseFloat(w, 32)
		if err != nil {
			return ps.errAt(s, "%s: want a float32, found %q", key, w)
		}
		*dst = float32(f)
		return nil
	}
	alu := func(dst *ALUOp) error {
		v, err := ps.enum("ALU op", aluNames[:], "")
		*dst = ALUOp(v)
		return err
	}
	switch key {
	case "acc":
		err = boolean(&in.Accumulate)
	case "double_row":
		err = boolean(&in.DoubleRow)
	case "negate":
		err = boolean(&in.Negate)
	case "act":
		var v int
		v, err = ps.enum("activation function", actNames[:], "")
		in.Act = ActFunc(v)
	case "alu0":
		err = alu(&in.ALU[0])
	case "alu1":
		err = alu(&in.ALU[1])
	case "imm0":
		err = float(&in.Imm[0])
	case "imm1":
		err = float(&in.Imm[1])
	case "axes":
		var v int
		v, err = ps.intIn("axes", 0, math.MaxUint8)
		in.Axes = uint8(v)
	case "base":
		in.Affine.Base, err = ps.integer("base")
	case "pmul":
		in.Affine.PMul, err = ps.integer("pmul")
	case "fmul":
		for k := 0; ; k++ {
			if k == MaxFreeDims {
				return ps.errAt(ps.pos, "fmul: more than %d coefficients", MaxFreeDims)
			}
			if in.Affine.FMul[k], err = ps.integer("fmul coefficient"); err != nil {
				return err
			}
			if ps.peek() != ',' {
				break
			}
			ps.pos++
		}
	case "cmp":
		var v int
		v, err = ps.enum("comparison", cmpNames[:], "")
		in.Affine.Cmp = CmpOp(v)
	case "red":
		in.Red, err = ps.operand()
	default:
		return ps.errAt(start, "unknown attribute %q (allowed: %s)", key, strings.Join(asmAttrList, ", "))
	}
	return err
}

// slot reads "_" (an unused operand) or an operand.
func (ps *asmParser) slot() (AP, error) {
	if ps.peek() == '_' {
		ps.pos++
		return AP{}, nil
	}
	return ps.operand()
}

var asmMemNames = []string{"none", "hbm", "sbuf", "psum"}

// operand decodes "mem[:tensor][start:end[:stride]]@offset dtype{stride x count, ...}".
func (ps *asmParser) operand() (AP, error) {
	var a AP
	if err := ps.operandTensor(&a); err != nil {
		return a, err
	}
	if err := ps.partitions(&a); err != nil {
		return a, err
	}
	if err := ps.expect('@'); err != nil {
		return a, err
	}
	var err error
	if a.Offset, err = ps.integer("offset"); err != nil {
		return a, err
	}
	ps.skipSpace()
	if a.DType, err = ps.dtype("{"); err != nil {
		return a, err
	}
	ps.skipSpace()
	return a, ps.freeDims(&a)
}

// operandTensor decodes the memory and, for HBM, ":name" or ":#index".
func (ps *asmParser) operandTensor(a *AP) error {
	m, err := ps.enum("memory", asmMemNames, ":[")
	if err != nil {
		return err
	}
	a.Mem = Memory(m)
	if ps.peek() != ':' {
		return nil
	}
	ps.pos++
	start := ps.pos
	if ps.peek() == '#' {
		ps.pos++
		t, err := ps.intIn("tensor index", math.MinInt32, math.MaxInt32)
		if err != nil {
			return err
		}
		a.Tensor = int32(t)
		return nil
	}
	name := ps.word("[")
	t := ps.prog.TensorIndex(name)
	a.Tensor = int32(t)
	if t < 0 {
		return ps.errAt(start, "unknown tensor %q (declare it with .tensor first, or write #INDEX)", name)
	}
	return nil
}

// partitions decodes "[start:end]" or "[start:end:row_stride]".
func (ps *asmParser) partitions(a *AP) error {
	if err := ps.expect('['); err != nil {
		return err
	}
	startAt := ps.pos
	first, err := ps.intIn("start partition", math.MinInt32, math.MaxInt32)
	if err != nil {
		return err
	}
	a.Start = int32(first)
	if err := ps.expect(':'); err != nil {
		return err
	}
	end, err := ps.integer("end partition")
	if err != nil {
		return err
	}
	if end < first+math.MinInt32 || end > first+math.MaxInt32 {
		return ps.errAt(startAt, "partition range [%d:%d) out of range: at most %d partitions either way", first, end, math.MaxInt32)
	}
	a.Parts = int32(end - first)
	if ps.peek() == ':' {
		ps.pos++
		if a.PStride, err = ps.integer("row stride"); err != nil {
			return err
		}
	}
	return ps.expect(']')
}

// freeDims decodes "{stride x count, ...}", at most MaxFreeDims of them.
func (ps *asmParser) freeDims(a *AP) error {
	if err := ps.expect('{'); err != nil {
		return err
	}
	for ps.peek() != '}' {
		if a.NFree > 0 {
			if err := ps.expect(','); err != nil {
				return err
			}
		}
		if a.NFree == MaxFreeDims {
			return ps.errAt(ps.pos, "more than %d free dimensions", MaxFreeDims)
		}
		d := &a.Free[a.NFree]
		stride, err := ps.intIn("stride", math.MinInt32, math.MaxInt32)
		if err != nil {
			return err
		}
		d.Stride = int32(stride)
		if err := ps.expect('x'); err != nil {
			return err
		}
		count, err := ps.intIn("count", math.MinInt32, math.MaxInt32)
		if err != nil {
			return err
		}
		d.Count = int32(count)
		a.NFree++
	}
	ps.pos++
	return nil
}
