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
	r       *runner
	n       int // instructions timed (or skipped by fast-forward)
	skipped int // instructions skipped by fast-forward
	ff      ffLoop
	ffOff   bool
	err     error // a failed fast-forward (*FastForwardError); stops the stream
}

// NewStream returns a Stream timing on one NeuronCore configured by cfg.
// Stream and Pipe fast-forward Builder.Loop's loops.
var (
	_ isa.Looper = (*Stream)(nil)
	_ isa.Looper = (*Pipe)(nil)
)

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

// KeepSpans makes s keep a span per instruction for a trace or profile;
// call it before the first instruction. Each span is a 40-byte record
// plus the bytes it moved and its operands in a compact encoding
// (sim.Spans): 83–86 bytes per instruction on tiled matmul and attention,
// instead of the stored program's 400 and more. The span's Site
// is the instruction's (an isa.Builder that keeps sites: KeepSites); the
// report of SpanReport resolves it. With limit > 0, an instruction beyond
// the first limit is an error (*SpanCapError), which stops the Builder.
func (s *Stream) KeepSpans(limit int) {
	s.r.keep = &spanKeeper{operands: true, limit: limit}
}

// Instr times instruction i, the next in program order.
func (s *Stream) Instr(i int, in *isa.Instr) error {
	if s.err != nil {
		return s.err
	}
	if i != s.n {
		return fmt.Errorf("neuron.Stream: instruction %d arrived after %d", i, s.n)
	}
	if k := s.r.keep; k != nil {
		if k.limit > 0 && k.spans.Len() >= k.limit {
			return &SpanCapError{Cap: k.limit}
		}
		moved := s.r.traffic // what this instruction moves is the difference
		lane, start, end, waited, err := s.r.time(i, in)
		if err != nil {
			return err
		}
		site := sim.NoSite
		if in.Site >= 0 {
			site = in.Site
		}
		s.r.record(i, in, lane, start, end, waited, site, &moved)
		s.n++
		return nil
	}
	if _, _, _, _, err := s.r.time(i, in); err != nil {
		return err
	}
	s.n++
	return nil
}

// Instrs returns the number of instructions timed, one by one or
// fast-forwarded (see Skipped).
func (s *Stream) Instrs() int { return s.n }

// Err reports a fast-forward that failed (a *FastForwardError): the
// Stream's figures are then incomplete and the program must be timed again
// with fast-forward off.
func (s *Stream) Err() error { return s.err }

// Report returns the timing of the instructions received so far. It has no
// program name or sources (Report.Program and Sources are unset), and
// spans only after KeepSpans: see SpanReport.
func (s *Stream) Report() *sim.Report { return s.r.report() }

// SpanReport is Report with the spans kept since KeepSpans, resolvable by
// exporters: Program is name, and Sources resolves the spans' sites
// against sites (the streaming Builder's, isa.Builder.Sites) and their
// operands from the spans. The figures, spans and what Sources returns
// are Run's on the stored program, bit for bit.
func (s *Stream) SpanReport(name string, sites []isa.Site) *sim.Report {
	rep := s.r.report()
	rep.Program = name
	rep.Sources = streamSources{sites: sites, spans: rep.Spans}
	return rep
}
