package main

import (
	"flag"
	"os"
	"slices"
	"strings"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/tune"
)

// tunedFlag is -tuned FILE: the tuned configurations `trnsim tune -o`
// wrote, used by variant=best (and layer parts) on the NeuronCore targets
// and shapes the file holds.
type tunedFlag struct{ file string }

func (tf *tunedFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.file, "tuned", "", "tuned `FILE` written by trnsim tune -o: workloads at variant=best (and layer parts) "+
		"run the tuned configuration on the NeuronCore targets and shapes it holds; without it nothing changes")
}

// apply returns ts running the file's tuned configurations (ts as they are
// without -tuned). A file that cannot be read or used is a usage error;
// so is a file naming a target that is not a known preset.
func (tf *tunedFlag) apply(ts []bench.Target) ([]bench.Target, error) {
	if tf.file == "" {
		return ts, nil
	}
	tab, err := loadTuned(tf.file)
	if err != nil {
		return nil, err
	}
	return bench.WithTuned(ts, tab), nil
}

func loadTuned(path string) (*tune.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("-tuned: %v", err)
	}
	defer f.Close()
	tab, err := tune.ReadTable(f, kernels.Builtin())
	if err != nil {
		return nil, usagef("-tuned %s: %v", path, err)
	}
	all := bench.AllTargets()
	for _, t := range tab.Targets() {
		if !slices.Contains(all, t) {
			return nil, usagef("-tuned %s: target %q is not a preset (allowed: %s)", path, t, strings.Join(all, ", "))
		}
	}
	return tab, nil
}
