package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// runner times one workload on one named target and returns the device
// time in microseconds and the variant that ran.
type runner func(p kernels.Params, target string) (us float64, variant string, err error)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate")
	out := fs.String("o", "", "write the rows with predicted_us (µs) and error_pct (%) to the CSV `FILE` (atomically; not the input)")
	var hw hwFlag
	fs.Var(&hw, "hw", "hardware config override, as for run: FILE.json (a file with one target) or target=FILE.json, repeatable")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("validate: want one measured-data CSV file, got %d arguments", len(pos))
	}
	if *out != "" {
		if err := checkOutput("-o", *out, pos[0]); err != nil {
			return err
		}
	}
	if isE2EFile(pos[0]) {
		return validateE2EFile(pos[0], *out, stdout)
	}
	run, err := newRunner(&hw, measuredTargets(pos[0]))
	if err != nil {
		return err
	}
	return validateFile(pos[0], *out, run, stdout)
}

// validateFile reads the measured rows of path, predicts each with run,
// prints the tables and, when out is set, writes the output CSV
// atomically.
func validateFile(path, out string, run runner, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("validate: %v", err)
	}
	defer f.Close()
	ms, err := results.ReadMeasured(bufio.NewReader(f), path)
	if err != nil {
		return usagef("validate: %v", err)
	}
	v := results.Validate(ms, predictor(kernels.Builtin(), run))
	if err := v.Print(stdout); err != nil {
		return err
	}
	if out != "" {
		if err := writeOutput(out, stdout, v.WriteCSV); err != nil {
			return err
		}
	}
	return nil
}

// predictor returns the prediction validate makes for a measured row: its
// workload mapped through the kernel's FromMeasured facet, made against
// reg and timed with run. A row that cannot be mapped, made or run gets the
// error as its Reason, so the other rows still validate.
func predictor(reg *kernels.Registry, run runner) func(results.Measured) results.Prediction {
	return func(m results.Measured) results.Prediction {
		p, err := measuredWorkload(reg, m)
		if err != nil {
			return results.Prediction{Reason: err.Error()}
		}
		us, variant, err := run(p, m.Target)
		if err != nil {
			return results.Prediction{Reason: err.Error()}
		}
		return results.Prediction{DeviceUs: us, Detail: variant}
	}
}

// measuredWorkload maps a measured row to a workload: the shape through
// the kernel's FromMeasured facet, then dtype and variant. An empty variant
// is the best the target's library offers ("best" where the kernel has it).
func measuredWorkload(reg *kernels.Registry, m results.Measured) (kernels.Params, error) {
	k, err := reg.Lookup(m.Kernel)
	if err != nil {
		return kernels.Params{}, err
	}
	if k.FromMeasured == nil {
		return kernels.Params{}, fmt.Errorf("kernel %s: its measured rows cannot be validated (the kernel has no FromMeasured)", m.Kernel)
	}
	args := k.FromMeasured(kernels.Measurement{
		Batch: m.Batch, Heads: m.Heads, KVHeads: m.KVHeads, M: m.M, N: m.N, K: m.K,
		Seqlen: m.Seqlen, Headdim: m.Headdim, Causal: m.Causal,
	})
	if m.DType != "" {
		args = append(args, kernels.TextArg("dtype", m.DType))
	}
	variant := m.Variant
	if variant == "" && allows(k, "variant", "best") {
		variant = "best"
	}
	if variant != "" {
		args = append(args, kernels.TextArg("variant", variant))
	}
	return k.Make(args...)
}

// allows reports whether kernel k's enum parameter name accepts value.
func allows(k *kernels.Kernel, name, value string) bool {
	for _, d := range k.Params {
		if d.Name == name && slices.Contains(d.Allowed, value) {
			return true
		}
	}
	return false
}
