package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trnsim/trnsim/bench"
)

// newFlags returns a FlagSet that reports errors as usage errors instead of
// printing and exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args allowing flags before and after positional
// arguments ("trnsim run W -target trn2" and "trnsim run -target trn2 W").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequested{fs}
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if strings.HasPrefix(args[0], "-") && args[0] != "-" {
			continue
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// keyValues is a repeatable flag of target=value pairs (-price h100=4.92).
type keyValues map[string]string

func (kv keyValues) String() string { return "" }

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("%q is not target=value", s)
	}
	if _, dup := kv[k]; dup {
		return fmt.Errorf("%q given twice", k)
	}
	kv[k] = v
	return nil
}

// hwFlag is -hw: either one file for a single target, or target=file pairs.
type hwFlag struct {
	file  string
	byTgt keyValues
}

func (h *hwFlag) String() string { return h.file }

func (h *hwFlag) Set(s string) error {
	if h.byTgt == nil {
		h.byTgt = keyValues{}
	}
	if strings.Contains(s, "=") {
		return h.byTgt.Set(s)
	}
	if h.file != "" {
		return fmt.Errorf("-hw FILE given twice (use target=file for several targets)")
	}
	h.file = s
	return nil
}

// forTarget returns the config file for target name, or "".
func (h *hwFlag) forTarget(name string, targets int) (string, error) {
	if h.file != "" {
		if targets > 1 {
			return "", fmt.Errorf("-hw %s: several targets given; write -hw target=file", h.file)
		}
		return h.file, nil
	}
	return h.byTgt[name], nil
}

// targetFlags are the flags every verb that times workloads shares.
type targetFlags struct {
	targets string
	hw      hwFlag
	price   keyValues
}

// register adds -target, -hw and -price to fs.
func (tf *targetFlags) register(fs *flag.FlagSet, def string) {
	tf.hw.byTgt, tf.price = keyValues{}, keyValues{}
	fs.StringVar(&tf.targets, "target", def, "comma-separated targets, each once ("+strings.Join(bench.AllTargets(), ",")+")")
	fs.Var(&tf.hw, "hw", "hardware config override: FILE.json (one target) or target=FILE.json, repeatable; "+
		"strict JSON of the fields `trnsim hw show TARGET` prints; it cannot rename the target")
	fs.Var(tf.price, "price", "price per hour, "+bench.PriceUnits+"; repeatable; overrides prices/prices.csv (a NeuronCore costs its chip's price over its cores)")
}

// resolve builds the named targets with their -hw overrides and -price
// settings. Every problem is a usage error naming the flag.
func (tf *targetFlags) resolve() ([]bench.Target, error) {
	names := strings.Split(tf.targets, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	if err := bench.CheckTargetNames(names); err != nil {
		return nil, usagef("-target: empty or repeated target: %v (allowed: %s)", err, strings.Join(bench.AllTargets(), ", "))
	}
	return resolveTargets(names, &tf.hw, tf.price, "-target "+tf.targets)
}

// resolveTargets resolves names (distinct) with the -hw files and -price
// overrides that name them; what names every -hw target=FILE and -price
// target=USD must be among.
func resolveTargets(names []string, hw *hwFlag, price keyValues, what string) ([]bench.Target, error) {
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	for _, k := range sortedKeys(hw.byTgt) {
		if !seen[k] {
			return nil, usagef("-hw %s=%s: %s is not among %s", k, hw.byTgt[k], k, what)
		}
	}
	prices := bench.DefaultPrices()
	for _, k := range sortedKeys(price) {
		if !seen[k] {
			return nil, usagef("-price %s=%s: %s is not among %s", k, price[k], k, what)
		}
		p, err := bench.ParsePriceOverride(k, price[k])
		if err != nil {
			return nil, usagef("%v", err)
		}
		prices = prices.With(k, p)
	}
	var ts []bench.Target
	for _, n := range names {
		file, err := hw.forTarget(n, len(names))
		if err != nil {
			return nil, usagef("%v", err)
		}
		t, err := bench.ResolveTarget(n, file, prices)
		if err != nil {
			flag := "-target"
			if file != "" && !errors.Is(err, bench.ErrUnknownTarget) {
				flag = "-hw"
			}
			return nil, usagef("%s: %v", flag, err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func sortedKeys(m keyValues) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exactUsage documents -exact (run, sweep).
const exactUsage = "time every NeuronCore instruction one by one: no kernel loop is fast-forwarded " +
	"(the figures are the same, bit for bit; slower; for checking that); default off"
