package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/trnsim/trnsim/results"
)

// cmdMerge joins the shards of a sweep into one results CSV, written
// atomically.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	flags := newFlags("merge")
	out := flags.String("o", "", "output results CSV `FILE` (required; - for standard output)")
	pos, err := parseFlags(flags, args)
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
	rows, err := mergeSources(srcs)
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

// mergeSources merges shard files: with their sidecars (written by sweep
// -shard) into the unsharded sweep's row order, checking the set is one
// sweep and complete; without any, in the order given (files from other
// tools). Some with and some without is refused.
func mergeSources(srcs []results.Source) ([]results.Row, error) {
	var infos []results.ShardInfo
	var without []string
	for _, s := range srcs {
		side := results.ShardSidecar(s.Name)
		f, err := os.Open(side)
		if errors.Is(err, fs.ErrNotExist) {
			without = append(without, s.Name)
			continue
		}
		if err != nil {
			return nil, err
		}
		info, err := results.ReadShardInfo(f, side)
		f.Close()
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	switch {
	case len(infos) == 0:
		return results.Merge(srcs...)
	case len(without) > 0:
		return nil, fmt.Errorf("%s has no shard sidecar (%s) while other files do: merge the shards of one sweep", without[0], results.ShardSidecar(without[0]))
	}
	return results.MergeShards(srcs, infos)
}
