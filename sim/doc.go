// Package sim holds what the NeuronCore and GPU timing models share: the
// Report of one simulated run, its Spans (one per instruction or phase),
// per-engine statistics and the units they are in.
//
// Units: times are nanoseconds (float64) of simulated time; Cycles counts
// cycles of the clock named in Report.Clock; bytes are bytes; FLOPs count
// multiply and add separately (GEMM = 2·M·N·K).
package sim
