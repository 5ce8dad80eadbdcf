// Package kernels holds the workloads trnsim times: for each kernel, its
// parameters, its NeuronCore programs (written with isa.Builder, one per
// variant), its GPU description (sim/gpu) and a float64 reference that the
// functional run is checked against.
//
// A workload is a kernel plus values for its parameters, written
// "kernel:param=value,...". Every kernel handles any shape its parameters
// allow: remainder tiles are handled, never rejected.
//
// Units: shape parameters (M, N, K, seqlen, headdim, tokens, hidden, ...)
// count elements or tokens, never bytes; FLOPs count multiply and add
// separately, by HARDWARE.md B §1.5's conventions (see Kernel.FLOPs); a
// Tolerance is in the output's units (Abs) and relative to the reference
// (Rel).
//
// Invariants: Parse rejects, with a SpecError naming the spec and the rule,
// every spec whose values its parameters or the kernel's Check refuse,
// including one too large to simulate (MaxInstrs); a workload that is valid but that a target cannot run
// (fp8 on A100, for one) is an error that Is ErrUnsupported, never a
// panic. Check is deterministic for a seed: the inputs come from a seeded
// generator and the program runs on isa.Exec.
package kernels
