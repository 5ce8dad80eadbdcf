// Package tune chooses among the ways a kernel can run by timing them.
//
// A kernel's GPU description (kernels.Kernel.GPU) lists candidate plans —
// every GEMM tiling and split-K factor a library offers, or split-KV and
// no-split decode — without choosing; GPU times each candidate with the
// GPU timing model (sim/gpu) and keeps the fastest, as a library's
// heuristic picks. Kernels declare which of their parameters are tunable
// (kernels.Param.Tune); a search over those on either target belongs here
// too, so the kernels package never imports a timing model.
//
// Determinism: candidates are timed in the order the kernel lists them and
// the first of equally fast candidates wins, so a choice never depends on
// scheduling. Times are in nanoseconds of simulated device time.
package tune
