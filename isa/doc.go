// Package isa describes the architecture of a Trainium-like NeuronCore as a
// kernel sees it: generations (Arch), data types and their rounding (DType),
// memories and access patterns (AP), instructions (Instr), programs (Program),
// the Builder that kernels are written with, a text assembly (Print, Parse)
// and functional execution (Exec).
//
// Architecture facts (partition counts, SBUF/PSUM sizes, matmul limits,
// supported dtypes) live here; micro-architecture (clocks, costs,
// bandwidths) lives in sim/neuron. Every constant cites its row in
// docs/hardware.md (Part A).
//
// Units: SBUF and PSUM addresses are byte offsets within a partition; HBM
// access patterns count elements of the tensor they name; strides and counts
// of free dimensions are in elements of the access pattern's dtype.
//
// Invariants: a Program built by a Builder satisfies Validate for the Arch it
// was built for; Exec and the timing models refuse programs that do not.
//
// Kernel loops: a kernel declares its main loop with Builder.Loop and a
// structural key per iteration. Streamed into a Looper (the timing model),
// iterations that repeat a steady state whole periods at a time are not
// emitted: the Looper extrapolates them exactly (LoopSkip) and the Builder
// moves its own state (instruction count, DMA queue rotation) as if they
// had been. Every other Builder runs the loop plain.
package isa
