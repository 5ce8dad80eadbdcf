package neuron_test

import (
	"runtime"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/neuron"
)

// simulateSpecs are the workloads BenchmarkSimulate times: issue-sized
// programs of 0.2 to 0.6 M instructions.
var simulateSpecs = []string{
	"matmul:M=8192,N=8192,K=8192,variant=tiled",
	"attention:seqlen=16384",
}

// BenchmarkSimulate times a workload end to end on trn2, the program built
// by its kernel and timed: "stream" as timing-only runs do (each
// instruction validated and timed as it is emitted, nothing stored),
// "spans" as a trace or profile does (streamed, keeping a compact span per
// instruction with its source site and operands), "stored" as an -asm
// program is (the program stored, validated, and replayed into one span
// per instruction). instr/s is NeuronCore instructions per wall second;
// bytes/instr is memory allocated per instruction (the stored program,
// spans and timing state).
func BenchmarkSimulate(b *testing.B) {
	cfg, err := neuron.Preset("trn2")
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range simulateSpecs {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"stream", "spans", "stored"} {
			b.Run("mode="+mode+"/spec="+spec, func(b *testing.B) {
				var instrs int
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.TotalAlloc
				for b.Loop() {
					if instrs, err = simulate(p, cfg, mode); err != nil {
						b.Fatal(err)
					}
				}
				runtime.ReadMemStats(&ms)
				n := float64(instrs) * float64(b.N)
				b.ReportMetric(n/b.Elapsed().Seconds(), "instr/s")
				b.ReportMetric(float64(ms.TotalAlloc-before)/n, "bytes/instr")
			})
		}
	}
}

// simulate builds and times p on cfg as mode says and returns its
// instruction count.
func simulate(p kernels.Params, cfg neuron.Config, mode string) (int, error) {
	if mode == "stored" {
		prog, err := kernels.BuildNeuron(cfg.Arch(), p)
		if err != nil {
			return 0, err
		}
		_, err = neuron.Run(prog, cfg)
		return len(prog.Instrs), err
	}
	s, err := neuron.NewStream(cfg)
	if err != nil {
		return 0, err
	}
	b := isa.NewStreamBuilder(cfg.Arch(), p.String(), s)
	if mode == "spans" {
		s.KeepSpans(0)
		b.KeepSites()
	}
	if err := p.Kernel.Neuron(b, p); err != nil {
		return 0, err
	}
	if err := b.Err(); err != nil {
		return 0, err
	}
	s.Report()
	return s.Instrs(), nil
}
