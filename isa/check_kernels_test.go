package isa_test

import (
	"math/rand/v2"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// TestShapeCacheOnKernels moves operands of the built-in kernels'
// programs (BenchmarkSimulate's workloads, small) to random offsets and
// checks every instruction with a Validator (shape cache) and with every
// rule uncached: the results, error text included, must agree.
func TestShapeCacheOnKernels(t *testing.T) {
	specs := []string{
		"layer:model=llama3-70b,phase=prefill,tokens=128",
		"matmul:M=512,N=1024,K=512,variant=tiled",
		"attention:seqlen=512,causal=true",
	}
	for _, a := range []isa.Arch{isa.Trn1(), isa.Trn2(), isa.Trn3()} {
		bad, all := 0, 0
		for _, spec := range specs {
			p, err := kernels.Builtin().Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			parts := []kernels.Params{p}
			if p.Kernel.Parts != nil {
				ps, err := p.Kernel.Parts(p)
				if err != nil {
					t.Fatal(err)
				}
				parts = parts[:0]
				for _, pt := range ps {
					parts = append(parts, pt.Params)
				}
			}
			rng := rand.New(rand.NewPCG(14, uint64(len(spec))))
			for _, pt := range parts {
				prog, err := kernels.BuildNeuron(a, pt)
				if err != nil {
					// A shape one generation cannot run is not this
					// test's concern.
					continue
				}
				moveOffsets(rng, prog)
				v, err := prog.Validator(a)
				if err != nil {
					t.Fatal(err)
				}
				full := isa.UncachedChecker(prog, a)
				all += len(prog.Instrs)
				for i := range prog.Instrs {
					got, want := v.Check(i), full(i)
					if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
						t.Fatalf("%s %s instr %d: Validator says %v, uncached %v", a.Name, pt, i, got, want)
					}
					if want != nil {
						bad++
					}
				}
			}
		}
		if bad == 0 || bad > all/4 {
			t.Errorf("%s: %d of %d instructions invalid after moving; want some, and most valid", a.Name, bad, all)
		}
	}
}

// moveOffsets moves one operand of about one instruction in eight by a
// small amount or to the other end of its memory.
func moveOffsets(rng *rand.Rand, p *isa.Program) {
	for i := range p.Instrs {
		if rng.IntN(8) != 0 {
			continue
		}
		in := &p.Instrs[i]
		ap := [...]*isa.AP{&in.Dst, &in.Src[0], &in.Src[1], &in.Src[2], &in.Red}[rng.IntN(5)]
		switch rng.IntN(3) {
		case 0:
			ap.Offset += rng.IntN(9) - 4
		case 1:
			ap.Offset -= ap.Offset + rng.IntN(3)
		case 2:
			ap.Offset += 1 << (10 + rng.IntN(12))
		}
	}
}
