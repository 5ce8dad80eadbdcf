// Package tune chooses among the ways a kernel can run by timing them.
//
// A kernel's GPU description (kernels.Kernel.GPU) lists candidate plans —
// every GEMM tiling and split-K factor a library offers, or split-KV and
// no-split decode — without choosing; GPU times each candidate with the
// GPU timing model (sim/gpu) and keeps the fastest, as a library's
// heuristic picks.
//
// Kernels declare which of their parameters are tunable
// (kernels.Param.Tune, with Param.TuneVariants naming the variants a
// parameter matters for). Search explores that space on any target
// through a caller-supplied Eval (package bench times the configurations;
// tune sits below it and never imports it):
//
//   - the workload as given (the default plan, variant=best) is timed
//     first;
//   - a space of at most ExhaustiveMax (512) distinct legal configurations
//     is timed completely;
//   - a larger one, or one a budget cuts, is searched by coordinate
//     descent with restarts: from the default's grid point and then from
//     seeded random points, every value of one parameter is timed as one
//     parallel batch and the fastest kept, parameter after parameter,
//     until a whole sweep improves nothing. Coordinate descent rather than
//     successive halving: halving needs a cheap low-fidelity proxy of a
//     configuration's time, and trnsim has none (a smaller shape has other
//     best tiles; a partial simulation misranks plans whose pipelines fill
//     late), while tile parameters interact weakly enough that moving one
//     at a time finds the optimum of the spaces the kernels declare; the
//     restarts guard against the interactions there are.
//
// A configuration the kernel cannot build for capacity (SBUF or PSUM, an
// *isa.CapacityError while building, before any timing) is infeasible:
// counted, never timed. Table holds tuned configurations by target and
// shape, read and written as the JSON files of `trnsim tune -o` and
// `-tuned`.
//
// Determinism: candidates are timed in the order the kernel lists them and
// the first of equally fast candidates wins; a search fixes each batch
// before timing it and takes its results in batch order, so no choice
// depends on scheduling or on the number of workers. Times are in
// nanoseconds of simulated device time.
package tune
