package neuron

import (
	"fmt"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Stream times a program as an isa.Builder emits it, without storing it:
// it is the isa.Sink of a streaming Builder (isa.NewStreamBuilder). It
// keeps the timing model's state and the report's aggregates, not one span
// per instruction, so its memory depends on the tiles and tensors a kernel
// touches, not on how many instructions it issues. The figures are those
// Run gives for the same program, bit for bit.
//
// A Stream trusts its Builder to validate (a streaming Builder checks every
// instruction against its architecture before handing it over): build it
// for cfg.Arch().
type Stream struct {
	r *runner
	n int // instructions timed
}

// NewStream returns a Stream timing on one NeuronCore configured by cfg.
func NewStream(cfg Config) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Stream{r: newTimer(cfg)}, nil
}

// Tensor declares HBM tensor i; tensors are declared in index order.
func (s *Stream) Tensor(i int, d isa.TensorDecl) {
	s.r.addTensor(i, d)
}

// Instr times instruction i, the next in program order.
func (s *Stream) Instr(i int, in *isa.Instr) error {
	if i != s.n {
		return fmt.Errorf("neuron.Stream: instruction %d arrived after %d", i, s.n)
	}
	if _, _, _, _, err := s.r.time(i, in); err != nil {
		return err
	}
	s.n++
	return nil
}

// Instrs returns the number of instructions timed.
func (s *Stream) Instrs() int { return s.n }

// Report returns the timing of the instructions received so far. It has no
// spans, program name or sources (Report.Spans, Program and Sources are
// unset): a trace or profile needs the stored program and Run.
func (s *Stream) Report() *sim.Report { return s.r.report() }
