// Package sim holds what the NeuronCore and GPU timing models share: the
// Report of one simulated run, its Spans (one per instruction or phase,
// stored compactly: a trace keeps one per instruction),
// per-engine statistics and the units they are in, and the strict decoding
// and range checks of their JSON configurations (DecodeConfig,
// CheckBounds).
//
// A Report says everything an exporter needs, so exporters read reports
// only: each Span carries the bytes it moved per memory level and a
// source-location handle that Report.Sources resolves (lazily: NeuronCore
// builders record program counters); Report.Check states the invariants
// exporters rely on.
//
// Units: times are nanoseconds (float64) of simulated time; Cycles counts
// cycles of the clock named in Report.Clock; bytes are bytes; FLOPs count
// multiply and add separately (GEMM = 2·M·N·K).
package sim
