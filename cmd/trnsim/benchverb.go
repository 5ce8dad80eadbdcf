package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// cmdBench is the main job (`make bench`): a suite on NeuronCores and GPUs
// side by side, printed as tables and written to a results CSV.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench")
	suite := fs.String("suite", "representative", "`SUITE` to run, allowed: "+strings.Join(bench.SuiteNames(), ", "))
	targets := fs.String("targets", strings.Join(bench.DefaultTargets(), ","), "comma-separated `TARGETS`, allowed: "+strings.Join(bench.AllTargets(), ", "))
	out := fs.String("o", "results/bench.csv", "results CSV `FILE` to write (atomically); empty: none")
	jobs := fs.Int("j", 0, "`N` runs in parallel (0: one per CPU)")
	excerpt := fs.Bool("excerpt", false, "print only the simulated-time table (µs), the README's excerpt, and write no CSV")
	headline := fs.Bool("headline", false, "print only the headline (trn2-chip vs h100; trn2.48xlarge vs p5.48xlarge serving llama3-70b), the README's first screen, and write no CSV")
	var tuned tunedFlag
	tuned.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("bench: unexpected argument %q", pos[0])
	}
	if *headline {
		return printHeadline(stdout)
	}
	s, err := bench.SuiteByName(*suite)
	if err != nil {
		return usagef("-suite: %v", err)
	}
	ws, pending, err := s.Workloads(kernels.Builtin())
	if err != nil {
		return usagef("-suite %s: %v", *suite, err)
	}
	for _, p := range pending {
		fmt.Fprintf(stderr, "trnsim bench: skipping %s (kernel not available)\n", p)
	}
	ts := strings.Split(*targets, ",")
	if err := bench.CheckTargetNames(ts); err != nil {
		return usagef("-targets: %v", err)
	}
	var resolved []bench.Target
	for _, t := range ts {
		rt, err := bench.TargetByName(t, "")
		if err != nil {
			return usagef("-targets: %v", err)
		}
		resolved = append(resolved, rt)
	}
	if resolved, err = tuned.apply(resolved); err != nil {
		return err
	}
	if *excerpt {
		*out = ""
	}
	if *out != "" {
		if err := checkOutput("-o", *out); err != nil {
			return err
		}
	}
	rows, err := bench.SweepTargets(context.Background(), ws, resolved, bench.Options{Jobs: *jobs, Unsupported: noteUnsupported(stderr, "bench")})
	if err != nil {
		return err
	}
	if *excerpt {
		printSideBySide(stdout, rows, ts, 1)
		return nil
	}
	if err := printHeadline(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printSideBySide(stdout, rows, ts, -1)
	if *out != "" {
		if err := writeOutput(*out, stdout, func(w io.Writer) error { return results.WriteCSV(w, rows) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %d rows to %s\n", len(rows), *out)
	}
	return nil
}

// printSideBySide prints, for each figure (the first nfig, or all when
// nfig < 0), one line per workload and one column per target.
func printSideBySide(w io.Writer, rows []results.Row, targets []string, nfig int) {
	type key struct{ spec, target string }
	byKey := map[key]results.Row{}
	var specs []string
	for _, r := range rows {
		if _, seen := byKey[key{r.Spec, targets[0]}]; !seen && r.Target == targets[0] {
			specs = append(specs, r.Spec)
		}
		byKey[key{r.Spec, r.Target}] = r
	}
	figures := []struct {
		title string
		cell  func(results.Row) string
	}{
		{"time (µs)", func(r results.Row) string { return num(r.TimeUs, 1) }},
		{"TFLOPS (% of the target's peak)", func(r results.Row) string {
			return num(r.TFLOPS, 1) + " (" + num(r.PctPeak, 0) + "%)"
		}},
		{"bound", func(r results.Row) string { return r.Bound }},
		{"cost per call (USD at each target's price below; - where no price is set)", func(r results.Row) string { return num(r.CostPerCallUSD, -3) }},
	}
	if nfig >= 0 {
		figures = figures[:min(nfig, len(figures))]
	}
	for fi, f := range figures {
		if fi > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, f.title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "workload\t")
		for _, t := range targets {
			fmt.Fprint(tw, t+"\t")
		}
		fmt.Fprintln(tw)
		for _, s := range specs {
			fmt.Fprint(tw, shortSpec(s)+"\t")
			for _, t := range targets {
				r, ok := byKey[key{s, t}]
				c := "-"
				if ok && !math.IsNaN(r.TimeUs) {
					c = f.cell(r)
				}
				fmt.Fprint(tw, c+"\t")
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	if nfig < 0 {
		printPrices(w, targets) // under the cost table
	}
}

// printPrices states, under the cost table, each target's price per unit
// hour with its basis, date and source (or that none is set).
func printPrices(w io.Writer, targets []string) {
	fmt.Fprintln(w, "\nprices (USD per hour of each row's unit, with basis, date and source; -price: per chip-hour or instance-hour, see -h)")
	for _, n := range targets {
		t, err := bench.TargetByName(n, "")
		if err != nil {
			continue
		}
		p := t.Price()
		if !p.Known() {
			fmt.Fprintf(w, "  %-15s no price set\n", n)
			continue
		}
		fmt.Fprintf(w, "  %-15s %.4g per %s-hour, %s, %s: %s\n", n, p.PerUnitHour, bench.RowUnit(t), p.From.Basis, p.From.Date, p.From.Source)
	}
}

// shortSpec drops parameters at their defaults from a canonical spec so the
// table stays narrow.
func shortSpec(spec string) string {
	p, err := kernels.Builtin().Parse(spec)
	if err != nil {
		return spec
	}
	var kept []string
	for i, v := range p.Values() {
		if v[1] != p.Kernel.Params[i].Default {
			kept = append(kept, v[0]+"="+v[1])
		}
	}
	if len(kept) == 0 {
		return p.Kernel.Name
	}
	return p.Kernel.Name + ":" + strings.Join(kept, ",")
}

// noteUnsupported returns a sweep callback that lists, on stderr, the runs
// skipped because the workload does not run on the target.
func noteUnsupported(stderr io.Writer, verb string) func(bench.Item, error) {
	return func(it bench.Item, err error) {
		fmt.Fprintf(stderr, "trnsim %s: no row for %s on %s: %v\n", verb, it.Workload, it.Target.Name(), err)
	}
}
