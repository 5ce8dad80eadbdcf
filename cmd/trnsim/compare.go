package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/trnsim/trnsim/results"
)

// cmdCompare is the regression gate: it compares the simulated times of
// two results files (CSV or go test -bench output) and fails with exit
// status 1 when a workload got slower beyond the threshold or a workload of
// BASE is missing from NEW.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare")
	thresholdFlag := fs.String("threshold", "1%", "slowdown beyond which a workload fails the gate, a `PERCENT` ≥ 0 (1%, 0.5 or 2% — the % is optional)")
	format := fs.String("format", "text", "report `FORMAT`, allowed: "+strings.Join(results.CompareFormats(), ", "))
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("compare: want BASE and NEW files (results CSV or go test -bench output), got %d arguments", len(pos))
	}
	threshold, err := parseThreshold(*thresholdFlag)
	if err != nil {
		return err
	}
	if !slices.Contains(results.CompareFormats(), *format) {
		return usagef("compare: -format %q: allowed: %s", *format, strings.Join(results.CompareFormats(), ", "))
	}
	var sides [2][]results.Timing
	for i, name := range pos {
		f, err := os.Open(name)
		if err != nil {
			return usagef("compare: %v", err)
		}
		sides[i], err = results.ReadTimings(f, name)
		f.Close()
		if err != nil {
			return usagef("compare: %v", err)
		}
	}
	c := results.Compare(sides[0], sides[1], threshold)
	if err := c.WriteFormat(stdout, *format, pos[0], pos[1]); err != nil {
		return err
	}
	if c.Failed() {
		fmt.Fprintf(stderr, "trnsim compare: FAIL: %d workloads slower beyond %s, %d missing from %s\n",
			len(c.Regressions()), *thresholdFlag, len(c.OnlyBase), pos[1])
		return &exitError{1}
	}
	return nil
}

// parseThreshold reads a percentage: "1%", "0.5%" or "2".
func parseThreshold(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, usagef("compare: -threshold %q: want a percentage ≥ 0, e.g. 1%%", s)
	}
	return v, nil
}
