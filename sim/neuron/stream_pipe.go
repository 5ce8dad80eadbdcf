package neuron

import (
	"fmt"
	"sync/atomic"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// pipeChunk is how many instructions a Pipe hands over at once, and
// pipeDepth how many chunks may wait: about 1 MB in flight, whatever the
// program's length.
const (
	pipeChunk = 512
	pipeDepth = 4
)

// pipeMsg is one hand-over: a tensor declaration, or a run of consecutive
// instructions starting at index first.
type pipeMsg struct {
	tensor bool
	ti     int
	decl   isa.TensorDecl
	first  int
	instrs []isa.Instr
	marks  []pipeMark // loop events, each before instrs[pos]
}

// pipeMark is an isa.Looper call travelling with the instructions.
type pipeMark struct {
	pos                          int
	kind                         uint8
	i, next, count, period, sent int
	key                          uint64
	rot                          isa.LoopRotation // LoopMark's, copied
}

const (
	markLoop = iota // LoopMark
	markSkip        // LoopSkip
	markEnd         // LoopEnd
)

// pipeSteady is a steady state the timing goroutine found in loop number
// loop after skips skips of it (LoopSteady).
type pipeSteady struct{ loop, skips, period, at int }

// Pipe is a Stream that times on a goroutine of its own, so that building
// and validating a program (the kernel's loops and the Builder, on the
// caller's goroutine) overlaps timing it: the isa.Sink of a streaming
// Builder when a second core is free. Instructions travel in chunks of a
// few hundred, in order, so the figures are Stream's bit for bit and memory
// stays bounded. Close must be called once the Builder is done.
type Pipe struct {
	s      *Stream
	cur    []isa.Instr
	marks  []pipeMark // loop events among cur
	loops  int        // loops started by the Builder
	skips  int        // skips the Builder made in its current loop
	steady atomic.Pointer[pipeSteady]
	timed  int // skips the timing goroutine has made in its current loop
	first  int
	ch     chan pipeMsg
	free   chan []isa.Instr
	done   chan struct{}
	err    error       // the timing goroutine's first error; read after done
	failed atomic.Bool // err is set: the Builder should stop
	closed bool
}

// NewPipe starts a Pipe timing on one NeuronCore configured by cfg.
func NewPipe(cfg Config) (*Pipe, error) {
	s, err := NewStream(cfg)
	if err != nil {
		return nil, err
	}
	p := &Pipe{s: s, ch: make(chan pipeMsg, pipeDepth), free: make(chan []isa.Instr, pipeDepth+2), done: make(chan struct{})}
	p.cur = make([]isa.Instr, 0, pipeChunk)
	go p.time()
	return p, nil
}

// time is the timing goroutine: it replays the messages in order and,
// after an error, only drains them.
func (p *Pipe) time() {
	defer close(p.done)
	for m := range p.ch {
		if p.err == nil {
			if m.tensor {
				p.s.Tensor(m.ti, m.decl)
			} else {
				mk := m.marks
				for k := range m.instrs {
					for len(mk) > 0 && mk[0].pos == k {
						p.mark(&mk[0])
						mk = mk[1:]
					}
					if err := p.s.Instr(m.first+k, &m.instrs[k]); err != nil {
						p.err = err
						p.failed.Store(true)
						break
					}
				}
				for p.err == nil && len(mk) > 0 {
					p.mark(&mk[0])
					mk = mk[1:]
				}
			}
		}
		if m.instrs != nil {
			select {
			case p.free <- m.instrs[:0]:
			default:
			}
		}
	}
}

// mark replays a loop event on the timing goroutine and publishes a steady
// state it finds.
func (p *Pipe) mark(m *pipeMark) {
	s := p.s
	switch m.kind {
	case markLoop:
		hadP, hadAt := s.ff.period, s.ff.at
		s.LoopMark(m.i, m.key, m.next, &m.rot)
		if m.i == 0 {
			p.timed = 0
		}
		switch f := &s.ff; {
		case f.period == hadP && f.at == hadAt:
		case f.period == 0:
			p.steady.Store(nil) // the keys broke the period found
		default:
			p.steady.Store(&pipeSteady{loop: f.loop, skips: p.timed, period: f.period, at: f.at})
		}
	case markSkip:
		s.LoopSkip(m.i, m.count, m.period, m.sent)
		p.timed++
	case markEnd:
		s.LoopEnd()
	}
	if s.err != nil {
		p.err = s.err
		p.failed.Store(true)
	}
}

// LoopMark is the isa.Looper method; see Stream.LoopMark.
func (p *Pipe) LoopMark(i int, key uint64, next int, rot *isa.LoopRotation) {
	if i == 0 {
		p.loops++
		p.skips = 0
	}
	p.marks = append(p.marks, pipeMark{pos: len(p.cur), kind: markLoop, i: i, key: key, next: next, rot: rot.Clone()})
}

// LoopSteady is the isa.Looper method: what the timing goroutine has found
// in the Builder's current loop since the Builder's last skip (a steady
// state found before it describes a state the skip has moved on from).
func (p *Pipe) LoopSteady() (period, at int) {
	if v := p.steady.Load(); v != nil && v.loop == p.loops && v.skips == p.skips {
		return v.period, v.at
	}
	return 0, 0
}

// LoopSkip is the isa.Looper method; see Stream.LoopSkip.
func (p *Pipe) LoopSkip(i, count, period, instrs int) {
	p.marks = append(p.marks, pipeMark{pos: len(p.cur), kind: markSkip, i: i, count: count, period: period, sent: instrs})
	p.flush()
	p.first += instrs
	p.skips++
}

// LoopEnd is the isa.Looper method.
func (p *Pipe) LoopEnd() {
	p.marks = append(p.marks, pipeMark{pos: len(p.cur), kind: markEnd})
}

// FastForward is Stream.FastForward for the Stream the Pipe times on; call
// it before the first Tensor or Instr.
func (p *Pipe) FastForward(on bool) { p.s.FastForward(on) }

// flush hands the current chunk and its loop events over.
func (p *Pipe) flush() {
	if len(p.cur) == 0 && len(p.marks) == 0 {
		return
	}
	p.ch <- pipeMsg{first: p.first, instrs: p.cur, marks: p.marks}
	p.marks = nil
	p.first += len(p.cur)
	select {
	case p.cur = <-p.free:
	default:
		p.cur = make([]isa.Instr, 0, pipeChunk)
	}
}

// Tensor declares HBM tensor i, after the instructions emitted before it.
func (p *Pipe) Tensor(i int, d isa.TensorDecl) {
	p.flush()
	p.ch <- pipeMsg{tensor: true, ti: i, decl: d}
}

// Instr queues instruction i for timing. It returns an error only once
// timing has failed, so that the Builder stops; Close returns that error.
func (p *Pipe) Instr(i int, in *isa.Instr) error {
	if p.failed.Load() {
		return errPipeFailed
	}
	if n := p.first + len(p.cur); i != n {
		return fmt.Errorf("neuron.Pipe: instruction %d arrived after %d", i, n)
	}
	p.cur = append(p.cur, *in)
	if len(p.cur) == pipeChunk {
		p.flush()
	}
	return nil
}

// errPipeFailed stops a Builder whose Pipe failed; Close returns the cause.
var errPipeFailed = pipeError{}

type pipeError struct{}

func (pipeError) Error() string { return "neuron.Pipe: timing failed" }

// Close times what is still queued, stops the timing goroutine and returns
// the report, or the first timing error. It may be called once.
func (p *Pipe) Close() (*sim.Report, error) {
	if !p.closed {
		p.closed = true
		p.flush()
		close(p.ch)
	}
	<-p.done
	if p.err != nil {
		return nil, p.err
	}
	if err := p.s.Err(); err != nil {
		return nil, err
	}
	return p.s.Report(), nil
}

// Instrs returns the number of instructions timed; call it after Close.
func (p *Pipe) Instrs() int { return p.s.Instrs() }

// Skipped is Stream.Skipped; call it after Close.
func (p *Pipe) Skipped() int { return p.s.Skipped() }

// KeepSpans is Stream.KeepSpans for the Stream the Pipe times on; call it
// before the first Tensor or Instr.
func (p *Pipe) KeepSpans(limit int) { p.s.KeepSpans(limit) }

// SpanReport is Stream.SpanReport of the Stream the Pipe timed on; call it
// after Close has returned no error.
func (p *Pipe) SpanReport(name string, sites []isa.Site) *sim.Report {
	<-p.done
	return p.s.SpanReport(name, sites)
}
