package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/serve"
)

const serveUsage = `trnsim serve: a model served on whole systems — TTFT, TPOT, tokens/s, $ per million tokens

flags:
  -model NAME          built-in model (llama3-8b, llama3.1-8b, llama3-70b, llama3.1-405b, gpt-oss-20b, gpt-oss-120b)
  -model-file F.json   a model definition file instead (serve/data/models/*.json show the fields)
  -systems S1,S2       systems (trn1.32xlarge, trn2.48xlarge, trn2-ultraserver, trn3-ultraserver,
                       p4d.24xlarge, p4de.24xlarge, p5.48xlarge, p5en.48xlarge, p6-b200.48xlarge, or the
                       -system-file's name)
  -system-file F.json  a user-defined system (chips, fabric, price; see serve.LoadSystem)
  -tp N1,N2            tensor-parallel degree per system, in devices: logical NeuronCores on Trainium
                       (64 on a trn2.48xlarge at lnc=2), GPUs on NVIDIA; 0 or absent = one instance's devices
  -lnc N               logical NeuronCore size on trn2/trn3 (1 or 2; 0 = the chip's default: 2)
  -batch B1,B2         sequences served together (static batch)
  -in N1,N2 -out M1,M2 input and output tokens per sequence, paired in order (-in 128,2048 -out 128,2048)
  -weights DT          weight storage: bf16, fp8, int8, mxfp4 (MoE experts on trainium3/b200 only)
  -kv DT               KV-cache dtype: bf16, fp8
  -overhead-us US      serving overhead per step in µs, reported apart from device time
                       (default: calibrated per vendor on results/measured/e2e*.csv: Trainium 860, NVIDIA 2390)
  -price S=USD/UNIT,.. price of a system: UNIT is chip-hour or instance-hour (e.g. trn2.48xlarge=2.235/chip-hour);
                       default: the system's first row in prices/prices.csv, basis shown beside every cost
  -basis B             pick built-in prices on one basis: on-demand, capacity-block, spot, reserved-1yr
  -skew X              MoE routing skew: the busiest expert device gets X times its uniform share of tokens (default 1)
  -prefill-chunk N     tokens whose activations are live at once, for the memory check (default 8192)
  -tuned FILE          tuned file (trnsim tune -o): NeuronCore kernels at variant=best run its
                       configurations for the shapes it holds
  -format table|csv    output format (default table)
  -o FILE.csv          also write the CSV (schema serve/SCHEMA.md) to FILE.csv
  -plot FILE.svg|png   chart output tokens/s per chip against tokens/s per user (one point per batch),
                       and USD per million output tokens against it in FILE-cost.svg|png

Units: times in ms, throughput in output tokens/s (system and per chip), prices in USD per hour,
costs in USD per million tokens. A configuration that does not fit in HBM is reported with its
shortfall in GiB per device and the smallest TP that fits; when nothing requested fits, exit 2.`

// serveRequest is what trnsim serve was asked for, parsed and validated: the model, the systems with
// their prices resolved, the sweep axes and the outputs.
type serveRequest struct {
	model      serve.Model
	systems    []serve.System
	tps        []int // tensor-parallel degree per system; empty or 0 = one instance's devices
	batches    []int
	ins, outs  []int // input and output tokens per sequence, paired by index
	lnc        int
	weights    string
	kv         string
	overheadUs float64 // < 0: the vendor's calibrated default
	chunk      int
	skew       float64
	format     string // table or csv
	outFile    string
	plotFile   string
	plotFormat string
	tunedFile  string // -tuned: tuned NeuronCore configurations for the estimator's kernels
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	req, help, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	if help {
		fmt.Fprintln(stdout, serveUsage)
		return nil
	}
	rows, notes, fitted, err := sweepServe(req)
	if err != nil {
		return err
	}
	if fitted == 0 {
		return usagef("serve: nothing requested fits in HBM: %s", strings.Join(notes, "; "))
	}
	return writeServeOutputs(stdout, req, rows)
}

// parseServeFlags parses and validates trnsim serve's flags into a request; help reports -h, in which case
// nothing past the flag syntax was checked. Every error is a usage error naming the flag.
func parseServeFlags(args []string) (req *serveRequest, help bool, err error) {
	fs := newFlags("serve")
	var (
		model      = fs.String("model", "llama3-8b", "")
		modelFile  = fs.String("model-file", "", "")
		systems    = fs.String("systems", "trn2.48xlarge,p5.48xlarge", "")
		systemFile = fs.String("system-file", "", "")
		tpList     = fs.String("tp", "", "")
		lnc        = fs.Int("lnc", 0, "")
		batches    = fs.String("batch", "1", "")
		inList     = fs.String("in", "2048", "")
		outList    = fs.String("out", "2048", "")
		weights    = fs.String("weights", "bf16", "")
		kv         = fs.String("kv", "bf16", "")
		overhead   = fs.Float64("overhead-us", -1, "")
		prices     = fs.String("price", "", "")
		basis      = fs.String("basis", "", "")
		chunk      = fs.Int("prefill-chunk", 8192, "")
		skew       = fs.Float64("skew", 1, "")
		format     = fs.String("format", "table", "")
		outFile    = fs.String("o", "", "")
		plotFile   = fs.String("plot", "", "")
		helpFlag   = fs.Bool("h", false, "")
	)
	var tuned tunedFlag
	tuned.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, false, err
	}
	if *helpFlag {
		return nil, true, nil
	}
	if len(pos) > 0 {
		return nil, false, usagef("serve: unexpected argument %q (everything is a flag; trnsim serve -h)", pos[0])
	}
	if *format != "table" && *format != "csv" {
		return nil, false, usagef("serve -format %q: allowed table, csv", *format)
	}
	r := &serveRequest{tunedFile: tuned.file, lnc: *lnc, weights: *weights, kv: *kv, overheadUs: *overhead, chunk: *chunk, skew: *skew,
		format: *format, outFile: *outFile, plotFile: *plotFile}
	if *plotFile != "" {
		if r.plotFormat, err = results.PlotFormat(*plotFile); err != nil {
			return nil, false, usagef("serve -plot %v", err)
		}
	}
	if r.model, err = loadServeModel(*model, *modelFile); err != nil {
		return nil, false, err
	}
	if r.systems, err = loadServeSystems(*systems, *systemFile); err != nil {
		return nil, false, err
	}
	if r.tps, err = intList("-tp", *tpList, 0); err != nil {
		return nil, false, err
	}
	if len(r.tps) > 0 && len(r.tps) != len(r.systems) {
		return nil, false, usagef("serve -tp %q: give one degree per system (%d systems)", *tpList, len(r.systems))
	}
	if r.batches, err = intList("-batch", *batches, 1); err != nil {
		return nil, false, err
	}
	if r.ins, err = intList("-in", *inList, 1); err != nil {
		return nil, false, err
	}
	if r.outs, err = intList("-out", *outList, 1); err != nil {
		return nil, false, err
	}
	if len(r.batches) == 0 || len(r.ins) == 0 || len(r.ins) != len(r.outs) {
		return nil, false, usagef("serve -in %q -out %q: give as many input as output lengths (paired in order), and at least one batch", *inList, *outList)
	}
	if *lnc < 0 {
		return nil, false, usagef("serve -lnc %d: allowed 0 (default), 1, 2", *lnc)
	}
	if err := resolveServePrices(r.systems, *basis, *prices); err != nil {
		return nil, false, err
	}
	for _, o := range []struct{ flag, path string }{{"-o", r.outFile}, {"-plot", r.plotFile}} {
		if o.path != "" {
			if err := checkOutput(o.flag, o.path); err != nil {
				return nil, false, err
			}
		}
	}
	return r, false, nil
}

// resolveServePrices decides the one price each system is costed at: -basis keeps the system's first built-in
// price on that basis (none if it has none), then each -price entry replaces the named system's price.
// A -price entry naming a system outside syss is a usage error.
func resolveServePrices(syss []serve.System, basis, prices string) error {
	if basis != "" {
		for i := range syss {
			p, ok := syss[i].PriceFor(basis)
			if !ok {
				syss[i].Prices = nil
				continue
			}
			syss[i].Prices = []serve.Price{p}
		}
	}
	if prices == "" {
		return nil
	}
	for _, e := range strings.Split(prices, ",") {
		name, _, _ := strings.Cut(e, "=")
		found := false
		for i := range syss {
			if syss[i].Name == strings.TrimSpace(name) {
				p, err := serve.ParsePriceFlag(e, syss[i])
				if err != nil {
					return usagef("serve %v", err)
				}
				syss[i].Prices = []serve.Price{p}
				found = true
			}
		}
		if !found {
			return usagef("serve -price %q: system %q is not in -systems", e, name)
		}
	}
	return nil
}

// sweepServe estimates every (lengths, batch, system) point of the request, in that nesting order, and
// returns one row per point: the rows that do not fit carry their FitError (whose message is also in
// notes), fitted counts the rows that do. Trainium rows get a break-even against every priced GPU row
// of the same batch and lengths.
func sweepServe(req *serveRequest) (rows []serve.Row, notes []string, fitted int, err error) {
	est := serve.NewEstimator()
	if req.tunedFile != "" {
		tab, err := loadTuned(req.tunedFile)
		if err != nil {
			return nil, nil, 0, err
		}
		est.WithTuned(tab)
	}
	for li := range req.ins {
		for _, b := range req.batches {
			var gpuRows []int
			start := len(rows)
			for si, s := range req.systems {
				e, err := est.Run(req.options(si, b, li))
				var fe *serve.FitError
				if errors.As(err, &fe) {
					rows = append(rows, serve.Row{Est: e, FitErr: fe})
					notes = append(notes, fe.Error())
					continue
				}
				if err != nil {
					return nil, nil, 0, usagef("serve %s: %v", s.Name, err)
				}
				fitted++
				r := serve.Row{Est: e}
				if p, ok := s.PriceFor(""); ok {
					c := serve.CostOf(e, p)
					r.Cost = &c
				}
				rows = append(rows, r)
				if s.Chip.Vendor == serve.NVIDIA && r.Cost != nil {
					gpuRows = append(gpuRows, len(rows)-1)
				}
			}
			addBreakEvens(rows[start:], rows, gpuRows)
		}
	}
	return rows, notes, fitted, nil
}

// options is the estimator's input for system si at batch b and the li-th (input, output) length pair,
// with the request's defaults resolved against the system: LNC 0 = the chip's default, TP 0 = one
// instance's devices, a negative overhead = the vendor's calibrated overhead.
func (req *serveRequest) options(si, b, li int) serve.Options {
	s := req.systems[si]
	o := serve.Options{Model: req.model, System: s, LNC: req.lnc, Batch: b, InputLen: req.ins[li], OutputLen: req.outs[li],
		WeightDType: req.weights, KVDType: req.kv, OverheadUs: req.overheadUs, PrefillChunk: req.chunk, RoutingSkew: req.skew}
	if o.LNC == 0 {
		o.LNC = s.Chip.DefaultLNC
	}
	if len(req.tps) > 0 && req.tps[si] > 0 {
		o.TP = req.tps[si]
	} else {
		o.TP = s.InstanceChips * s.Chip.DevicesPerChip(o.LNC)
	}
	if o.OverheadUs < 0 {
		o.OverheadUs = serve.DefaultOverheadUs(s.Chip.Vendor)
	}
	return o
}

// addBreakEvens appends to every fitted Trainium row of group (the rows of one batch and length pair) its
// break-even against each GPU row all[gi], in gpuRows' order.
func addBreakEvens(group, all []serve.Row, gpuRows []int) {
	for _, gi := range gpuRows {
		g := all[gi]
		for i := range group {
			r := &group[i]
			if r.FitErr != nil || r.Est.System.Chip.Vendor != serve.Trainium {
				continue
			}
			p, ok := r.Est.System.PriceFor("")
			r.Evens = append(r.Evens, serve.BreakEvenOf(r.Est, g.Est, *g.Cost, p, ok))
		}
	}
}

// writeServeOutputs writes the rows: the CSV file (-o) and the charts (-plot, plus FILE-cost beside it
// when any row is priced) first, each written whole or not at all, then the table or CSV on stdout.
func writeServeOutputs(stdout io.Writer, req *serveRequest, rows []serve.Row) error {
	if req.outFile != "" {
		if err := writeOutput(req.outFile, stdout, func(w io.Writer) error { return serve.WriteCSV(w, rows) }); err != nil {
			return fmt.Errorf("serve -o %s: %w", req.outFile, err)
		}
	}
	if req.plotFile != "" {
		if err := writeServeCharts(stdout, req.plotFile, req.plotFormat, req.model.Name, rows); err != nil {
			return err
		}
	}
	if req.format == "csv" {
		return serve.WriteCSV(stdout, rows)
	}
	printServeTable(stdout, req.model, rows)
	return nil
}

// writeServeCharts writes the throughput chart to file and, when there is a cost chart, FILE-cost.EXT
// beside it, in the given plot format.
func writeServeCharts(stdout io.Writer, file, format, model string, rows []serve.Row) error {
	tc, cc, err := serve.Charts(rows, model)
	if err != nil {
		return usagef("serve -plot: %v", err)
	}
	if err := writeOutput(file, stdout, func(w io.Writer) error { return tc.Write(w, format) }); err != nil {
		return fmt.Errorf("serve -plot %s: %w", file, err)
	}
	if cc == nil {
		return nil
	}
	ext := filepath.Ext(file)
	costFile := strings.TrimSuffix(file, ext) + "-cost" + ext
	if err := writeOutput(costFile, stdout, func(w io.Writer) error { return cc.Write(w, format) }); err != nil {
		return fmt.Errorf("serve -plot %s: %w", costFile, err)
	}
	return nil
}

func loadServeModel(name, file string) (serve.Model, error) {
	if file == "" {
		m, err := serve.ModelByName(name)
		if err != nil {
			return m, usagef("serve -model: %v", err)
		}
		return m, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return serve.Model{}, usagef("serve -model-file: %v", err)
	}
	defer f.Close()
	m, err := serve.LoadModel(f, file)
	if err != nil {
		return m, usagef("serve -model-file: %v", err)
	}
	return m, nil
}

func loadServeSystems(list, file string) ([]serve.System, error) {
	var user *serve.System
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, usagef("serve -system-file: %v", err)
		}
		s, err := serve.LoadSystem(f, file)
		f.Close()
		if err != nil {
			return nil, usagef("serve -system-file: %v", err)
		}
		user = &s
	}
	var out []serve.System
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if user != nil && n == user.Name {
			out = append(out, *user)
			continue
		}
		s, err := serve.SystemByName(n)
		if err != nil {
			return nil, usagef("serve -systems: %v", err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, usagef("serve -systems %q: name at least one system", list)
	}
	return out, nil
}

// intList parses a comma-separated list of integers ≥ min.
func intList(flag, s string, min int) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < min || v > 1<<20 {
			return nil, usagef("serve %s %q: %q is not an integer in %d..%d", flag, s, f, min, 1<<20)
		}
		out = append(out, v)
	}
	return out, nil
}

func printServeTable(w io.Writer, m serve.Model, rows []serve.Row) {
	pc := m.Params()
	fmt.Fprintf(w, "model %s: %.1f B parameters (%s)\n", m.Name, pc.Total()/1e9, m.Source)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\ttp\tlnc\tbatch\tin/out\tHBM GiB/dev (w+kv+act/have)\tmax batch\tTTFT ms\tTPOT ms\t(of it overhead)\te2e s\ttok/s system\ttok/s/chip\ttok/s/user\t$/h per chip\t$/Mtok out\t$/Mtok in\tbasis\t")
	for _, r := range rows {
		e := r.Est
		f := e.Fit
		mem := fmt.Sprintf("%.1f+%.1f+%.1f/%.1f", f.Weights/(1<<30), f.KV/(1<<30), f.Activations/(1<<30), f.Have/(1<<30))
		lead := fmt.Sprintf("%s\t%d\t%d\t%d\t%d/%d\t%s\t%d\t", e.System.Name, e.TP, e.LNC, e.Batch, e.InputLen, e.OutputLen, mem, f.MaxBatch)
		if r.FitErr != nil {
			short := fmt.Sprintf("does not fit: %.1f GiB short", r.FitErr.ShortGiB)
			if r.FitErr.MinTP > 0 {
				short += fmt.Sprintf(", tp≥%d fits", r.FitErr.MinTP)
			}
			fmt.Fprintf(tw, "%s%s\t\t\t\t\t\t\t\t\t\t\t\t\n", lead, short)
			continue
		}
		price, out, in, basis := "-", "-", "-", "no price (-price)"
		if c := r.Cost; c != nil {
			price, out, in = fmt.Sprintf("%.3f", c.USDPerChipHour), fmt.Sprintf("%.3f", c.USDPerMOut), fmt.Sprintf("%.3f", c.USDPerMIn)
			basis = c.Price.Basis + " " + c.Price.Date
		}
		fmt.Fprintf(tw, "%s%.1f\t%.2f\t%.2f\t%.1f\t%.0f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n", lead, e.TTFTms, e.TPOTms, e.OverheadUs/1e3,
			e.E2Ems/1e3, e.OutTokS, e.OutTokSChp, e.UserTokS, price, out, in, basis)
	}
	tw.Flush()
	for _, r := range rows {
		for _, b := range r.Evens {
			fmt.Fprintf(w, "%s vs %s, batch %d, %d/%d: break-even %.3f $/chip-hour (%.2f $/instance-hour); 30%% cheaper at %.3f, 40%% cheaper at %.3f $/chip-hour (GPU at %.3f $/Mtok, %s)",
				b.Trn, b.GPU, r.Est.Batch, r.Est.InputLen, r.Est.OutputLen, b.EvenUSDPerChipHour, b.EvenUSDPerInstanceHour,
				b.Cheaper30USDPerChipHour, b.Cheaper40USDPerChipHour, b.GPUUSDPerMOut, b.GPUBasis)
			if !math.IsNaN(b.TrnCheaperPct) {
				fmt.Fprintf(w, "; at %.3f $/chip-hour (%s) Trainium is %.0f%% cheaper", b.TrnUSDPerChipHour, b.TrnBasis, b.TrnCheaperPct)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "device = logical NeuronCore (Trainium) or GPU; tok/s/user = 1000/TPOT; $/Mtok out charges all time to output tokens, $/Mtok in the prefill time to input tokens")
}
