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
package isa
