package main

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// runRequest is what trnsim run was asked for, resolved and checked: what runs (a workload or an -asm
// program) on which targets, and where its outputs go.
type runRequest struct {
	title, kernel string
	p             kernels.Params // the workload; zero for an -asm program
	runOn         func(bench.Target) (bench.Result, error)
	targets       []bench.Target
	format        string // text, csv or results
	out           string
	check         bool
	profile       string
	trace         string
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	req, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	res, err := runTargets(req, stderr)
	if err != nil {
		return err
	}
	if req.check {
		if err := checkAll(stdout, req.p, req.targets); err != nil {
			return err
		}
	}
	return writeRunOutputs(stdout, req, res)
}

// parseRunFlags parses trnsim run's flags and arguments and refuses, before anything is timed, what
// cannot run: the input, the targets, the flag combinations, the output paths, and a -check too large for
// memory.
func parseRunFlags(args []string) (*runRequest, error) {
	fs := newFlags("run")
	var tf targetFlags
	tf.register(fs, "trn2")
	var tuned tunedFlag
	tuned.register(fs)
	format := fs.String("format", "text", "output format, allowed: text (tables), csv (results CSV rows; a composite workload's per-part rows), results (results CSV rows, always)")
	out := fs.String("o", "", "write the output to `FILE` (atomically; through a symlink) instead of standard output; - is standard output")
	check := fs.Bool("check", false, "also run the workload functionally on the NeuronCore targets and compare with the float64 reference (exit 1 on failure)")
	profile := fs.String("profile", "", "write a pprof profile of simulated time (gzipped protobuf; sample values in ns) to `FILE`; needs one target")
	trace := fs.String("trace", "", "write a Chrome/Perfetto trace (JSON, timestamps in µs) to `FILE`; needs one target")
	asmFile := fs.String("asm", "", "time the text-assembly program in `FILE` (trnsim asm's format) instead of a WORKLOAD; NeuronCore targets only")
	exact := fs.Bool("exact", false, exactUsage)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if *format != "text" && *format != "csv" && *format != "results" {
		return nil, usagef("-format %q: allowed: text, csv, results", *format)
	}
	req := &runRequest{format: *format, out: *out, check: *check, profile: *profile, trace: *trace}
	if err := req.resolveInput(*asmFile, pos); err != nil {
		return nil, err
	}
	if req.targets, err = tf.resolve(); err != nil {
		return nil, err
	}
	if req.targets, err = tuned.apply(req.targets); err != nil {
		return nil, err
	}
	if *exact {
		req.targets = bench.Exact(req.targets)
	}
	if (*profile != "" || *trace != "") && len(req.targets) != 1 {
		return nil, usagef("-profile and -trace need exactly one -target, got %d", len(req.targets))
	}
	if *check && *asmFile != "" {
		return nil, usagef("-check needs a WORKLOAD (its float64 reference); -asm programs have none")
	}
	for _, o := range []struct{ flag, path string }{{"-o", *out}, {"-profile", *profile}, {"-trace", *trace}} {
		if o.path != "" {
			if err := checkOutput(o.flag, o.path, *asmFile); err != nil {
				return nil, err
			}
		}
	}
	if *check && req.p.Kernel.Neuron != nil {
		// Refuse a check too large for memory before any timing runs.
		for _, t := range req.targets {
			if nt, ok := t.(*bench.NeuronTarget); ok {
				if err := checkMemory(nt.Arch(), req.p); err != nil {
					return nil, err
				}
			}
		}
	}
	return req, nil
}

// resolveInput decides what runs on each target: the program read from asmFile when it is set (no
// WORKLOAD argument then), else the one WORKLOAD in pos, timed streamed unless a profile or trace
// needs the detailed report.
func (req *runRequest) resolveInput(asmFile string, pos []string) error {
	if asmFile != "" {
		if len(pos) != 0 {
			return usagef("run: -asm %s takes no WORKLOAD argument, got %q", asmFile, pos[0])
		}
		prog, err := readProgram(asmFile)
		if err != nil {
			return err
		}
		req.title, req.kernel = asmFile+" ("+prog.Name+")", "asm"
		req.runOn = func(t bench.Target) (bench.Result, error) { return bench.RunProgram(prog, t) }
		return nil
	}
	if len(pos) != 1 {
		return usagef("run: want one WORKLOAD argument, got %d", len(pos))
	}
	p, err := kernels.Builtin().Parse(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	req.p, req.title, req.kernel = p, p.String(), p.Kernel.Name
	detailed := req.profile != "" || req.trace != ""
	req.runOn = func(t bench.Target) (bench.Result, error) {
		if !detailed {
			return bench.RunTiming(p, t) // streamed: memory independent of program length
		}
		return bench.RunDetailed(p, t)
	}
	return nil
}

// runTargets times the request on each target in order. Side by side, a target the workload does not run
// on is a note on stderr, not a failure of the others; it is an error only when no target ran.
func runTargets(req *runRequest, stderr io.Writer) ([]bench.Result, error) {
	var res []bench.Result
	var firstUnsupported error
	for _, t := range req.targets {
		r, err := req.runOn(t)
		if errors.Is(err, kernels.ErrUnsupported) && len(req.targets) > 1 {
			fmt.Fprintf(stderr, "trnsim run: %s: not supported: %v\n", t.Name(), err)
			firstUnsupported = cmp.Or(firstUnsupported, err)
			continue
		}
		if err != nil {
			return nil, usagef("%s on %s: %v", req.title, t.Name(), err)
		}
		res = append(res, r)
	}
	if len(res) == 0 {
		return nil, usagef("%s: %v", req.title, firstUnsupported)
	}
	return res, nil
}

// writeRunOutputs writes the profile and trace of the first result when asked, then the results as a
// table or CSV to -o or stdout.
func writeRunOutputs(stdout io.Writer, req *runRequest, res []bench.Result) error {
	if req.profile != "" {
		r := res[0]
		if r.Report == nil {
			return usagef("-profile: %s is composite; profile one of its parts", req.kernel)
		}
		if err := writeOutput(req.profile, stdout, func(w io.Writer) error {
			return results.WriteProfile(w, r.Report, req.kernel)
		}); err != nil {
			return err
		}
	}
	if req.trace != "" {
		r := res[0]
		if r.Report == nil {
			return usagef("-trace: %s is composite; trace one of its parts", req.kernel)
		}
		if err := writeOutput(req.trace, stdout, func(w io.Writer) error {
			return results.WriteTrace(w, r.Report)
		}); err != nil {
			return err
		}
	}
	write := func(w io.Writer) error {
		switch {
		case req.format == "csv" && composite(res):
			return writePartsCSV(w, res)
		case req.format == "csv" || req.format == "results":
			rows := make([]results.Row, len(res))
			for i, r := range res {
				rows[i] = r.Row
			}
			return results.WriteCSV(w, rows)
		}
		printRun(w, req.title, res)
		return nil
	}
	if req.out != "" {
		return writeOutput(req.out, stdout, write)
	}
	return write(stdout)
}

// checkAll runs the functional check on every NeuronCore target.
func checkAll(w io.Writer, p kernels.Params, ts []bench.Target) error {
	for _, t := range ts {
		nt, ok := t.(*bench.NeuronTarget)
		if !ok {
			continue
		}
		if err := printCheck(w, p, nt.Arch()); err != nil {
			return err
		}
	}
	return nil
}

// printRun writes the side-by-side table of one workload on several
// targets, then the per-part breakdown of composite workloads.
func printRun(w io.Writer, title string, res []bench.Result) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tunit\ttime_us\tTFLOPS\tpct_peak\tHBM_GB/s\t%HBM\tbound\tUSD/call\tUSD/TFLOP\tprice (USD/unit-h, basis)\t  engines (active %)")
	for _, r := range res {
		row := r.Row
		price := "-"
		if row.PriceBasis != "" {
			price = num(row.PricePerHourUSD, 4) + " " + row.PriceBasis
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t  %s\n", row.Target, row.Unit, num(row.TimeUs, 2), num(row.TFLOPS, 1),
			num(row.PctPeak, 1), num(row.HBMGBps, 0), num(row.PctHBM, 1), row.Bound, num(row.CostPerCallUSD, -3),
			num(row.CostPerTFLOPUSD, -3), price, engines(row))
	}
	tw.Flush()
	for _, r := range res {
		if len(r.Parts) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s breakdown (-format csv gives every part's full workload):\n", r.Row.Target)
		// Numbers align right; the last column (the workload, left
		// aligned, no padding) keeps the table within 120 columns.
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "part\tcount\tus_each\tus_total\tshare_%\tbound\t  workload")
		for _, pr := range r.Parts {
			each := pr.Result.Row.TimeUs
			tot := each * float64(pr.Part.Count)
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t  %s\n", pr.Part.Label, pr.Part.Count, num(each, 2), num(tot, 1),
				num(tot/r.Row.TimeUs*100, 1), pr.Result.Row.Bound, clip(partSpec(pr.Part.Params), maxWorkloadCell))
		}
		fmt.Fprintf(tw, "total\t\t\t%s\t100.0\t%s\t\n", num(r.Row.TimeUs, 1), r.Row.Bound)
		tw.Flush()
	}
}

// maxWorkloadCell bounds the workload column of the breakdown table so a
// line stays within 120 columns.
const maxWorkloadCell = 50

// clip shortens s to at most n runes, marking the cut with "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// partSpec is a part's workload without the knobs left at their defaults
// (batch, dtype, variant, tile sizes): the shape stays, so the breakdown
// says what each part computes.
func partSpec(p kernels.Params) string {
	var kept []string
	for i, v := range p.Values() {
		switch v[0] {
		case "batch", "dtype", "variant", "tiles_m", "tiles_n", "tiles_k":
			if v[1] == p.Kernel.Params[i].Default {
				continue
			}
		}
		kept = append(kept, v[0]+"="+v[1])
	}
	return p.Kernel.Name + ":" + strings.Join(kept, ",")
}

// composite reports whether any result has a per-part breakdown.
func composite(res []bench.Result) bool {
	for _, r := range res {
		if len(r.Parts) > 0 {
			return true
		}
	}
	return false
}

// partsColumns is the header of the per-part CSV of a composite workload.
var partsColumns = []string{"target", "part", "count", "us_each", "us_total", "share_pct", "bound", "spec"}

// writePartsCSV writes one row per (target, part) of composite results:
// the part name in its own column, its count, the simulated µs of one run
// and of all count runs, its share of the target's total in percent, its
// bound and its full workload spec; then a "total" row per target.
func writePartsCSV(w io.Writer, res []bench.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(partsColumns)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range res {
		for _, pr := range r.Parts {
			each := pr.Result.Row.TimeUs
			tot := each * float64(pr.Part.Count)
			cw.Write([]string{r.Row.Target, pr.Part.Label, strconv.Itoa(pr.Part.Count), g(each), g(tot),
				g(tot / r.Row.TimeUs * 100), pr.Result.Row.Bound, pr.Part.Params.String()})
		}
		cw.Write([]string{r.Row.Target, "total", "", "", g(r.Row.TimeUs), "100", r.Row.Bound, r.Row.Spec})
	}
	cw.Flush()
	return cw.Error()
}

// engines summarises per-engine activity of a row.
func engines(r results.Row) string {
	var parts []string
	add := func(name string, v float64) {
		if !math.IsNaN(v) {
			parts = append(parts, fmt.Sprintf("%s %.0f", name, v))
		}
	}
	add("tensor", r.TensorActivePct)
	add("vector", r.VectorActivePct)
	add("scalar", r.ScalarActivePct)
	add("gpsimd", r.GpSimdActivePct)
	add("dma", r.DMAActivePct)
	add("occupancy", r.SMOccupancyPct)
	add("tensor_pipe", r.TensorPipePct)
	add("mufu", r.MUFUPct)
	return strings.Join(parts, " ")
}

// num formats v with prec decimals, or with -prec significant digits when
// prec is negative; NaN prints as "-".
func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	if prec < 0 {
		return strconv.FormatFloat(v, 'g', -prec, 64)
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// readProgram reads a text-assembly file (the format trnsim asm prints).
func readProgram(path string) (*isa.Program, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("-asm: %v", err)
	}
	defer f.Close()
	prog, err := isa.Parse(f)
	if err != nil {
		return nil, usagef("-asm %s: %v", path, err)
	}
	if len(prog.Instrs) == 0 {
		return nil, usagef("-asm %s: the program has no instructions (want trnsim asm's format: .program, .tensor lines, then instructions)", path)
	}
	return prog, nil
}
