package kernels_test

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// countSink is a streaming Builder's sink that only counts: what a
// benchmark of emission needs, with no timing model behind it.
type countSink struct{ n int }

func (s *countSink) Tensor(int, isa.TensorDecl) {}

func (s *countSink) Instr(int, *isa.Instr) error { s.n++; return nil }

// BenchmarkEmit times building the BenchmarkSimulate workloads' NeuronCore
// programs into a streaming Builder whose sink only counts: the kernels'
// loops, the Builder and its per-instruction checks, without the timing
// model. A composite's parts are each built once. ns/instr is wall time per
// emitted instruction; bytes/instr is memory allocated per instruction.
func BenchmarkEmit(b *testing.B) {
	arch := isa.Trn2()
	for _, spec := range []string{
		"layer:model=llama3-70b,phase=prefill,tokens=8192",
		"matmul:M=8192,N=8192,K=8192,variant=tiled",
		"attention:seqlen=16384",
	} {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		ps := []kernels.Params{p}
		if p.Kernel.Parts != nil {
			parts, err := p.Kernel.Parts(p)
			if err != nil {
				b.Fatal(err)
			}
			ps = ps[:0]
			for _, pt := range parts {
				ps = append(ps, pt.Params)
			}
		}
		b.Run("spec="+spec, func(b *testing.B) {
			var n int
			for b.Loop() {
				n = 0
				for _, q := range ps {
					var s countSink
					bl := isa.NewStreamBuilder(arch, q.String(), &s)
					if err := q.Kernel.Neuron(bl, q); err != nil {
						b.Fatal(err)
					}
					if err := bl.Err(); err != nil {
						b.Fatal(err)
					}
					n += s.n
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/instr")
		})
	}
}
