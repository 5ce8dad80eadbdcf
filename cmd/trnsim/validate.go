package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// runner times one workload on one named target and returns the device
// time in microseconds and the variant that ran.
type runner func(p kernels.Params, target string) (us float64, variant string, err error)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate")
	out := fs.String("o", "", "write the rows with predicted_us (µs) and error_pct (%) to the CSV `FILE` (atomically; not the input)")
	summary := fs.String("summary", "", "write the summary (MAPE per target/kernel/variant group, then the overall row \"all\") to the CSV `FILE` (atomically)")
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
		if *summary != "" {
			return usagef("validate: -summary is for kernel measured-data files; %s is end-to-end serving data", pos[0])
		}
		return validateE2EFile(pos[0], *out, stdout)
	}
	if *summary != "" {
		if *summary == *out {
			return usagef("validate: -summary and -o name the same file %s", *out)
		}
		if err := checkOutput("-summary", *summary, pos[0]); err != nil {
			return err
		}
	}
	run, err := newRunner(&hw, measuredTargets(pos[0]))
	if err != nil {
		return err
	}
	return validateFile(pos[0], *out, *summary, run, stdout)
}

// validateFile reads the measured rows of path, predicts each with run,
// prints the tables and, when out (summary) is set, writes the output
// (summary) CSV atomically.
func validateFile(path, out, summary string, run runner, stdout io.Writer) error {
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
	if summary != "" {
		if err := writeOutput(summary, stdout, v.WriteSummaryCSV); err != nil {
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
// the kernel's FromMeasured facet (or the row's workload spec, which
// overrides the shape columns), then dtype and variant. An empty variant
// is the best the target's library offers ("best" where the kernel has it).
func measuredWorkload(reg *kernels.Registry, m results.Measured) (kernels.Params, error) {
	if m.Workload != "" {
		return specWorkload(reg, m)
	}
	k, err := reg.Lookup(m.Kernel)
	if err != nil {
		return kernels.Params{}, err
	}
	if k.FromMeasured == nil {
		return kernels.Params{}, fmt.Errorf("kernel %s: its shape columns do not map onto its parameters (no FromMeasured): give the row a workload column with the full spec", m.Kernel)
	}
	args := k.FromMeasured(kernels.Measurement{
		Batch: m.Batch, Heads: m.Heads, KVHeads: m.KVHeads, M: m.M, N: m.N, K: m.K,
		Seqlen: m.Seqlen, Headdim: m.Headdim, Causal: m.Causal,
	})
	if m.DType != "" {
		args = append(args, kernels.TextArg("dtype", m.DType))
	}
	if v := measuredVariant(k, m); v != "" {
		args = append(args, kernels.TextArg("variant", v))
	}
	return k.Make(args...)
}

// measuredVariant is the variant a row asks for: its variant column, or
// "best" where the column is empty and the kernel has it.
func measuredVariant(k *kernels.Kernel, m results.Measured) string {
	if m.Variant == "" && allows(k, "variant", "best") {
		return "best"
	}
	return m.Variant
}

// specWorkload is the workload of a row with a workload spec: the spec
// (its kernel must be the row's), then the row's dtype and variant
// columns for the parameters the spec leaves out.
func specWorkload(reg *kernels.Registry, m results.Measured) (kernels.Params, error) {
	p, err := reg.Parse(m.Workload)
	if err != nil {
		return kernels.Params{}, err
	}
	if p.Kernel.Name != m.Kernel {
		return kernels.Params{}, fmt.Errorf("workload %q is kernel %s, but the row's kernel is %s", m.Workload, p.Kernel.Name, m.Kernel)
	}
	named := specNames(m.Workload)
	set := func(name, value string) error {
		if value == "" || named[name] {
			return nil
		}
		p, err = p.With(name, value)
		return err
	}
	if err := set("dtype", m.DType); err != nil {
		return kernels.Params{}, err
	}
	if err := set("variant", measuredVariant(p.Kernel, m)); err != nil {
		return kernels.Params{}, err
	}
	return p, nil
}

// specNames returns the parameter names a workload spec sets.
func specNames(spec string) map[string]bool {
	names := map[string]bool{}
	_, rest, _ := strings.Cut(spec, ":")
	for _, kv := range strings.Split(rest, ",") {
		if k, _, ok := strings.Cut(kv, "="); ok {
			names[strings.TrimSpace(k)] = true
		}
	}
	return names
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
