// Package neuron is the timing model of one Trainium NeuronCore: it replays
// an isa.Program and says how long it takes and why.
//
// The model (docs/hardware.md Part A §3 and §5):
//
//   - The four compute engines (Tensor, Vector, Scalar, GpSimd) are in-order
//     queues, each at its own clock. An instruction issues when its engine
//     has finished issuing the previous one (its initiation interval, II)
//     and when the instructions it depends on have completed, plus a
//     semaphore wait of SemaphoreCycles of its own engine. It completes
//     AccessLatencyCycles after its II ends.
//   - Order across engines comes only from data: read-after-write,
//     write-after-read and write-after-write on overlapping SBUF and PSUM
//     rectangles (partitions × bytes) and HBM rectangles (rows × elements).
//     TensorE accumulating into PSUM in order never waits on itself.
//   - TensorE runs LoadStationary in the background of the previous
//     MultiplyMoving, skips it when the same stationary is reused, and
//     issues a matmul every max(MIN_II, N_moving) cycles (×4 for fp32; FP8
//     double-row contracts 256 rows in that time). On Trn2/Trn3 a power
//     throttle halves its rate after idle and ramps back over ~3 µs.
//   - DMA instructions go through descriptor generation and a
//     semaphore-to-start latency, then split by partition over the DMA
//     engines; each engine's share occupies it for a fixed cost plus bytes
//     at its asymptotic rate, so small transfers are overhead-bound.
//     Transfers touching HBM also share the core's HBM bandwidth. A
//     transfer completes when every engine has written its semaphore, in
//     its queue's order, whether or not it moved data there.
//   - On NeuronCore-v2 (trn1) VectorE and GpSimdE share one SBUF port and
//     VectorE and ScalarE one PSUM port (A §1.3): instructions that need
//     the same port run one after the other.
//   - anchors_test.go checks the model against the published micro-level
//     figures of docs/hardware.md Part A that the matmul ladder does not cover,
//     each with its tolerance; where a figure was first read as a miss,
//     the test shows what the source measured (the 222 FLOP/B knee is the
//     paper ridge peak/HBM; the ~140 ns Tensor floor is a dependent
//     instruction's time) and holds the model to that. dma_xgen_test.go
//     checks that the per-generation DMA fixed costs are one mechanism
//     (a fixed cost per transfer of about 5.6 KB at the engine's
//     theoretical rate): each generation's point is predicted from the
//     other two. loo_test.go prints the leave-one-out table (make loo).
//
// Because every queue is in order and dependencies point backwards in
// program order, one pass over the program computes the same schedule an
// event-driven simulation would; the shared DMA engines and HBM port are
// booked by reservation (earliest free gap) so a transfer that becomes
// ready early is not held behind one that waits for compute.
//
// Units: times are ns of simulated time (float64); cycles are cycles of
// the clock of the engine a field belongs to; bandwidths are bytes per ns
// (= GB/s). Run allocates no tensor data: its cost is linear in the
// number of instructions. It validates an instruction just before timing
// it, or not at all for a program isa.Builder has already validated for
// the same architecture (isa.Program.ValidatedFor). Stream is the same
// model fed instruction by instruction by a streaming isa.Builder: the
// same figures, no spans, memory independent of program length; with
// KeepSpans it also keeps Run's spans, compactly (sim.Spans, with each
// instruction's operands out of line), for a trace or profile without the
// stored program.
// BenchmarkRun and BenchmarkSimulate track the speed in simulated
// instructions per wall second.
package neuron
