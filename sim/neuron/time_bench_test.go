package neuron_test

import (
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/neuron"
)

// BenchmarkTime times the timing model alone on BenchmarkSimulate's
// workloads on trn2: each program is built once, outside the timer, and
// every iteration hands its tensors and instructions to a fresh Stream, as
// a streaming Builder would, without building or validating them. instr/s
// is instructions timed per wall second. The stored program is far larger
// than the caches, so reading it back costs a share a streaming Builder's
// freshly emitted instructions do not.
func BenchmarkTime(b *testing.B) { benchTime(b, simulateSpecs) }

// benchTime is BenchmarkTime on the given workloads.
func benchTime(b *testing.B, specs []string) {
	cfg, err := neuron.Preset("trn2")
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range specs {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		prog, err := kernels.BuildNeuron(cfg.Arch(), p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("spec="+spec, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := neuron.NewStream(cfg)
				if err != nil {
					b.Fatal(err)
				}
				for i, d := range prog.Tensors {
					s.Tensor(i, d)
				}
				for i := range prog.Instrs {
					if err := s.Instr(i, &prog.Instrs[i]); err != nil {
						b.Fatal(err)
					}
				}
				s.Report()
			}
			b.ReportMetric(float64(len(prog.Instrs))*float64(b.N)/b.Elapsed().Seconds(), "instr/s")
		})
	}
}
