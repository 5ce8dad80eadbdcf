package neuron

import (
	"errors"
	"reflect"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// TestRunValidates checks that Run refuses an unmarked program that
// breaks a rule with the error Validate gives, at any position, and that a
// marked program (Builder's) and the same instructions unmarked time the
// same.
func TestRunValidates(t *testing.T) {
	c, _ := Preset("trn2")
	p := tiledProgram(t, 256, 1024, 512, 2)
	if !p.ValidatedFor(c.Arch()) {
		t.Fatal("Builder's program is not marked validated")
	}
	unmarked := func() *isa.Program {
		return &isa.Program{Name: p.Name, Tensors: p.Tensors, Instrs: append([]isa.Instr(nil), p.Instrs...), Sites: p.Sites}
	}
	want, err := Run(p, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Run(unmarked(), c)
	if err != nil {
		t.Fatal(err)
	}
	// Sources point at each report's own program; the rest must match.
	got.Sources, want.Sources = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Error("the unmarked program times differently from the marked one")
	}
	for _, tc := range []struct {
		name   string
		at     int
		mutate func(in *isa.Instr)
		rule   string
	}{
		{"first instruction", 0, func(in *isa.Instr) { in.Dst.Parts = 200 }, "part-count"},
		{"middle matmul", 2, func(in *isa.Instr) { in.Dst.Mem = isa.SBUF }, "tensor-engine-mem"},
		{"last instruction", -1, func(in *isa.Instr) { in.Queue = 16 }, "dma-queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := unmarked()
			at := tc.at
			if at < 0 {
				at += len(q.Instrs)
			}
			tc.mutate(&q.Instrs[at])
			_, err := Run(q, c)
			var ve *isa.ValidationError
			if !errors.As(err, &ve) || ve.Index != at || ve.Rule != tc.rule {
				t.Fatalf("Run = %v, want rule %q at instr %d", err, tc.rule, at)
			}
			if verr := q.Validate(c.Arch()); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Run says %v, Validate %v", err, verr)
			}
		})
	}
}
