package kernels

import "fmt"

// MaxInstrs bounds the estimated instruction count of one workload's
// NeuronCore program, checked when a spec is parsed. It bounds time, not
// memory: a timing-only run streams its instructions through the timing
// model without storing them (memory independent of length), at a few
// million instructions per second, so this keeps one run to minutes and
// turns a typo such as M=999999999999 into an error instead of a hang.
// attention at seqlen 131072 × 64 heads (3.4e8) and a 70B layer prefill at
// 32k tokens are below it.
const MaxInstrs = 1 << 30

// MaxStoredInstrs bounds the instructions kept when a program is stored:
// for a trace, a profile, assembly or a functional check, which keep every
// instruction (a few hundred bytes each, plus a span per instruction).
// isa.Builder enforces it as it stores (isa.StoredCapError), so a run that
// streams is never held to it.
const MaxStoredInstrs = 1 << 22

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
