package neuron

import (
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Stream and Pipe, fed a stored program instruction by instruction, give
// Run's report without the spans, bit for bit; Pipe's chunks split the
// program at every offset that matters (a chunk boundary inside, a
// partial last chunk).
func TestStreamAndPipeMatchRun(t *testing.T) {
	cfg, _ := Preset("trn2")
	for _, shape := range [][3]int{{128, 512, 128}, {512, 1024, 1024}, {1024, 1536, 640}, {2048, 2048, 1024}} {
		p := tiledProgram(t, shape[0], shape[1], shape[2], 2)
		want, err := Run(p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want.Spans, want.Program, want.Sources = sim.Spans{}, "", nil
		s, _ := NewStream(cfg)
		pp, _ := NewPipe(cfg)
		for _, sink := range []isa.Sink{s, pp} {
			for i, d := range p.Tensors {
				sink.Tensor(i, d)
			}
			for i := range p.Instrs {
				if err := sink.Instr(i, &p.Instrs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		got, err := pp.Close()
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]any{"stream": *s.Report(), "pipe": *got} {
			if !reflect.DeepEqual(r, *want) {
				t.Errorf("%v: %s report differs from Run's", shape, name)
			}
		}
		if s.Instrs() != len(p.Instrs) || pp.Instrs() != len(p.Instrs) {
			t.Errorf("%v: timed %d and %d instructions, program has %d", shape, s.Instrs(), pp.Instrs(), len(p.Instrs))
		}
	}
}

// A timing error on the Pipe's goroutine stops the Builder (Instr fails)
// and is what Close returns; an instruction out of order is refused at
// once.
func TestPipeError(t *testing.T) {
	cfg, _ := Preset("trn2")
	p := tiledProgram(t, 512, 1024, 1024, 2)
	pp, _ := NewPipe(cfg)
	for i, d := range p.Tensors {
		pp.Tensor(i, d)
	}
	if err := pp.Instr(3, &p.Instrs[0]); err == nil || !strings.Contains(err.Error(), "arrived after") {
		t.Errorf("Instr out of order: got %v", err)
	}
	bad := p.Instrs[0] // a load from an HBM tensor the program does not declare
	bad.Src[0].Tensor = 99
	stopped := false
	for i := range 100 * pipeChunk {
		in := &p.Instrs[i%len(p.Instrs)]
		if i == 7 {
			in = &bad
		}
		if err := pp.Instr(i, in); err != nil {
			stopped = true
			break
		}
	}
	_, err := pp.Close()
	if err == nil || !strings.Contains(err.Error(), "tensor 99") {
		t.Errorf("Close: got %v, want the timing error naming tensor 99", err)
	}
	if !stopped {
		t.Error("Instr never failed after timing failed")
	}
}
