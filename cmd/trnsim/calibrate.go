package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"

	"gonum.org/v1/gonum/optimize"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim/neuron"
)

// defaultFitParams are the parameters calibrate moves unless -params says
// otherwise: the DMA size curve (A §3.3), which the published cost rules
// leave least determined.
const defaultFitParams = "dma_fixed_ns,dma_peak_bytes_per_ns"

func cmdCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate")
	target := fs.String("target", "", "the NeuronCore target to fit: trn1, trn2 or trn3")
	out := fs.String("o", "", "write the fitted hardware parameters to this -hw JSON file")
	params := fs.String("params", defaultFitParams, "comma-separated parameters to fit (see the table calibrate prints)")
	folds := fs.Int("folds", 5, "k of the k-fold cross-validation (at most the number of rows)")
	evals := fs.Int("evals", 60, "most model evaluations per fit")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("calibrate: want one measured-data CSV file, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("calibrate: -o: want the output -hw JSON file")
	}
	if *folds < 2 {
		return usagef("calibrate: -folds %d: want at least 2", *folds)
	}
	if *evals < 10 {
		return usagef("calibrate: -evals %d: want at least 10", *evals)
	}
	arch, err := isa.ArchByName(*target)
	if err != nil {
		return usagef("calibrate: -target %q: calibrate fits NeuronCore targets (%s); GPU targets are not supported yet",
			*target, strings.Join(neuron.PresetNames(), ", "))
	}
	preset, err := neuron.Preset(*target)
	if err != nil {
		return usagef("calibrate: -target: %v", err)
	}
	ps, err := neuron.SelectFitParams(preset, strings.Split(*params, ","))
	if err != nil {
		return usagef("calibrate: -params: %v", err)
	}
	rows, skipped, err := calibrationRows(pos[0], *target, arch)
	if err != nil {
		return err
	}
	if len(rows) <= len(ps) {
		return usagef("calibrate: %s: %d usable rows for target %s, want more than the %d parameters fitted", pos[0], len(rows), *target, len(ps))
	}
	c := calibration{preset: preset, params: ps, rows: rows, evals: *evals}
	res := c.run(*folds)
	if err := res.print(stdout, c, skipped); err != nil {
		return err
	}
	return results.WriteFileAtomic(*out, func(w io.Writer) error { return writeHW(w, res.fitted, ps) })
}

// calRow is one measured row calibrate fits: its program, built once.
type calRow struct {
	m    results.Measured
	prog *isa.Program
}

// calibrationRows reads path and builds the program of each row of target.
// Rows of other targets, or that do not map to a NeuronCore kernel, are
// returned as skipped lines with the reason.
func calibrationRows(path, target string, arch isa.Arch) ([]calRow, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, usagef("calibrate: %v", err)
	}
	defer f.Close()
	ms, err := results.ReadMeasured(bufio.NewReader(f), path)
	if err != nil {
		return nil, nil, usagef("calibrate: %v", err)
	}
	ks := kernels.All()
	var rows []calRow
	var skipped []string
	for _, m := range ms {
		if m.Target != target {
			skipped = append(skipped, fmt.Sprintf("line %d: target %s, not %s", m.Line, m.Target, target))
			continue
		}
		spec, err := measuredSpec(ks, m)
		if err == nil {
			var p kernels.Params
			if p, err = kernels.Parse(ks, spec); err == nil {
				var prog *isa.Program
				if prog, err = kernels.BuildNeuron(arch, p); err == nil {
					rows = append(rows, calRow{m, prog})
					continue
				}
			}
		}
		skipped = append(skipped, fmt.Sprintf("line %d: %v", m.Line, err))
	}
	if len(rows) == 0 && len(ms) > 0 {
		return nil, nil, usagef("calibrate: %s: no usable rows for target %s (%s)", path, target, strings.Join(skipped, "; "))
	}
	return rows, skipped, nil
}

// calibration is one fitting problem: the preset, the parameters it may
// move and the rows.
type calibration struct {
	preset neuron.Config
	params []neuron.FitParam
	rows   []calRow
	evals  int
}

// config returns the preset with the parameters set to x.
func (c calibration) config(x []float64) neuron.Config {
	cfg := c.preset
	for i, p := range c.params {
		p.Set(&cfg, x[i])
	}
	return cfg
}

// predict times rows idx on cfg and returns each one's predicted time in
// µs, host overhead included (NaN where the model fails). Rows run in
// parallel; each result goes to its own slot, so the order of completion
// changes nothing.
func (c calibration) predict(cfg neuron.Config, idx []int) []float64 {
	out := make([]float64, len(idx))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				row := c.rows[idx[k]]
				r, err := neuron.Run(row.prog, cfg)
				if err != nil {
					out[k] = math.NaN()
					continue
				}
				out[k] = r.TimeNs/1e3 + row.m.HostOverheadUs
			}
		}()
	}
	for k := range idx {
		work <- k
	}
	close(work)
	wg.Wait()
	return out
}

// logLoss is the mean squared log error of predictions of rows idx.
func (c calibration) logLoss(pred []float64, idx []int) float64 {
	s := 0.0
	for k, i := range idx {
		e := math.Log(pred[k] / c.rows[i].m.MeasuredUs)
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return math.Inf(1)
		}
		s += e * e
	}
	return s / float64(len(idx))
}

// fit minimises the log loss over rows idx with Nelder–Mead in an
// unbounded coordinate u per parameter, x = lo + (hi − lo)·σ(u), from the
// preset. It is deterministic: one start, no randomness, sequential
// evaluations.
func (c calibration) fit(idx []int) []float64 {
	n := len(c.params)
	toX := func(u []float64) []float64 {
		x := make([]float64, n)
		for i, p := range c.params {
			x[i] = p.Lo + (p.Hi-p.Lo)/(1+math.Exp(-u[i]))
		}
		return x
	}
	u0 := make([]float64, n)
	for i, p := range c.params {
		f := (p.Get(c.preset) - p.Lo) / (p.Hi - p.Lo)
		f = min(max(f, 0.01), 0.99)
		u0[i] = math.Log(f / (1 - f))
	}
	prob := optimize.Problem{Func: func(u []float64) float64 {
		return c.logLoss(c.predict(c.config(toX(u)), idx), idx)
	}}
	settings := &optimize.Settings{
		FuncEvaluations: c.evals,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-8, Iterations: 20},
	}
	// Restarts from the best point so far with a fresh, smaller simplex:
	// a simulated time is piecewise smooth (schedules change order), and
	// one simplex can collapse on a kink. The evaluation budget is shared.
	best, fbest := u0, prob.Func(u0)
	left := c.evals
	for size := 0.5; left > 2*(n+1) && size > 0.01; size /= 4 {
		settings.FuncEvaluations = left
		res, err := optimize.Minimize(prob, best, settings, &optimize.NelderMead{SimplexSize: size})
		if err != nil && res == nil {
			break
		}
		left -= res.Stats.FuncEvaluations
		if res.F < fbest {
			best, fbest = res.X, res.F
		}
	}
	return toX(best)
}

// calResult is what calibrate reports.
type calResult struct {
	x                  []float64 // fitted parameters
	fitted             neuron.Config
	before, after, cv  []float64 // per row, µs (cv: predicted by the fold that left the row out)
	folds              int
	lossBefore, lossFt float64
	lossCV             float64
}

func (c calibration) run(k int) calResult {
	all := make([]int, len(c.rows))
	for i := range all {
		all[i] = i
	}
	var r calResult
	x0 := make([]float64, len(c.params))
	for i, p := range c.params {
		x0[i] = p.Get(c.preset)
	}
	r.before = c.predict(c.config(x0), all)
	r.x = c.fit(all)
	r.fitted = c.config(r.x)
	r.after = c.predict(r.fitted, all)
	r.lossBefore, r.lossFt = c.logLoss(r.before, all), c.logLoss(r.after, all)

	// k-fold: row i is in fold i mod k; each fold is predicted by a fit to
	// the others, when they still outnumber the parameters.
	r.folds = min(k, len(c.rows))
	r.cv = make([]float64, len(c.rows))
	for i := range r.cv {
		r.cv[i] = math.NaN()
	}
	for f := range r.folds {
		var train, test []int
		for i := range c.rows {
			if i%r.folds == f {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		if len(train) <= len(c.params) {
			continue
		}
		pred := c.predict(c.config(c.fit(train)), test)
		for j, i := range test {
			r.cv[i] = pred[j]
		}
	}
	var cvIdx []int
	var cvPred []float64
	for i, v := range r.cv {
		if !math.IsNaN(v) {
			cvIdx = append(cvIdx, i)
			cvPred = append(cvPred, v)
		}
	}
	r.lossCV = math.NaN()
	if len(cvIdx) > 0 {
		r.lossCV = c.logLoss(cvPred, cvIdx)
	}
	return r
}

func pctErr(pred, meas float64) float64 { return 100 * (pred/meas - 1) }

func (r calResult) print(w io.Writer, c calibration, skipped []string) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "parameter\tunit\tpreset\tfitted\tlower\tupper\ton_bound\t\n")
	for i, p := range c.params {
		pre := p.Get(c.preset)
		onb := ""
		if span := p.Hi - p.Lo; r.x[i]-p.Lo < 0.005*span {
			onb = "lower"
		} else if p.Hi-r.x[i] < 0.005*span {
			onb = "upper"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.4g\t%.4g\t%s\t\n", p.Name, p.Unit, pre, r.x[i], p.Lo, p.Hi, onb)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range c.params {
		fmt.Fprintf(w, "  %s: %s\n", p.Name, p.Source)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "line\tkernel\tvariant\tshape\tmeasured_us\tpreset_us\terr_pct\tfitted_us\terr_pct\tcv_us\terr_pct\t\n")
	for i, row := range c.rows {
		m := row.m
		cv, cve := "-", "-"
		if !math.IsNaN(r.cv[i]) {
			cv, cve = fmt.Sprintf("%.1f", r.cv[i]), fmt.Sprintf("%+.1f", pctErr(r.cv[i], m.MeasuredUs))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1f\t%.1f\t%+.1f\t%.1f\t%+.1f\t%s\t%s\t\n", m.Line, m.Kernel, m.Variant, m.Shape(),
			m.MeasuredUs, r.before[i], pctErr(r.before[i], m.MeasuredUs), r.after[i], pctErr(r.after[i], m.MeasuredUs), cv, cve)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(w, "skipped %s\n", s)
	}
	rms := func(l float64) string {
		if math.IsNaN(l) {
			return "n/a"
		}
		return fmt.Sprintf("%.2f%%", 100*math.Sqrt(l))
	}
	fmt.Fprintf(w, "\nRMS log-time error over %d rows: preset %s, fitted %s, %d-fold cross-validated %s\n",
		len(c.rows), rms(r.lossBefore), rms(r.lossFt), r.folds, rms(r.lossCV))
	switch {
	case math.IsNaN(r.lossCV):
		fmt.Fprintln(w, "verdict: no fold has more rows than parameters; the fit is not cross-validated")
	case r.lossFt < r.lossBefore && r.lossCV >= r.lossBefore:
		fmt.Fprintln(w, "verdict: OVERFITTED: the fit improves the rows it saw but not the rows it did not; keep the preset")
	case r.lossCV > 4*r.lossFt && r.lossCV > 1e-4:
		fmt.Fprintln(w, "verdict: cross-validated error well above the fit error; the fit generalises only in part")
	default:
		fmt.Fprintln(w, "verdict: the cross-validated error supports the fit")
	}
	return nil
}

// writeHW writes the fitted parameters as a -hw JSON object: the Config
// fields they set. dma_fixed_ns is written as the sustained rate it
// implies at the reference transfer size, next to the asymptote.
func writeHW(w io.Writer, cfg neuron.Config, ps []neuron.FitParam) error {
	fields := map[string]any{}
	for _, p := range ps {
		switch p.Name {
		case "dma_fixed_ns", "dma_peak_bytes_per_ns":
			fields["dma_peak_bytes_per_ns"] = cfg.DMAPeakBytesPerNs
			fields["dma_sustained_bytes_per_ns"] = cfg.DMASustainedBytesPerNs
		case "semaphore_cycles":
			fields[p.Name] = cfg.SemaphoreCycles
		case "access_latency_cycles":
			fields[p.Name] = cfg.AccessLatencyCycles
		default:
			fields[p.Name] = p.Get(cfg)
		}
	}
	b, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
