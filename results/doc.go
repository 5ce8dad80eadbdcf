// Package results holds what trnsim produces: rows and their CSV schema,
// the regression gate (compare), predicted-versus-measured validation, and
// exporters (pprof profiles, Chrome/Perfetto traces, plots).
package results
