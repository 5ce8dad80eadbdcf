// Package serve estimates a whole model served on whole systems: chips
// (Trainium devices of several NeuronCores, GPUs), instances and
// UltraServers joined by chip-to-chip links, collectives over them, the
// memory a configuration needs, and per step the time of every kernel of
// the model on one device — composed into time to first token, time per
// output token, tokens per second and cost per million tokens.
//
// Units: times in µs inside the package (ms in Estimate's metrics and the
// CSV), bytes, GB/s = 1e9 B/s, prices in USD per instance-hour (per chip-
// hour where named). Every hardware constant cites its docs/systems.md (or
// docs/hardware.md) row.
//
// The model, and what is partial:
//   - A device is a tensor-parallel rank: a logical NeuronCore (LNC
//     physical cores sharing one HBM bank) or a GPU. Kernels are timed by
//     bench on one physical core or GPU; at LNC=2 each kernel's work is
//     halved SPMD over the two physical cores (Estimator.kernelUs says
//     how) with the preset's per-core share of the chip's HBM bandwidth.
//   - Shapes above a cap are simulated at the cap and scaled (linear in
//     rows and decode batch, quadratic in causal attention length).
//   - Collectives are α–β per platform algorithm (collective.go). On
//     NVIDIA they add to the step (on the critical path). On Trainium each
//     is fused with the GEMM that follows it and run in chunks of whole
//     rows that hide under that GEMM, and the hidden chunks' traffic slows
//     the GEMM on the DMA engines they share (docs/systems.md D2.2; see
//     overlapCollectives): the step adds the exposed part and the
//     contention.
//   - MoE: uniform routing (expected active experts per device), or a
//     skew: the busiest device gets skew × its share of routed tokens.
//     Sliding-window prefill attention is the causal kernel scaled by the
//     windowed share of (query, key) pairs; sinks are not timed. mxfp4 and
//     int8 weights are timed with 1-byte (fp8) matmuls: their memory is
//     exact, mxfp4's 4.25-bit weight traffic is not. On GPUs an fp8 KV
//     cache is timed as a bf16 cache of half the length (same bytes).
//   - Static batches: every sequence of the batch starts together; the
//     decode step is timed at the mean context. Pipeline parallelism and
//     inter-node (EFA) collectives are not modelled.
//   - The per-step serving overhead is a parameter whose default is the
//     median residual over the calibration rows (overhead_test.go).
package serve
