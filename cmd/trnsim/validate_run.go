package main

import (
	"bufio"
	"os"
	"slices"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// newRunner returns the runner validate uses: bench.RunTiming on the named
// target. The targets of the measured file that are presets are resolved
// here, once, with their -hw overrides, so a bad hardware file is the same
// usage error as under `trnsim run`; a row whose target is no preset gets
// the unknown-target error as its reason. On GPUs the detail names what
// ran (variant resolved, tile, splits).
func newRunner(hw *hwFlag, targets []string) (runner, error) {
	var known []string
	for _, n := range targets {
		if slices.Contains(bench.AllTargets(), n) && !slices.Contains(known, n) {
			known = append(known, n)
		}
	}
	if hw == nil {
		hw = &hwFlag{}
	}
	ts, err := resolveTargets(known, hw, nil, "the measured file's targets")
	if err != nil {
		return nil, err
	}
	byName := map[string]bench.Target{}
	for _, t := range ts {
		byName[t.Name()] = t
	}
	return func(p kernels.Params, name string) (float64, string, error) {
		t, ok := byName[name]
		if !ok {
			_, err := bench.TargetByName(name, "")
			return 0, "", err
		}
		r, err := bench.RunTiming(p, t) // streamed: validate needs figures, not spans
		if err != nil {
			return 0, "", err
		}
		detail := r.Row.Variant
		if r.Detail != "" {
			detail = r.Detail
		}
		return r.Row.TimeUs, detail, nil
	}, nil
}

// measuredTargets lists the targets of the measured-data file path, in
// order of first appearance; it returns nil when the file cannot be read
// (validateFile reports that).
func measuredTargets(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	ms, err := results.ReadMeasured(bufio.NewReader(f), path)
	if err != nil {
		return nil
	}
	var names []string
	for _, m := range ms {
		if !slices.Contains(names, m.Target) {
			names = append(names, m.Target)
		}
	}
	return names
}
