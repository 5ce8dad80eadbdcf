// Package plan describes GPU kernels without timing them: the grid of CTAs,
// each CTA's resource footprint (threads, registers, shared memory) and its
// per-CTA body — a prologue, a pipelined main loop and an epilogue, each a
// Phase of work — plus the architectural facts of a device that a
// description may depend on (Device: MMA family, shared memory per CTA,
// resource limits, which dtypes its tensor cores take).
//
// It is the GPU counterpart of package isa: the kernels package writes
// plans (its GPU descriptions) with these types, package gpu (sim/gpu)
// times them, and package tune chooses among a kernel's candidate plans by
// timing them. Nothing here knows a clock, a bandwidth or a latency.
//
// Units: bytes for memory amounts, FLOPs (multiply and add counted
// separately) for tensor work, lane operations for FP32 and MUFU work;
// every per-CTA amount is for one execution of its phase.
package plan
