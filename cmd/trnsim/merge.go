package main

import (
	"fmt"
	"io"

	"github.com/trnsim/trnsim/results"
)

// cmdMerge joins the shards of a sweep into one results CSV, written
// atomically.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge")
	out := fs.String("o", "", "output results CSV `FILE` (required; - for standard output)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("merge: -o FILE.csv is required")
	}
	if len(pos) == 0 {
		return usagef("merge: want one or more shard files")
	}
	if err := checkOutput("-o", *out); err != nil {
		return err
	}
	srcs := make([]results.Source, len(pos))
	for i, name := range pos {
		rows, err := results.ReadCSVFile(name)
		if err != nil {
			return usagef("merge: %v", err)
		}
		srcs[i] = results.Source{Name: name, Rows: rows}
	}
	rows, err := results.Merge(srcs...)
	if err != nil {
		return usagef("merge: %v", err)
	}
	write := func(w io.Writer) error { return results.WriteCSV(w, rows) }
	if *out == "-" {
		return write(stdout)
	}
	if err := writeOutput(*out, stdout, write); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d rows from %d files to %s\n", len(rows), len(pos), *out)
	return nil
}
