package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
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
// otherwise: on a NeuronCore the DMA size curve (A §3.3), which the
// published cost rules leave least determined; on a GPU the achieved HBM
// bandwidth and the launch cost (B §1.4, §1.5).
const (
	defaultFitParams    = "dma_fixed_ns,dma_peak_bytes_per_ns"
	defaultGPUFitParams = "hbm_efficiency,launch_us"
)

func cmdCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate")
	target := fs.String("target", "", "the target to fit: a NeuronCore (trn1, trn2, trn3) or a GPU (a100, h100, h100-pcie, h200, b200)")
	out := fs.String("o", "", "write the fitted hardware parameters to this -hw JSON file")
	params := fs.String("params", "", "comma-separated parameters to fit (default "+defaultFitParams+" on a NeuronCore, "+defaultGPUFitParams+" on a GPU)")
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
	if err := checkOutput("-o", *out, pos[0]); err != nil {
		return err
	}
	if *folds < 2 {
		return usagef("calibrate: -folds %d: want at least 2", *folds)
	}
	if *evals < 10 {
		return usagef("calibrate: -evals %d: want at least 10", *evals)
	}
	if *target == "" {
		return usagef("calibrate: -target: want a NeuronCore or GPU target")
	}
	model, rows, skipped, err := newCalModel(pos[0], *target, *params)
	if err != nil {
		return err
	}
	if len(rows) <= len(model.params()) {
		return usagef("calibrate: %s: %d usable rows for target %s, want more than the %d parameters fitted", pos[0], len(rows), *target, len(model.params()))
	}
	c := calibration{model: model, rows: rows, evals: *evals}
	res := c.run(*folds)
	if err := res.print(stdout, c, skipped); err != nil {
		return err
	}
	return writeOutput(*out, stdout, func(w io.Writer) error { return model.writeHW(w, res.x) })
}

// calParam is one fitted parameter as calibrate reports it.
type calParam struct {
	name, unit, source string
	lo, hi, preset     float64
}

// calModel is the timing model of one target with the parameters a
// calibration moves: it times row i of the rows it was built with at
// parameter values x, and writes x as a -hw file.
type calModel interface {
	params() []calParam
	timeUs(x []float64, row int) (float64, error)
	writeHW(w io.Writer, x []float64) error
}

// newCalModel reads path and builds the model of target with the named
// parameters, and the rows it can time. Rows of other targets, or that do
// not map to a kernel the target runs, are returned as skipped lines with
// the reason.
func newCalModel(path, target, params string) (calModel, []results.Measured, []string, error) {
	ms, err := readCalRows(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var keep []results.Measured
	var skipped, others []string
	nOther := 0
	for _, m := range ms {
		if m.Target != target {
			if !slices.Contains(others, m.Target) {
				others = append(others, m.Target)
			}
			nOther++
			continue
		}
		keep = append(keep, m)
	}
	if nOther > 0 {
		skipped = append(skipped, fmt.Sprintf("%d rows of other targets (%s)", nOther, strings.Join(others, ", ")))
	}
	var model calModel
	var ok []results.Measured
	if arch, aerr := isa.ArchByName(target); aerr == nil {
		if params == "" {
			params = defaultFitParams
		}
		model, ok, skipped, err = newNeuronCalModel(arch, keep, strings.Split(params, ","), skipped)
	} else {
		if params == "" {
			params = defaultGPUFitParams
		}
		model, ok, skipped, err = newGPUCalModel(target, keep, strings.Split(params, ","), skipped)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if len(ok) == 0 {
		return nil, nil, nil, usagef("calibrate: %s: no usable rows for target %s (%s)", path, target, strings.Join(skipped, "; "))
	}
	return model, ok, skipped, nil
}

func readCalRows(path string) ([]results.Measured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("calibrate: %v", err)
	}
	defer f.Close()
	ms, err := results.ReadMeasured(bufio.NewReader(f), path)
	if err != nil {
		return nil, usagef("calibrate: %v", err)
	}
	return ms, nil
}

// neuronCalModel is a NeuronCore preset with the parameters of
// neuron.FitParams; each row's program is built once.
type neuronCalModel struct {
	preset neuron.Config
	ps     []neuron.FitParam
	progs  []*isa.Program
}

func newNeuronCalModel(arch isa.Arch, ms []results.Measured, names []string, skipped []string) (calModel, []results.Measured, []string, error) {
	preset, err := neuron.Preset(arch.Name)
	if err != nil {
		return nil, nil, nil, usagef("calibrate: -target: %v", err)
	}
	ps, err := neuron.SelectFitParams(preset, names)
	if err != nil {
		return nil, nil, nil, usagef("calibrate: -params: %v", err)
	}
	m := &neuronCalModel{preset: preset, ps: ps}
	ok, skipped := usableRows(ms, skipped, func(p kernels.Params) error {
		prog, err := kernels.BuildNeuron(arch, p)
		if err == nil {
			m.progs = append(m.progs, prog)
		}
		return err
	})
	return m, ok, skipped, nil
}

// usableRows keeps the measured rows that map onto a workload which use
// accepts (it keeps what it needs of the workload), in order; every other
// row is added to skipped with its line and the reason.
func usableRows(ms []results.Measured, skipped []string, use func(kernels.Params) error) ([]results.Measured, []string) {
	reg := kernels.Builtin()
	var ok []results.Measured
	for _, row := range ms {
		p, err := measuredWorkload(reg, row)
		if err == nil {
			err = use(p)
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("line %d: %v", row.Line, err))
			continue
		}
		ok = append(ok, row)
	}
	return ok, skipped
}

func (m *neuronCalModel) params() []calParam {
	out := make([]calParam, len(m.ps))
	for i, p := range m.ps {
		out[i] = calParam{p.Name, p.Unit, p.Source, p.Lo, p.Hi, p.Get(m.preset)}
	}
	return out
}

func (m *neuronCalModel) config(x []float64) neuron.Config {
	cfg := m.preset
	for i, p := range m.ps {
		p.Set(&cfg, x[i])
	}
	return cfg
}

func (m *neuronCalModel) timeUs(x []float64, row int) (float64, error) {
	r, err := neuron.Run(m.progs[row], m.config(x))
	if err != nil {
		return 0, err
	}
	return r.TimeNs / 1e3, nil
}

// writeHW writes the fitted parameters as a -hw JSON object: the Config
// fields they set. dma_fixed_ns is written as the sustained rate it
// implies at the reference transfer size, next to the asymptote.
func (m *neuronCalModel) writeHW(w io.Writer, x []float64) error {
	cfg := m.config(x)
	fields := map[string]any{}
	for _, p := range m.ps {
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
	return writeJSON(w, fields)
}

func writeJSON(w io.Writer, fields map[string]any) error {
	b, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// calibration is one fitting problem: the model with the parameters it
// may move, and the rows.
type calibration struct {
	model calModel
	rows  []results.Measured
	evals int
}

// predict times rows idx on cfg and returns each one's predicted time in
// µs, host overhead included (NaN where the model fails). Rows run in
// parallel; each result goes to its own slot, so the order of completion
// changes nothing.
func (c calibration) predict(x []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				us, err := c.model.timeUs(x, idx[k])
				if err != nil {
					out[k] = math.NaN()
					continue
				}
				out[k] = us + c.rows[idx[k]].HostOverheadUs
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
		e := math.Log(pred[k] / c.rows[i].MeasuredUs)
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
	ps := c.model.params()
	n := len(ps)
	toX := func(u []float64) []float64 {
		x := make([]float64, n)
		for i, p := range ps {
			x[i] = p.lo + (p.hi-p.lo)/(1+math.Exp(-u[i]))
		}
		return x
	}
	u0 := make([]float64, n)
	for i, p := range ps {
		f := (p.preset - p.lo) / (p.hi - p.lo)
		f = min(max(f, 0.01), 0.99)
		u0[i] = math.Log(f / (1 - f))
	}
	prob := optimize.Problem{Func: func(u []float64) float64 {
		return c.logLoss(c.predict(toX(u), idx), idx)
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
	ps := c.model.params()
	x0 := make([]float64, len(ps))
	for i, p := range ps {
		x0[i] = p.preset
	}
	r.before = c.predict(x0, all)
	r.x = c.fit(all)
	r.after = c.predict(r.x, all)
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
		if len(train) <= len(ps) {
			continue
		}
		pred := c.predict(c.fit(train), test)
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
	ps := c.model.params()
	for i, p := range ps {
		onb := ""
		if span := p.hi - p.lo; r.x[i]-p.lo < 0.005*span {
			onb = "lower"
		} else if p.hi-r.x[i] < 0.005*span {
			onb = "upper"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4g\t%.4g\t%.4g\t%.4g\t%s\t\n", p.name, p.unit, p.preset, r.x[i], p.lo, p.hi, onb)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(w, "  %s: %s\n", p.name, p.source)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "line\tkernel\tvariant\tshape\tmeasured_us\tpreset_us\terr_pct\tfitted_us\terr_pct\tcv_us\terr_pct\t\n")
	for i := range c.rows {
		m := &c.rows[i]
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
