package kernels

import "fmt"

// MaxInstrs bounds the estimated instruction count of one workload's
// NeuronCore program, checked when a spec is parsed. It bounds time, not
// memory: a timing-only run streams its instructions through the timing
// model without storing them (memory independent of length), at about
// 20-50 ns per instruction, so this keeps one run under about a minute and
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

// estimateInstrs estimates the instruction count of workload p's NeuronCore
// program from the number of [128 × 512] work tiles its loops visit and
// the instructions per tile of each kernel (measured with `trnsim asm` on
// the built-in kernels: matmul ≈ 1.3, attention ≈ 18 per 128-query ×
// 512-key tile, decode ≈ 2.1, row-wise kernels ≈ 0.75–1.3; rounded up).
func estimateInstrs(p Params) float64 {
	get := func(name string) float64 {
		if !p.Has(name) {
			return 1
		}
		return float64(max(p.Int(name), 1))
	}
	ceil := func(x, t float64) float64 { return float64(int64((x + t - 1) / t)) }
	switch p.Kernel.Name {
	case "matmul":
		return 1.5 * get("batch") * ceil(get("M"), 128) * ceil(get("N"), 512) * ceil(get("K"), 128)
	case "attention":
		s := get("seqlen")
		return 20 * get("batch") * get("heads") * ceil(s, 128) * ceil(s, 512) * ceil(get("headdim"), 128)
	case "decode_attention":
		return 2.5 * get("batch") * get("heads") * ceil(get("seqlen"), 512) * ceil(get("headdim"), 128)
	case "softmax":
		return 1.5 * ceil(get("rows"), 128) * ceil(get("cols"), 512)
	case "rope":
		return 1.5 * ceil(get("tokens"), 128) * ceil(get("heads")*get("headdim"), 512)
	}
	if p.Has("tokens") && p.Has("hidden") {
		return 1.5 * ceil(get("tokens"), 128) * ceil(get("hidden"), 512)
	}
	return 0
}

// checkSize rejects workloads too large to simulate. A composite workload
// is checked through its parts, which are parsed (and so checked) here.
func checkSize(p Params) error {
	if p.Kernel.Parts != nil {
		_, err := p.Kernel.Parts(p)
		return err
	}
	if n := estimateInstrs(p); n > MaxInstrs {
		return fmt.Errorf("too large to simulate: about %.3g NeuronCore instructions, at most %d; shrink the shape", n, int64(MaxInstrs))
	}
	return nil
}
