package neuron

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// BenchmarkRun times the replay of the tutorial's tiled fp32 matmul at
// 4224×8192×8192 (102,432 instructions: two loads and a matmul per K
// tile) on trn2. instr/s is simulated instructions per wall second.
// "run" is Run on the program as isa.Builder returns it (marked validated,
// so Run only replays it); "run_unmarked" is Run on the same instructions
// without the mark, checked one by one as they are replayed; "replay" is
// the timing model alone. Allocations come from the report (one Span per
// instruction) and the dependency tracker, never from tensor data.
func BenchmarkRun(b *testing.B) {
	p := tiledProgram(b, 4224, 8192, 8192, 4)
	// The same program without Builder's validated mark: Run checks every
	// instruction, as it does for parsed or hand-built programs.
	unmarked := &isa.Program{Name: p.Name, Tensors: p.Tensors, Instrs: p.Instrs, Sites: p.Sites}
	c, _ := Preset("trn2")
	for _, bc := range []struct {
		name string
		f    func() error
	}{
		{"run", func() error { _, err := Run(p, c); return err }},
		{"run_unmarked", func() error { _, err := Run(unmarked, c); return err }},
		{"replay", func() error { _, err := replay(p, c); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p.Instrs))*float64(b.N)/b.Elapsed().Seconds(), "instr/s")
		})
	}
}
