package kernels

import "fmt"

// MaxInstrs bounds the estimated instruction count of one workload's
// NeuronCore program. A simulated instruction costs about 1 KB of memory
// (the instruction, its span in the report, dependency state) and 0.1 µs
// of time, so this keeps a run within a few GB and a few seconds, and turns
// a typo such as M=999999999999 into an error instead of a hang. The
// largest shapes the suites use (matmul 16384³, attention 16k × 32 heads,
// decode 64 × 32k) are well below it.
const MaxInstrs = 1 << 22

// tiles returns ⌈x / t⌉ as a float64, with x counted as at least 1: the
// number of work tiles of size t a loop over x elements visits. The
// Kernel.Instrs estimates multiply these by instructions per tile
// (measured with `trnsim asm` on the built-in kernels, rounded up).
func tiles(x int, t float64) float64 {
	return float64(int64((float64(max(x, 1)) + t - 1) / t))
}

// checkSize rejects workloads too large to simulate. A composite workload
// is checked through its parts, which are made (and so checked) here.
func checkSize(p Params) error {
	k := p.Kernel
	if k.Parts != nil {
		_, err := k.Parts(p)
		return err
	}
	if k.Instrs == nil {
		// Register refuses such a kernel; a Kernel used unregistered
		// still never runs without a size limit.
		return fmt.Errorf("kernel %s has no instruction estimate (Kernel.Instrs)", k.Name)
	}
	if n := k.Instrs(p); !(n <= MaxInstrs) {
		return fmt.Errorf("too large to simulate: about %.3g NeuronCore instructions, at most %d; shrink the shape", n, MaxInstrs)
	}
	return nil
}
