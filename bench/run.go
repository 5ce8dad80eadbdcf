package bench

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/neuron"
)

// Result is one workload timed on one target. For composite workloads
// (layer) Parts holds each sub-workload's result and Report is nil.
type Result struct {
	Row     results.Row
	Report  *sim.Report  // nil for composite workloads
	Program *isa.Program // the NeuronCore program RunProgram timed; nil otherwise
	// Detail says what the target chose where it chooses (the GPU tile
	// and splits); "" otherwise.
	Detail string
	Parts  []PartResult
}

// PartResult is one sub-workload of a composite workload.
type PartResult struct {
	Part   kernels.Part
	Result Result
}

// Run times workload p on target t and returns its row and report (the
// report is nil for composite workloads; see RunDetailed for their parts).
// It is RunTiming's row and report, with a single program built and timed
// on the calling goroutine: sweeps run one workload per core.
func Run(p kernels.Params, t Target) (results.Row, *sim.Report, error) {
	r, err := run(p, t, runStreamed)
	return r.Row, r.Report, err
}

// RunDetailed times workload p on target t, keeping one span per
// instruction or phase in its report (what a trace or profile reads) and,
// for composite workloads, each part's result (timed as RunTiming times
// them). A NeuronCore program is streamed through the timing model as
// RunTiming streams it, not stored (Result.Program is nil): each
// instruction keeps a compact span with its source site and operands
// (sim.Spans, well under 100 bytes), and a program may have at most
// MaxTracedInstrs of them (*neuron.SpanCapError beyond). The figures are
// RunTiming's, and the spans those of a stored replay, bit for bit.
func RunDetailed(p kernels.Params, t Target) (Result, error) {
	return run(p, t, runSpans)
}

// MaxTracedInstrs bounds the instructions of a NeuronCore program that
// RunDetailed keeps spans of: 16 Mi instructions, at most about 1.6 GB
// for spans of 100 bytes (a 40-byte record, the bytes moved and the
// operands; the built-in kernels take 60–90). It is larger than
// kernels.MaxStoredInstrs, the cap of a stored program (isa.Instr alone is
// about 400 bytes), which assembly and functional checks still need.
const MaxTracedInstrs = 1 << 24

// RunTiming times workload p on target t like RunDetailed, with the same
// figures bit for bit, but streams the NeuronCore program through the
// timing model as it is built instead of storing it: Result.Program is nil
// and the report has no spans. Its memory does not grow with the program's
// length, so it runs any workload Parse accepts. It uses a second core
// where it can: a composite's parts run concurrently, and a single
// program is timed on its own goroutine while it is built.
func RunTiming(p kernels.Params, t Target) (Result, error) {
	return run(p, t, runPiped)
}

// How run times a NeuronCore program: always streamed, never stored.
const (
	runSpans    = iota // on this goroutine, keeping a compact span per instruction
	runStreamed        // on this goroutine
	runPiped           // timed on a goroutine of its own beside the build
)

// run times p on t, keeping the NeuronCore program as mode says.
// Composite parts are streamed, concurrently.
func run(p kernels.Params, t Target, mode int) (Result, error) {
	if p.Kernel.Parts != nil {
		return runComposite(p, t)
	}
	var tm Timing
	var err error
	if nt, ok := t.(*NeuronTarget); ok {
		tm, err = nt.timeStreamed(p, mode)
	} else if ct, ok := t.(*ChipTarget); ok {
		tm, err = ct.timeStreamed(p, mode)
	} else {
		tm, err = t.Time(p)
	}
	if err != nil {
		return Result{}, err
	}
	rep := tm.Report
	rep.Target = t.Name()
	row := rowOf(p, t, rep, t.HBMBytesPerSec())
	if tm.Variant != "" {
		row.Variant = tm.Variant
	}
	return Result{Row: row, Report: rep, Program: tm.Program, Detail: tm.Detail}, nil
}

// timeStreamed is Time with the program streamed through the timing model
// as it is built instead of stored, as mode says: the same report, bit for
// bit, with spans only for runSpans, and no Program.
func (t *NeuronTarget) timeStreamed(p kernels.Params, mode int) (Timing, error) {
	return t.time(p, func(p kernels.Params) (*sim.Report, *isa.Program, error) {
		rep, err := streamNeuron(p, t.cfg, t.arch, mode, !t.exact)
		if err != nil {
			return nil, nil, err
		}
		rep.Program = p.String() // the name BuildNeuron gives the program
		return rep, nil, nil
	})
}

// streamNeuron builds p's NeuronCore program for arch into a streaming
// Builder whose sink is the timing model, and returns the timing. With
// runStreamed timing runs on this goroutine; otherwise on a goroutine of
// its own beside the build (neuron.Pipe): the figures are the same. With
// runSpans the report keeps a span per instruction, with its source site
// and operands. With ff, kernel loops in steady state are fast-forwarded
// (see neuron.Stream.LoopSkip), with the same figures bit for bit; should
// a fast-forward fail its check, the program is timed again in full.
func streamNeuron(p kernels.Params, cfg neuron.Config, arch isa.Arch, mode int, ff bool) (*sim.Report, error) {
	rep, err := streamNeuronFF(p, cfg, arch, mode, ff)
	var ffe *neuron.FastForwardError
	if ff && errors.As(err, &ffe) {
		return streamNeuronFF(p, cfg, arch, mode, false)
	}
	return rep, err
}

// streamNeuronFF is streamNeuron with loop fast-forward on or off.
func streamNeuronFF(p kernels.Params, cfg neuron.Config, arch isa.Arch, mode int, ff bool) (*sim.Report, error) {
	if mode == runStreamed {
		s, err := neuron.NewStream(cfg)
		if err != nil {
			return nil, err
		}
		s.FastForward(ff)
		b := isa.NewStreamBuilder(arch, p.String(), s)
		if err := p.Kernel.Neuron(b, p); err != nil {
			return nil, err
		}
		if err := b.Err(); err != nil {
			return nil, err
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return s.Report(), nil
	}
	if mode == runSpans && p.Kernel.Instrs != nil && p.Kernel.Instrs(p) > 2*MaxTracedInstrs {
		// Estimates are within a factor of two: refuse before timing
		// millions of instructions only to hit the cap.
		return nil, &neuron.SpanCapError{Cap: MaxTracedInstrs}
	}
	s, err := neuron.NewPipe(cfg)
	if err != nil {
		return nil, err
	}
	s.FastForward(ff)
	b := isa.NewStreamBuilder(arch, p.String(), s)
	if mode == runSpans {
		s.KeepSpans(MaxTracedInstrs)
		b.KeepSites()
	}
	err = p.Kernel.Neuron(b, p)
	if err == nil {
		err = b.Err()
	}
	rep, terr := s.Close()
	if terr != nil {
		// Timing failed first; the Builder only stopped because of it.
		return nil, terr
	}
	if err != nil {
		return nil, err
	}
	if mode == runSpans {
		return s.SpanReport(p.String(), b.Sites()), nil
	}
	return rep, nil
}

func rowOf(p kernels.Params, t Target, rep *sim.Report, hbmPeak float64) results.Row {
	r := results.Row{Kernel: p.Kernel.Name, Target: t.Name(), Unit: RowUnit(t), Spec: p.String()}
	for _, v := range p.Values() {
		n := p.Int(v[0]) // the typed value; 0 for a parameter that is not an integer
		switch v[0] {
		case "variant":
			r.Variant = v[1]
		case "dtype":
			r.DType = v[1]
		case "batch":
			r.Batch = n
		case "heads":
			r.Heads = n
		case "kv_heads":
			r.KVHeads = n
		case "M":
			r.M = n
		case "N":
			r.N = n
		case "K":
			r.K = n
		case "seqlen":
			r.Seqlen = n
		case "headdim":
			r.Headdim = n
		case "causal":
			r.Causal = v[1]
		}
	}
	setFigures(&r, t, rep, hbmPeak)
	return r
}

// RowUnit is the results unit of a target's rows: "core" for a
// NeuronCore, "chip", "gpu".
func RowUnit(t Target) string {
	switch u := t.Unit(); u {
	case "NeuronCore":
		return results.UnitCore
	case "GPU":
		return results.UnitGPU
	default:
		return strings.ToLower(u)
	}
}

// setFigures fills a row's simulated columns from a report: time, FLOPs,
// memory traffic, engine activity, bound and cost. Engine columns are
// filled from what the report has: NeuronCore reports name the engines
// (tensor, vector, ...), GPU reports the SM metrics; the rest stay NaN.
func setFigures(r *results.Row, t Target, rep *sim.Report, hbmPeak float64) {
	sec := rep.TimeNs * 1e-9
	r.TimeUs = rep.TimeNs / 1e3
	r.Cycles = rep.Cycles
	r.ClockGHz = rep.ClockGHz
	r.FLOPs = rep.FLOPs
	r.TFLOPS = rep.TFLOPS()
	r.PctPeak = rep.PctPeak()
	hb := rep.Traffic[sim.LevelHBM]
	r.HBMReadBytes, r.HBMWriteBytes = hb.Read, hb.Write
	r.HBMGBps = math.NaN()
	r.PctHBM = math.NaN()
	if sec > 0 {
		r.HBMGBps = float64(hb.Read+hb.Write) / sec / 1e9
		if hbmPeak > 0 {
			r.PctHBM = float64(hb.Read+hb.Write) / sec / hbmPeak * 100
		}
	}
	active := func(name string) float64 {
		if e, ok := rep.Engine(name); ok {
			return e.ActivePct
		}
		return math.NaN()
	}
	metric := func(name string) float64 {
		if v, ok := rep.Metric(name); ok {
			return v
		}
		return math.NaN()
	}
	r.TensorActivePct, r.VectorActivePct, r.ScalarActivePct = math.NaN(), math.NaN(), math.NaN()
	r.GpSimdActivePct, r.DMAActivePct = math.NaN(), math.NaN()
	r.SMOccupancyPct, r.TensorPipePct, r.MUFUPct = math.NaN(), math.NaN(), math.NaN()
	r.TensorActivePct = active("tensor")
	r.VectorActivePct = active("vector")
	r.ScalarActivePct = active("scalar")
	r.GpSimdActivePct = active("gpsimd")
	r.DMAActivePct = active("dma")
	r.SMOccupancyPct = metric("sm_occupancy_percent")
	r.TensorPipePct = metric("tensor_pipe_percent")
	r.MUFUPct = metric("mufu_percent")
	r.Bound = rep.Bound
	setCost(r, t.Price())
}

// RunProgram times a NeuronCore program given as it is (for instance read
// from text assembly with isa.Parse) on target t. The program is validated
// for the target's generation; its row's kernel is "asm", its spec the
// program's name, and its FLOPs the TensorE FLOPs it performs. GPU targets
// are ErrUnsupported: a NeuronCore program has no GPU version.
func RunProgram(prog *isa.Program, t Target) (Result, error) {
	tm, err := t.TimeProgram(prog)
	if err != nil {
		return Result{}, err
	}
	rep := tm.Report
	rep.Target = t.Name()
	r := results.Row{Kernel: "asm", Target: t.Name(), Unit: RowUnit(t), Spec: prog.Name}
	setFigures(&r, t, rep, t.HBMBytesPerSec())
	return Result{Row: r, Report: rep, Program: prog}, nil
}

// setCost fills the cost columns from the price per hour of one target unit
// and its basis (no price set: the columns stay empty).
func setCost(r *results.Row, price UnitPrice) {
	pricePerHour := price.PerUnitHour
	r.PricePerHourUSD, r.CostPerCallUSD, r.CostPerTFLOPUSD = math.NaN(), math.NaN(), math.NaN()
	r.PriceBasis = ""
	if math.IsNaN(pricePerHour) || pricePerHour <= 0 {
		return
	}
	r.PricePerHourUSD = pricePerHour
	r.PriceBasis = price.From.Basis
	r.CostPerCallUSD = pricePerHour / 3600 * r.TimeUs * 1e-6
	if r.FLOPs > 0 {
		r.CostPerTFLOPUSD = r.CostPerCallUSD / (r.FLOPs / 1e12)
	}
}

// runComposite runs each part of a composite workload and sums them: time,
// FLOPs and bytes add (each part times its count); engine active
// percentages are time-weighted; the bound is the bound of the part that
// takes the most time. The parts are independent and run concurrently on
// up to GOMAXPROCS goroutines; they are summed in their listed order, so
// the result does not depend on how many ran at once.
func runComposite(p kernels.Params, t Target) (Result, error) {
	parts, err := p.Kernel.Parts(p)
	if err != nil {
		return Result{}, err
	}
	done := make([]Result, len(parts))
	errs := make([]error, len(parts))
	next := make(chan int, len(parts))
	for i := range parts {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(parts)) {
		wg.Go(func() {
			for i := range next {
				done[i], errs[i] = run(parts[i].Params, t, runStreamed)
			}
		})
	}
	wg.Wait()
	res := Result{}
	tot := results.Row{Kernel: p.Kernel.Name, Target: t.Name(), Unit: RowUnit(t), Spec: p.String()}
	if p.Has("dtype") {
		tot.DType = p.Str("dtype")
	}
	var longest float64
	weighted := []*float64{&tot.TensorActivePct, &tot.VectorActivePct, &tot.ScalarActivePct, &tot.GpSimdActivePct,
		&tot.DMAActivePct, &tot.SMOccupancyPct, &tot.TensorPipePct, &tot.MUFUPct}
	for i, part := range parts {
		r, err := done[i], errs[i]
		if err != nil {
			return Result{}, fmt.Errorf("%s part %s: %w", p, part.Label, err)
		}
		res.Parts = append(res.Parts, PartResult{Part: part, Result: r})
		n := float64(part.Count)
		pr := r.Row
		tot.TimeUs += n * pr.TimeUs
		tot.Cycles += int64(part.Count) * pr.Cycles
		tot.ClockGHz = pr.ClockGHz
		tot.FLOPs += n * pr.FLOPs
		tot.HBMReadBytes += int64(part.Count) * pr.HBMReadBytes
		tot.HBMWriteBytes += int64(part.Count) * pr.HBMWriteBytes
		src := []float64{pr.TensorActivePct, pr.VectorActivePct, pr.ScalarActivePct, pr.GpSimdActivePct,
			pr.DMAActivePct, pr.SMOccupancyPct, pr.TensorPipePct, pr.MUFUPct}
		for i, w := range weighted {
			*w += n * pr.TimeUs * src[i]
		}
		if n*pr.TimeUs > longest {
			longest, tot.Bound = n*pr.TimeUs, pr.Bound
		}
		// Peak and bandwidth of the target: the same for every part of one dtype.
		tot.PctPeak += n * pr.TimeUs * pr.PctPeak
		tot.PctHBM += n * pr.TimeUs * pr.PctHBM
	}
	for _, w := range weighted {
		*w /= tot.TimeUs
	}
	tot.PctHBM /= tot.TimeUs
	tot.PctPeak /= tot.TimeUs
	tot.TFLOPS = tot.FLOPs / (tot.TimeUs * 1e-6) / 1e12
	tot.HBMGBps = float64(tot.HBMReadBytes+tot.HBMWriteBytes) / (tot.TimeUs * 1e-6) / 1e9
	setCost(&tot, t.Price())
	res.Row = tot
	return res, nil
}
