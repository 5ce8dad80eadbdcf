package kernelstest

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/neuron"
)

// Stream builds p's NeuronCore program into a neuron.Stream on cfg, with
// loop fast-forward on or off, and returns the report, the instructions
// fast-forwarded and the program's length. A kernel's Loop keys are right
// when the report is the same either way (and, on a long enough shape,
// something was fast-forwarded).
func Stream(t *testing.T, cfg neuron.Config, p kernels.Params, ff bool) (rep *sim.Report, skipped, instrs int) {
	t.Helper()
	s, err := neuron.NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.FastForward(ff)
	b := isa.NewStreamBuilder(cfg.Arch(), p.String(), s)
	if err := p.Kernel.Neuron(b, p); err != nil {
		t.Fatal(err)
	}
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return s.Report(), s.Skipped(), b.Len()
}
