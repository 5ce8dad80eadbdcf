package main

import (
	"fmt"
	"os"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/tune"
)

// newRunner returns the runner validate uses: bench.Run on the named
// target, with hwFile's hardware overrides. On GPUs the detail names what
// ran (variant resolved, tile, splits).
func newRunner(hwFile string) (runner, error) {
	if hwFile != "" {
		if _, err := os.Stat(hwFile); err != nil {
			return nil, fmt.Errorf("-hw: %v", err)
		}
	}
	targets := map[string]bench.Target{}
	return func(p kernels.Params, name string) (float64, string, error) {
		t, ok := targets[name]
		if !ok {
			var err error
			if t, err = bench.TargetByName(name, hwFile); err != nil {
				return 0, "", err
			}
			targets[name] = t
		}
		row, _, err := bench.Run(p, t)
		if err != nil {
			return 0, "", err
		}
		detail := row.Variant
		if t.Kind == bench.GPU {
			if c, err := tune.GPU(t.GPU, p); err == nil {
				detail = c.Detail
			}
		}
		return row.TimeUs, detail, nil
	}, nil
}
