package bench

import (
	"io"
	"runtime"
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// BenchmarkSimulateDetailed times workloads as `trnsim run -trace` and `-profile`
// do: RunDetailed on trn2, then the trace or profile written (to
// io.Discard). instr/s is NeuronCore instructions per wall second;
// bytes/instr is memory allocated per instruction, run and export
// together; kept-bytes/instr is what the result holds per instruction once
// the run is done (live heap after a collection, the spans and everything
// else the report keeps), the figure issue 14 bounds at 100.
func BenchmarkSimulateDetailed(b *testing.B) {
	t, err := TargetByName("trn2", "")
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range []string{"matmul:M=8192,N=8192,K=8192,variant=tiled", "attention:seqlen=16384"} {
		p, err := kernels.Builtin().Parse(spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, out := range []string{"trace", "profile"} {
			b.Run("out="+out+"/spec="+spec, func(b *testing.B) {
				var instrs int
				var kept uint64
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before, live := ms.TotalAlloc, ms.HeapAlloc
				for b.Loop() {
					r, err := RunDetailed(p, t)
					if err != nil {
						b.Fatal(err)
					}
					instrs = neuronInstrs(r)
					b.StopTimer()
					runtime.GC()
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					kept = m.HeapAlloc - min(live, m.HeapAlloc)
					b.StartTimer()
					if out == "trace" {
						err = results.WriteTrace(io.Discard, r.Report)
					} else {
						err = results.WriteProfile(io.Discard, r.Report, p.Kernel.Name)
					}
					if err != nil {
						b.Fatal(err)
					}
					runtime.KeepAlive(r)
				}
				runtime.ReadMemStats(&ms)
				n := float64(instrs) * float64(b.N)
				b.ReportMetric(n/b.Elapsed().Seconds(), "instr/s")
				b.ReportMetric(float64(ms.TotalAlloc-before)/n, "bytes/instr")
				b.ReportMetric(float64(kept)/float64(instrs), "kept-bytes/instr")
			})
		}
	}
}
