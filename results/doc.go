// Package results holds what trnsim produces: rows and their CSV schema,
// the regression gate (compare), predicted-versus-measured validation, and
// exporters (pprof profiles, Chrome/Perfetto traces, plots). Exporters
// read sim.Report only — per-span bytes, site handles resolved through
// Report.Sources, lane groups — never a timing model's instructions or
// phase names, so a new target needs no exporter change.
//
// Units: a Row's times are microseconds of simulated device time
// (TimeUs), bytes are bytes, FLOPs count multiply and add separately,
// percentages are 0–100 and prices are USD; each CSV column names its unit
// in Columns (and SCHEMA.md, generated from it).
//
// Invariants: the CSV has one schema, defined once in schema.go and
// versioned by SchemaVersion; ReadCSV reads only that version and names
// the file, line and column of any cell it rejects. A figure that does not
// apply is NaN in a Row and an empty cell in CSV. Writing is deterministic
// (columns in schema order, rows in the order given, floats in the fewest
// digits that read back to the same bits), and files are written
// atomically (WriteFileAtomic), so a reader never sees half a file.
package results
