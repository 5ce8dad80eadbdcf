package isa_test

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// validateSpecs are BenchmarkSimulate's NeuronCore workloads (bench and
// sim/neuron), shrunk where storing every instruction would take hundreds
// of megabytes: the instruction mix per kernel is the same at any size.
var validateSpecs = []string{
	"layer:model=llama3-70b,phase=prefill,tokens=1024",
	"matmul:M=4096,N=4096,K=4096,variant=tiled",
	"attention:seqlen=4096",
}

// BenchmarkValidateKernels checks the stored programs of validateSpecs on trn2
// (Program.Validate: every instruction once) and reports instructions
// checked per wall second (instr/s).
func BenchmarkValidateKernels(b *testing.B) {
	arch := isa.Trn2()
	for _, spec := range validateSpecs {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		parts := []kernels.Params{p}
		if p.Kernel.Parts != nil {
			ps, err := p.Kernel.Parts(p)
			if err != nil {
				b.Fatal(err)
			}
			parts = parts[:0]
			for _, pt := range ps {
				parts = append(parts, pt.Params)
			}
		}
		var progs []*isa.Program
		n := 0
		for _, pt := range parts {
			prog, err := kernels.BuildNeuron(arch, pt)
			if err != nil {
				b.Fatal(err)
			}
			progs = append(progs, prog)
			n += len(prog.Instrs)
		}
		b.Run("spec="+spec, func(b *testing.B) {
			for b.Loop() {
				for _, prog := range progs {
					if err := prog.Validate(arch); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "instr/s")
		})
	}
}
