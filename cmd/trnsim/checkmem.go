package main

import (
	"errors"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// maxCheckBytes bounds the memory a functional check (check, run -check)
// may use for its tensors: 4 GiB. The check holds every HBM tensor as
// float32, the random inputs a second time, and the float64 reference
// of inputs and outputs; the largest checks the tests and README run
// (matmul 4096³ fp32, 0.7 GB) are far below it, and a typo such as
// M=268435456 is refused at once instead of running out of memory.
const maxCheckBytes = 4 << 30

// errSizing stops a kernel's builder after its tensor declarations: the
// builder keeps no instructions once it has an error.
var errSizing = errors.New("sizing the functional run")

// checkBytes estimates the bytes a functional check of p on arch holds:
// per input element 4 (HBM) + 4 (the generated input) + 8 (float64
// reference), per output element 4 + 8, per scratch element 4. It runs
// the kernel's builder with instruction storage off, so it allocates only
// the declarations.
func checkBytes(arch isa.Arch, p kernels.Params) float64 {
	b := isa.NewBuilder(arch, p.String())
	b.Fail(errSizing)
	_ = p.Kernel.Neuron(b, p) // the error is errSizing or a shape error Check reports
	var total float64
	for _, t := range b.Tensors() {
		n := 1.0
		for _, d := range t.Shape {
			n *= float64(max(d, 0))
		}
		switch t.Kind {
		case isa.Input:
			total += 16 * n
		case isa.Output:
			total += 12 * n
		default:
			total += 4 * n
		}
	}
	return total
}

// checkMemory refuses a functional check over maxCheckBytes, naming the
// estimate and the limit.
func checkMemory(arch isa.Arch, p kernels.Params) error {
	if need := checkBytes(arch, p); need > maxCheckBytes {
		return usagef("check %s on %s: the functional run needs about %.3g GB for its tensors, over the limit of %.3g GB (%d bytes); shrink the shape (timing with trnsim run needs no tensors)",
			p, arch.Name, need/1e9, float64(maxCheckBytes)/1e9, int64(maxCheckBytes))
	}
	return nil
}
