package bench

import (
	"runtime"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/kernels"
)

// BenchmarkSimulate times whole workloads as `trnsim run` does without a
// trace or profile (RunTiming: programs streamed, composite parts on both
// cores), on each listed target in turn. instr/s is NeuronCore instructions
// built and timed per wall second (GPU time included in the wall time);
// bytes/instr is memory allocated per NeuronCore instruction.
func BenchmarkSimulate(b *testing.B) {
	for _, bc := range []struct{ spec, targets string }{
		{"layer:model=llama3-70b,phase=prefill,tokens=8192", "trn2"},
		{"layer:model=llama3-70b,phase=prefill,tokens=8192", "trn2,h100"},
		{"matmul:M=8192,N=8192,K=8192,variant=tiled", "trn2"},
		{"attention:seqlen=16384", "trn2"},
	} {
		p, err := kernels.Builtin().Parse(bc.spec)
		if err != nil {
			b.Fatal(err)
		}
		var ts []Target
		for _, name := range strings.Split(bc.targets, ",") {
			t, err := TargetByName(name, "")
			if err != nil {
				b.Fatal(err)
			}
			ts = append(ts, t)
		}
		b.Run("target="+bc.targets+"/spec="+bc.spec, func(b *testing.B) {
			var instrs int
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			for b.Loop() {
				instrs = 0
				for _, t := range ts {
					r, err := RunTiming(p, t)
					if err != nil {
						b.Fatal(err)
					}
					if _, ok := t.(*NeuronTarget); ok {
						instrs += neuronInstrs(r)
					}
				}
			}
			runtime.ReadMemStats(&ms)
			n := float64(instrs) * float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "instr/s")
			b.ReportMetric(float64(ms.TotalAlloc-before)/n, "bytes/instr")
		})
	}
}

// neuronInstrs counts the NeuronCore instructions a result timed: each
// part of a composite once.
func neuronInstrs(r Result) int {
	n := 0
	if r.Report != nil {
		for _, e := range r.Report.Engines {
			n += e.Instrs
		}
	}
	for _, pr := range r.Parts {
		n += neuronInstrs(pr.Result)
	}
	return n
}
