package neuron

import "testing"

// BenchmarkRun times the replay of the tutorial's tiled fp32 matmul at
// 4224×8192×8192 (101,904 instructions: two loads and a matmul per K
// tile) on trn2. instr/s is simulated instructions per wall second.
// "run" is Run as callers use it, isa.Program.Validate included; "replay"
// is the timing model alone. Allocations come from the report (one Span
// per instruction) and the dependency tracker, never from tensor data.
func BenchmarkRun(b *testing.B) {
	p := tiledProgram(b, 4224, 8192, 8192, 4)
	c, _ := Preset("trn2")
	for _, bc := range []struct {
		name string
		f    func() error
	}{
		{"run", func() error { _, err := Run(p, c); return err }},
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
