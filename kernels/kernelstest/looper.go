package kernelstest

import "github.com/trnsim/trnsim/isa"

// Looper is an isa.Looper for tests that forces fast-forwards: it records
// every call and every instruction with its index, and from iteration
// From of each loop on reports a steady state of Period iterations found
// at From (Period 0: never), so Builder.Loop skips wherever its own rules
// allow.
type Looper struct {
	Period, From int

	Tensors []isa.TensorDecl
	Instrs  []Indexed  // the instructions received, in order
	Marks   []LoopMark // every LoopMark
	Skips   []LoopSkip // every LoopSkip
	Ends    int        // LoopEnd calls

	cur int // iteration of the last mark
}

// Indexed is an instruction and its index in the program.
type Indexed struct {
	I  int
	In isa.Instr
}

// LoopMark is one LoopMark call, with its rotation copied.
type LoopMark struct {
	I    int
	Key  uint64
	Next int
	Rot  isa.LoopRotation
}

// LoopSkip is one LoopSkip call; Next is the index of the first skipped
// instruction (the last mark's Next).
type LoopSkip struct {
	I, Count, Period, Instrs int
	Next                     int
}

// Tensor records a declared tensor.
func (l *Looper) Tensor(i int, d isa.TensorDecl) { l.Tensors = append(l.Tensors, d) }

// Instr records an instruction with its index.
func (l *Looper) Instr(i int, in *isa.Instr) error {
	l.Instrs = append(l.Instrs, Indexed{I: i, In: *in})
	return nil
}

// LoopMark records the mark.
func (l *Looper) LoopMark(i int, key uint64, next int, rot *isa.LoopRotation) {
	l.cur = i
	l.Marks = append(l.Marks, LoopMark{I: i, Key: key, Next: next, Rot: rot.Clone()})
}

// LoopSteady reports (Period, From) from iteration From of a loop on.
func (l *Looper) LoopSteady() (period, at int) {
	if l.Period > 0 && l.cur >= l.From {
		return l.Period, l.From
	}
	return 0, 0
}

// LoopSkip records the skip.
func (l *Looper) LoopSkip(i, count, period, instrs int) {
	next := 0
	if n := len(l.Marks); n > 0 {
		next = l.Marks[n-1].Next
	}
	l.Skips = append(l.Skips, LoopSkip{I: i, Count: count, Period: period, Instrs: instrs, Next: next})
}

// LoopEnd counts the end of a loop.
func (l *Looper) LoopEnd() { l.Ends++ }

// Skipped returns the number of instructions skipped.
func (l *Looper) Skipped() int {
	n := 0
	for _, s := range l.Skips {
		n += s.Instrs
	}
	return n
}
