package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/tune"
)

// tuneTrial is one configuration tried on one target, with what the
// command prints and writes of it.
type tuneTrial struct {
	trial  tune.Trial
	row    results.Row
	sbuf   int    // SBUF bytes per partition the program touches (0: n/a)
	detail string // GPU plan detail
}

// tuneTarget is the outcome of tuning one workload on one target.
type tuneTarget struct {
	work     kernels.Params
	target   bench.Target
	strategy string
	space    int
	trials   []tuneTrial
	best     int // index in trials; -1: none feasible
	def      int // index of the default plan
}

// tuneRequest is what `trnsim tune` was asked for, checked before any
// timing: the workloads with tunables, the resolved targets, the search
// options and the outputs.
type tuneRequest struct {
	works    []kernels.Params
	targets  []bench.Target
	jobs     int
	budget   int
	seed     uint64
	top      int
	csvOut   string
	out      string
	tab      *tune.Table // the tuned file to add to (-o), empty when new
	warnings []string    // suite workloads skipped
}

// cmdTune searches the tunable parameters of a workload on each target.
func cmdTune(args []string, stdout, stderr io.Writer) error {
	req, err := parseTuneFlags(args)
	if err != nil {
		return err
	}
	for _, w := range req.warnings {
		fmt.Fprintln(stderr, w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	outs, err := runTune(ctx, req, stderr)
	if err != nil {
		return err
	}
	// Write the files first (atomically), then print: a failed write
	// leaves nothing half-done.
	if err := writeTuneOutputs(req, outs, stdout); err != nil {
		return err
	}
	for _, o := range outs {
		printTune(stdout, o.work, o, req.top)
	}
	return nil
}

// parseTuneFlags reads and checks tune's flags and arguments, resolves the
// workloads and targets, and checks the outputs, all before any timing.
func parseTuneFlags(args []string) (*tuneRequest, error) {
	fs := newFlags("tune")
	var tf targetFlags
	tf.register(fs, "trn2")
	jobs := fs.Int("j", 0, "`N` configurations timed in parallel (0: one per CPU); the output is the same for any -j")
	budget := fs.Int("budget", 0, "most configurations `N` timed per target, the default plan included (0: no limit)")
	seed := fs.Uint64("seed", 1, "seed of coordinate descent's restarts (spaces larger than "+strconv.Itoa(tune.ExhaustiveMax)+")")
	top := fs.Int("top", 10, "rows `K` of the top-k table per target")
	csvOut := fs.String("csv", "", "write every configuration tried to this CSV `FILE` (the results schema plus tune_* columns)")
	out := fs.String("o", "", "write the best NeuronCore configurations to this tuned `FILE` (JSON) for -tuned; "+
		"an existing tuned file keeps its other entries (one file can hold every shape of a layer)")
	suiteName := fs.String("suite", "", "tune every workload of this `SUITE` (and the parts of its layers) instead of one WORKLOAD: "+strings.Join(bench.SuiteNames(), ", "))
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if (len(pos) == 1) == (*suiteName != "") {
		return nil, usagef("tune: want one WORKLOAD argument or -suite NAME, got %d arguments and -suite %q", len(pos), *suiteName)
	}
	if *jobs < 0 {
		return nil, usagef("tune: -j %d: want 0 (one per CPU) or more", *jobs)
	}
	if *budget < 0 {
		return nil, usagef("tune: -budget %d: want 0 (no limit) or more", *budget)
	}
	if *top < 1 {
		return nil, usagef("tune: -top %d: want at least 1", *top)
	}
	req := &tuneRequest{jobs: *jobs, budget: *budget, seed: *seed, top: *top, csvOut: *csvOut, out: *out, tab: &tune.Table{}}
	given, err := req.givenWorkloads(*suiteName, pos)
	if err != nil {
		return nil, err
	}
	if req.works, err = tunableWorkloads(given); err != nil {
		return nil, err
	}
	for _, f := range []struct{ flag, path string }{{"-csv", *csvOut}, {"-o", *out}} {
		if f.path != "" {
			if f.path == "-" {
				return nil, usagef("tune: %s -: want a file (standard output holds the table)", f.flag)
			}
			if err := checkOutput(f.flag, f.path); err != nil {
				return nil, err
			}
		}
	}
	if req.targets, err = tf.resolve(); err != nil {
		return nil, err
	}
	if *out != "" {
		if _, err := os.Stat(*out); err == nil {
			if req.tab, err = loadTuned(*out); err != nil {
				return nil, usagef("tune: -o %s exists and is not a tuned file to add to: %v", *out, err)
			}
		}
	}
	if req.jobs == 0 {
		req.jobs = runtime.GOMAXPROCS(0)
	}
	return req, nil
}

// givenWorkloads returns the workloads named on the command line: every
// workload of suiteName (those whose kernel is not available become
// warnings), or the one WORKLOAD of pos.
func (req *tuneRequest) givenWorkloads(suiteName string, pos []string) ([]kernels.Params, error) {
	if suiteName == "" {
		p, err := kernels.Builtin().Parse(pos[0])
		if err != nil {
			return nil, usagef("%v", err)
		}
		return []kernels.Params{p}, nil
	}
	suite, err := bench.SuiteByName(suiteName)
	if err != nil {
		return nil, usagef("tune: -suite: %v", err)
	}
	ws, pending, err := suite.Workloads(kernels.Builtin())
	if err != nil {
		return nil, usagef("tune: -suite %s: %v", suiteName, err)
	}
	for _, w := range pending {
		req.warnings = append(req.warnings, fmt.Sprintf("trnsim tune: skipping %s (kernel not available)", w))
	}
	return ws, nil
}

// tunableWorkloads returns what is tuned of the given workloads: a
// composite workload (layer) contributes each distinct part that has
// tunables, in part order, so one tuned file serves the whole layer.
// Workloads without tunables are left out, except a single one given
// alone (its GPU plans are still worth listing).
func tunableWorkloads(given []kernels.Params) ([]kernels.Params, error) {
	var works []kernels.Params
	seen := map[string]bool{}
	single := len(given) == 1 && given[0].Kernel.Parts == nil
	add := func(w kernels.Params) {
		if !seen[w.String()] && (len(w.Kernel.Tunables()) > 0 || single) {
			seen[w.String()] = true
			works = append(works, w)
		}
	}
	for _, p := range given {
		if p.Kernel.Parts == nil {
			add(p)
			continue
		}
		parts, err := p.Kernel.Parts(p)
		if err != nil {
			return nil, usagef("tune: %v", err)
		}
		for _, pt := range parts {
			add(pt.Params)
		}
	}
	return works, nil
}

// runTune tunes every workload on every target, in that order. A target
// that cannot run a workload is a note on stderr when several targets
// were given; an interrupt stops the search with exit 130 and nothing
// written.
func runTune(ctx context.Context, req *tuneRequest, stderr io.Writer) ([]tuneTarget, error) {
	tty := isTerminal(stderr)
	var outs []tuneTarget
	for _, w := range req.works {
		for _, t := range req.targets {
			var o tuneTarget
			var err error
			opts := tune.Options{Jobs: req.jobs, Budget: req.budget, Seed: req.seed}
			if tty {
				name := t.Name()
				opts.Progress = func(done int) { fmt.Fprintf(stderr, "\r\033[K%s: %d configurations timed", name, done) }
			}
			if gt, ok := t.(*bench.GPUTarget); ok {
				o, err = tuneGPU(w, gt)
			} else {
				o, err = tuneNeuron(ctx, w, t, opts)
			}
			if tty {
				fmt.Fprint(stderr, "\r\033[K")
			}
			if errors.Is(err, kernels.ErrUnsupported) && len(req.targets) > 1 {
				fmt.Fprintf(stderr, "trnsim tune: %s: not supported: %v\n", t.Name(), err)
				continue
			}
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(stderr, "trnsim tune: interrupted; nothing written\n")
				return nil, &exitError{130}
			}
			if err != nil {
				return nil, fmt.Errorf("tune %s on %s: %w", w, t.Name(), err)
			}
			o.work = w
			outs = append(outs, o)
		}
	}
	return outs, nil
}

// writeTuneOutputs writes the CSV of every trial (-csv) and the tuned file
// (-o), each atomically. Only NeuronCore plans faster than the default
// are added to the tuned file: the default needs no entry.
func writeTuneOutputs(req *tuneRequest, outs []tuneTarget, stdout io.Writer) error {
	if req.csvOut != "" {
		if err := writeOutput(req.csvOut, stdout, func(w io.Writer) error { return writeTuneCSV(w, outs) }); err != nil {
			return err
		}
	}
	if req.out == "" {
		return nil
	}
	for _, o := range outs {
		if _, ok := o.target.(*bench.NeuronTarget); !ok || o.best < 0 || o.best == o.def {
			continue
		}
		b, d := o.trials[o.best], o.trials[o.def]
		if err := req.tab.Add(o.target.Name(), b.trial.Params, b.trial.TimeNs/1e3, d.trial.TimeNs/1e3); err != nil {
			return err
		}
	}
	return writeOutput(req.out, stdout, req.tab.Write)
}

// tuneNeuron searches p's tunable space on a NeuronCore target, timing
// each configuration with bench.Run (streamed, timing only).
func tuneNeuron(ctx context.Context, p kernels.Params, t bench.Target, opts tune.Options) (tuneTarget, error) {
	var mu sync.Mutex
	type extra struct {
		row  results.Row
		sbuf int
	}
	got := map[int]extra{}
	nt, _ := t.(*bench.NeuronTarget)
	eval := func(i int, q kernels.Params) (float64, error) {
		row, rep, err := bench.Run(q, t)
		if err != nil {
			return 0, err
		}
		sb := 0
		if nt != nil {
			sb = sbufUse(nt.Arch(), q)
		}
		mu.Lock()
		got[i] = extra{row, sb}
		mu.Unlock()
		return rep.TimeNs, nil
	}
	oc, err := tune.Search(ctx, tune.NewSpace(p), eval, opts)
	if err != nil {
		return tuneTarget{}, err
	}
	if !oc.Trials[0].Feasible() {
		// The workload as given must run: otherwise there is no default
		// to compare with, and the error is the user's to see.
		if oc.Trials[0].Err != nil {
			return tuneTarget{}, oc.Trials[0].Err
		}
		return tuneTarget{}, fmt.Errorf("the workload as given does not fit on-chip memory")
	}
	o := tuneTarget{target: t, strategy: string(oc.Strategy), space: oc.SpaceSize, best: oc.Best, def: 0}
	for i, tr := range oc.Trials {
		tt := tuneTrial{trial: tr}
		if e, ok := got[i]; ok && tr.Feasible() {
			tt.row, tt.sbuf = e.row, e.sbuf
		} else {
			tt.row = emptyRow(tr.Params, t)
		}
		o.trials = append(o.trials, tt)
	}
	return o, nil
}

// tuneGPU times every candidate plan of p on a GPU: the GPU's tunables
// (tile, stages, split-K, KV splits, fa2/fa3) are the plans the kernel's
// GPU description lists, few enough to time them all. The default is the
// plan `best` runs today (tune.GPU's choice), which is the fastest by
// construction.
func tuneGPU(p kernels.Params, t *bench.GPUTarget) (tuneTarget, error) {
	res, errs, err := bench.RunGPUPlans(p, t)
	if err != nil {
		return tuneTarget{}, err
	}
	o := tuneTarget{target: t, strategy: string(tune.Exhaustive), space: len(res), best: -1}
	for i, r := range res {
		tr := tune.Trial{Params: p, TimeNs: r.Row.TimeUs * 1e3, Err: errs[i]}
		if tr.Err != nil {
			tr.TimeNs = math.Inf(1)
		}
		o.trials = append(o.trials, tuneTrial{trial: tr, row: r.Row, detail: r.Detail})
		if tr.Feasible() && (o.best < 0 || tr.TimeNs < o.trials[o.best].trial.TimeNs) {
			o.best = i
		}
	}
	if o.best < 0 {
		return tuneTarget{}, errs[0]
	}
	o.def = o.best
	o.trials[o.def].trial.Default = true
	return o, nil
}

// sbufSink records the highest SBUF byte per partition any instruction's
// access pattern reaches.
type sbufSink struct{ hi int }

func (s *sbufSink) Tensor(int, isa.TensorDecl) {}

func (s *sbufSink) Instr(_ int, in *isa.Instr) error {
	see := func(a isa.AP) {
		if a.Mem == isa.SBUF {
			_, h := a.Span()
			s.hi = max(s.hi, h)
		}
	}
	see(in.Dst)
	for _, a := range in.Src {
		see(a)
	}
	see(in.Red)
	return nil
}

// sbufUse returns the SBUF bytes per partition p's NeuronCore program
// touches on arch, building it again into a sink that keeps nothing but
// that (0 when it does not build: the timing run reported why).
func sbufUse(arch isa.Arch, p kernels.Params) int {
	var s sbufSink
	b := isa.NewStreamBuilder(arch, p.String(), &s)
	if p.Kernel.Neuron(b, p) != nil || b.Err() != nil {
		return 0
	}
	return s.hi
}

// emptyRow is the row of a configuration that was not timed: its workload
// columns, every figure empty.
func emptyRow(p kernels.Params, t bench.Target) results.Row {
	r := results.Row{Kernel: p.Kernel.Name, Target: t.Name(), Unit: bench.RowUnit(t), Spec: p.String(), DType: p.Str("dtype"), Variant: p.Str("variant")}
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Float64 {
			f.SetFloat(math.NaN())
		}
	}
	return r
}

// ranked returns the indices of o's feasible trials, fastest first (trial
// order among equals).
func (o tuneTarget) ranked() []int {
	var idx []int
	for i, t := range o.trials {
		if t.trial.Feasible() {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ta, tb := o.trials[a].trial.TimeNs, o.trials[b].trial.TimeNs
		switch {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	return idx
}

// configText names a trial's configuration: its tunable values, or the GPU
// plan.
func configText(p kernels.Params, t tuneTrial) string {
	if t.detail != "" {
		return t.row.Variant + " " + t.detail
	}
	var kv []string
	for _, d := range p.Kernel.Tunables() {
		kv = append(kv, d.Name+"="+t.trial.Params.Str(d.Name))
	}
	return strings.Join(kv, ",")
}

func printTune(w io.Writer, p kernels.Params, o tuneTarget, top int) {
	infeasible, failed := 0, 0
	for _, t := range o.trials {
		switch {
		case t.trial.Infeasible:
			infeasible++
		case t.trial.Err != nil:
			failed++
		}
	}
	fmt.Fprintf(w, "%s on %s: %s search, %d configurations tried of %d (%d timed, %d infeasible for SBUF/PSUM, %d failed)\n",
		p, o.target.Name(), o.strategy, len(o.trials), o.space, len(o.trials)-infeasible-failed, infeasible, failed)
	b, d := o.trials[o.best], o.trials[o.def]
	if o.best >= 0 {
		if _, ok := o.target.(*bench.GPUTarget); ok {
			fmt.Fprintf(w, "  best:    %s (GPU plan %s)\n", p, configText(p, b))
		} else {
			fmt.Fprintf(w, "  best:    %s\n", b.trial.Params)
		}
		fmt.Fprintf(w, "  default: %.2f us (%s); best %.2f us: %.3fx\n", d.row.TimeUs, configText(p, d), b.row.TimeUs, d.row.TimeUs/b.row.TimeUs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  rank\ttime_us\tvs default\tpct_peak\tbound\tSBUF KiB\tconfiguration\t")
	for k, i := range o.ranked() {
		if k >= top {
			break
		}
		t := o.trials[i]
		sb := "-"
		if t.sbuf > 0 {
			sb = fmt.Sprintf("%.1f", float64(t.sbuf)/1024)
		}
		mark := ""
		if t.trial.Default {
			mark = " (default)"
		}
		fmt.Fprintf(tw, "  %d\t%.2f\t%.3fx\t%.1f\t%s\t%s\t%s%s\t\n", k+1, t.row.TimeUs, d.row.TimeUs/t.row.TimeUs, t.row.PctPeak, t.row.Bound, sb, configText(p, t), mark)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// writeTuneCSV writes every trial: the results schema, then tune_status
// (timed, infeasible, failed), tune_default, tune_sbuf_bytes, tune_detail
// (the GPU plan) and one tune_<param> column per tunable parameter.
func writeTuneCSV(w io.Writer, outs []tuneTarget) error {
	var rows []results.Row
	var extra [][]string
	// The tunables of every workload tuned, each once, in first-seen order.
	var tun []kernels.Param
	for _, o := range outs {
		for _, d := range o.work.Kernel.Tunables() {
			if !slices.ContainsFunc(tun, func(x kernels.Param) bool { return x.Name == d.Name }) {
				tun = append(tun, d)
			}
		}
	}
	for _, o := range outs {
		for _, t := range o.trials {
			rows = append(rows, t.row)
			status := "timed"
			switch {
			case t.trial.Infeasible:
				status = "infeasible"
			case t.trial.Err != nil:
				status = "failed"
			}
			sb := ""
			if t.sbuf > 0 {
				sb = strconv.Itoa(t.sbuf)
			}
			e := []string{status, strconv.FormatBool(t.trial.Default), sb, t.detail}
			for _, d := range tun {
				if t.detail != "" || !t.trial.Params.Has(d.Name) {
					e = append(e, "")
				} else {
					e = append(e, t.trial.Params.Str(d.Name))
				}
			}
			extra = append(extra, e)
		}
	}
	var buf bytes.Buffer
	if err := results.WriteCSV(&buf, rows); err != nil {
		return err
	}
	rd := csv.NewReader(&buf)
	recs, err := rd.ReadAll()
	if err != nil {
		return err
	}
	head := []string{"tune_status", "tune_default", "tune_sbuf_bytes", "tune_detail"}
	for _, d := range tun {
		head = append(head, "tune_"+d.Name)
	}
	cw := csv.NewWriter(w)
	for i, rec := range recs {
		if i == 0 {
			rec = append(rec, head...)
		} else {
			rec = append(rec, extra[i-1]...)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
