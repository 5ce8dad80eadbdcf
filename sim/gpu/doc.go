// Package gpu is the timing model of a CUDA-like GPU: streaming
// multiprocessors (SMs) running grids of CTAs (thread blocks), with tensor
// cores, the MUFU special-function pipe, the FP32 pipe, the shared-memory
// port, L2 and HBM.
//
// A Kernel is a grid of CTAs with a resource footprint (threads, registers,
// shared memory) and a per-CTA body: a prologue, a pipelined main loop of
// Iters iterations and an epilogue, each a Phase of work (global loads
// through L2/HBM, tensor-core FLOPs, MUFU ops, FP32 ops, shared-memory
// bytes, stores). Run places CTAs on SMs by occupancy and runs them in
// waves. The model is analytic per distinct CTA class: a CTA's duration is
// computed once per (class, co-residency, active SMs) and waves are
// counted; grids whose CTAs differ in length (causal attention) are placed
// CTA by CTA on the slot that frees first, as the block scheduler does. A
// 16k×16k GEMM or a 16k-token attention is timed in well under a
// millisecond of host time.
//
// What the model contains, each from docs/hardware.md Part B:
//   - occupancy: CTAs per SM limited by threads, warps, registers, shared
//     memory and the CTA limit (B §1.2); waves = ⌈CTAs / (SMs·CTAs per SM)⌉,
//     the last (tail) wave re-timed with what it actually occupies;
//   - tensor pipe: per-SM FLOP/clk per dtype for the device's native MMA
//     family (mma.sync, wgmma, tcgen05); legacy mma.sync on Hopper at 2/3 of
//     wgmma (B §1.2);
//   - MUFU at 16 ops/clk/SM, the FP32 pipe (lanes/clk/SM), the 128 B/clk
//     shared-memory port charged with the MMAs' operand reads, as FA4's
//     roofline charges them (B §1.2, §1.3);
//   - HBM and L2 bandwidth shared by the CTAs that are active, with L2 reuse
//     between co-resident CTAs that read the same tiles (Load.Sharers),
//     whole-kernel reuse when the kernel's footprint fits in half the L2
//     (B §1.1), and TMA multicast within a cluster (Load.Multicast, B §1.2);
//   - memory-level parallelism (Little's law, B §1.2 latencies): a CTA
//     keeps Stages−1 iterations' loads in flight (one iteration's with one
//     stage), or less where the kernel declares it (Kernel.LoadsInFlight:
//     FA2 issues V only after K has arrived). The CTAs of a wave issue
//     together and share the bandwidth, so a load returns after the
//     latency plus the wave's queue in front of it: an iteration costs
//     (latency + transfer)/n with n iterations in flight, and per SM the
//     bandwidth is at most co-resident CTAs × bytes in flight / latency.
//     With Stages ≥ 2 this overlaps compute; with one stage it adds to it.
//     Grids too small to keep HBM busy (one partial wave, a few CTAs per
//     SM with small loads) run below the bandwidth for this reason;
//   - warp specialisation: producer warps load while consumers compute;
//     ping-pong consumer warpgroups hide the softmax's FP32 work behind the
//     other warpgroup's GEMMs. On devices whose MMAs accumulate in registers
//     (mma.sync, wgmma) MUFU work and MMAs are serialised, as FA3 accounts
//     for the exponential (B §1.3: exp "can take 50% of the cycle compared
//     to matmul", ping-pong only 570 → 620–640 TFLOPS); tcgen05 accumulates
//     in tensor memory and overlaps them (B §1.2 TMEM row, §1.3 FA4 roofline);
//   - clocks: kernels that use the tensor pipe run at the tensor clock
//     unless their tensor-pipe activity u would exceed the power limit:
//     the sustained clock is what full activity allows (B §1.5) and power
//     grows as u·f³, so the clock is min(tensor clock, sustained/∛u);
//     other kernels run at the boost clock;
//   - launch overhead per kernel (B §1.4).
//
// Units: times are nanoseconds; cycles are cycles of the SM clock the
// kernel ran at; bytes are bytes; FLOPs count multiply and add separately.
//
// Invariants: Run is deterministic (no maps iterated, no wall clock); a
// Kernel whose footprint cannot fit on one SM is an error, never a panic.
package gpu
