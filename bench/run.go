package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/sim/neuron"
	"github.com/trnsim/trnsim/tune"
)

// Kind says which timing model a target uses.
type Kind uint8

const (
	NeuronCore Kind = iota
	GPU
)

// Target is one machine a workload can run on: a NeuronCore generation or a
// GPU, with its hardware config and price.
type Target struct {
	Name   string
	Kind   Kind
	Neuron neuron.Config // Kind == NeuronCore
	GPU    gpu.Config    // Kind == GPU
	// PriceUSDPerHour is what one unit of this target costs per hour: a GPU,
	// or one NeuronCore (the chip's price over its cores). NaN when unset.
	PriceUSDPerHour float64
}

// DefaultTargets are the targets sweeps and `make bench` compare by default.
func DefaultTargets() []string { return []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"} }

// AllTargets lists every target name TargetByName accepts.
func AllTargets() []string {
	names := []string{}
	for _, a := range isa.Archs() {
		names = append(names, a.Name)
	}
	return append(names, gpu.Presets()...)
}

// TargetByName returns the preset target name, with its hardware config
// overridden by the JSON file hwFile when hwFile is not empty.
func TargetByName(name, hwFile string) (Target, error) {
	if _, err := isa.ArchByName(name); err == nil {
		cfg, err := neuron.Preset(name)
		if err != nil {
			return Target{}, err
		}
		if hwFile != "" {
			if cfg, err = loadHW(hwFile, cfg, neuron.LoadConfig); err != nil {
				return Target{}, err
			}
		}
		price := cfg.PriceUSDPerChipHour / float64(cfg.CoresPerChip)
		return Target{Name: name, Kind: NeuronCore, Neuron: cfg, PriceUSDPerHour: price}, nil
	}
	for _, g := range gpu.Presets() {
		if g != name {
			continue
		}
		cfg, err := gpu.Preset(name)
		if err != nil {
			return Target{}, err
		}
		if hwFile != "" {
			if cfg, err = loadHW(hwFile, cfg, gpu.LoadConfig); err != nil {
				return Target{}, err
			}
		}
		return Target{Name: name, Kind: GPU, GPU: cfg, PriceUSDPerHour: cfg.PriceUSDPerHour}, nil
	}
	return Target{}, fmt.Errorf("unknown target %q (allowed: %s)", name, strings.Join(AllTargets(), ", "))
}

// loadHW overrides base with the JSON hardware config at path, through the
// timing model's own loader (which rejects unknown fields).
func loadHW[C any](path string, base C, load func(r io.Reader, base C) (C, error)) (C, error) {
	f, err := os.Open(path)
	if err != nil {
		return base, fmt.Errorf("hardware config: %w", err)
	}
	defer f.Close()
	c, err := load(f, base)
	if err != nil {
		return base, fmt.Errorf("hardware config %s: %w", path, err)
	}
	return c, nil
}

// Result is one workload timed on one target. For composite workloads
// (layer) Parts holds each sub-workload's result and Report is nil.
type Result struct {
	Row     results.Row
	Report  *sim.Report  // nil for composite workloads
	Program *isa.Program // the NeuronCore program (nil on GPUs and for composites)
	Parts   []PartResult
}

// PartResult is one sub-workload of a composite workload.
type PartResult struct {
	Part   kernels.Part
	Result Result
}

// Run times workload p on target t and returns its row and report (the
// report is nil for composite workloads; see RunDetailed for their parts).
func Run(p kernels.Params, t Target) (results.Row, *sim.Report, error) {
	r, err := RunDetailed(p, t)
	return r.Row, r.Report, err
}

// RunDetailed times workload p on target t, keeping the NeuronCore program
// and, for composite workloads, each part's result.
func RunDetailed(p kernels.Params, t Target) (Result, error) {
	if p.Kernel.Parts != nil {
		return runComposite(p, t)
	}
	var (
		rep  *sim.Report
		prog *isa.Program
		err  error
		peak float64
		hbm  float64
		// variant is what ran when the workload asked for "best".
		variant string
	)
	dt := dtypeOf(p)
	switch t.Kind {
	case NeuronCore:
		if p.Kernel.Neuron == nil {
			return Result{}, fmt.Errorf("%s: kernel %s has no NeuronCore version", p, p.Kernel.Name)
		}
		if prog, err = kernels.BuildNeuron(t.Neuron.Arch(), p); err != nil {
			return Result{}, err
		}
		if rep, err = neuron.Run(prog, t.Neuron); err != nil {
			return Result{}, err
		}
		peak, hbm = t.Neuron.PeakFLOPs(dt), t.Neuron.HBMBytesPerSec()
		if p.Kernel.NeuronVariant != nil {
			variant = p.Kernel.NeuronVariant(p)
		}
	case GPU:
		plan, err := tune.GPU(t.GPU, p)
		if err != nil {
			return Result{}, err
		}
		if rep, err = gpu.Run(t.GPU, plan.Kernels); err != nil {
			return Result{}, err
		}
		variant = plan.Variant
		peak, hbm = t.GPU.PeakFLOPs(dt), t.GPU.HBMBytesPerSec()
	}
	rep.Target = t.Name
	rep.FLOPs = p.Kernel.FLOPs(p)
	rep.PeakFLOP = peak
	row := rowOf(p, t, rep, hbm)
	if variant != "" {
		row.Variant = variant
	}
	return Result{Row: row, Report: rep, Program: prog}, nil
}

// dtypeOf returns the workload's dtype parameter (bf16 when it has none).
func dtypeOf(p kernels.Params) isa.DType {
	if p.Has("dtype") {
		return p.DType("dtype")
	}
	return isa.BF16
}

func rowOf(p kernels.Params, t Target, rep *sim.Report, hbmPeak float64) results.Row {
	r := results.Row{Kernel: p.Kernel.Name, Target: t.Name, Spec: p.String()}
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

// setFigures fills a row's simulated columns from a report: time, FLOPs,
// memory traffic, engine activity, bound and cost.
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
	if t.Kind == NeuronCore {
		r.TensorActivePct = active("tensor")
		r.VectorActivePct = active("vector")
		r.ScalarActivePct = active("scalar")
		r.GpSimdActivePct = active("gpsimd")
		r.DMAActivePct = active("dma")
	} else {
		r.SMOccupancyPct = metric("sm_occupancy_percent")
		r.TensorPipePct = metric("tensor_pipe_percent")
		r.MUFUPct = metric("mufu_percent")
	}
	r.Bound = rep.Bound
	setCost(r, t.PriceUSDPerHour)
}

// RunProgram times a NeuronCore program given as it is (for instance read
// from text assembly with isa.Parse) on target t. The program is validated
// for the target's generation; its row's kernel is "asm", its spec the
// program's name, and its FLOPs the TensorE FLOPs it performs. GPU targets
// are ErrUnsupported: a NeuronCore program has no GPU version.
func RunProgram(prog *isa.Program, t Target) (Result, error) {
	if t.Kind != NeuronCore {
		return Result{}, fmt.Errorf("program %s on %s: a NeuronCore program runs on NeuronCore targets: %w", prog.Name, t.Name, kernels.ErrUnsupported)
	}
	rep, err := neuron.Run(prog, t.Neuron)
	if err != nil {
		return Result{}, err
	}
	rep.Target = t.Name
	r := results.Row{Kernel: "asm", Target: t.Name, Spec: prog.Name}
	setFigures(&r, t, rep, t.Neuron.HBMBytesPerSec())
	return Result{Row: r, Report: rep, Program: prog}, nil
}

// setCost fills the cost columns from the price per hour of one target unit
// (NaN: no price set, the columns stay empty).
func setCost(r *results.Row, pricePerHour float64) {
	r.PricePerHourUSD, r.CostPerCallUSD, r.CostPerTFLOPUSD = math.NaN(), math.NaN(), math.NaN()
	if math.IsNaN(pricePerHour) || pricePerHour <= 0 {
		return
	}
	r.PricePerHourUSD = pricePerHour
	r.CostPerCallUSD = pricePerHour / 3600 * r.TimeUs * 1e-6
	if r.FLOPs > 0 {
		r.CostPerTFLOPUSD = r.CostPerCallUSD / (r.FLOPs / 1e12)
	}
}

// runComposite runs each part of a composite workload and sums them: time,
// FLOPs and bytes add (each part times its count); engine active
// percentages are time-weighted; the bound is the bound of the part that
// takes the most time.
func runComposite(p kernels.Params, t Target) (Result, error) {
	parts, err := p.Kernel.Parts(p)
	if err != nil {
		return Result{}, err
	}
	res := Result{}
	tot := results.Row{Kernel: p.Kernel.Name, Target: t.Name, Spec: p.String()}
	if p.Has("dtype") {
		tot.DType = p.Str("dtype")
	}
	var longest float64
	weighted := []*float64{&tot.TensorActivePct, &tot.VectorActivePct, &tot.ScalarActivePct, &tot.GpSimdActivePct,
		&tot.DMAActivePct, &tot.SMOccupancyPct, &tot.TensorPipePct, &tot.MUFUPct}
	for _, part := range parts {
		r, err := RunDetailed(part.Params, t)
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
	setCost(&tot, t.PriceUSDPerHour)
	res.Row = tot
	return res, nil
}

// Describe is a one-line summary of the target for listings: what it is,
// its bf16 peak and HBM bandwidth, and its price when set.
func (t Target) Describe() string {
	var what string
	var peak, hbm float64
	switch t.Kind {
	case NeuronCore:
		what = t.Neuron.Arch().Core + ", one NeuronCore"
		peak, hbm = t.Neuron.PeakFLOPs(isa.BF16), t.Neuron.HBMBytesPerSec()
	case GPU:
		what = fmt.Sprintf("GPU, %d SMs", t.GPU.SMs)
		peak, hbm = t.GPU.PeakFLOPs(isa.BF16), t.GPU.HBMBytesPerSec()
	}
	s := fmt.Sprintf("%s; bf16 %.0f TFLOPS, HBM %.0f GB/s", what, peak/1e12, hbm/1e9)
	if !math.IsNaN(t.PriceUSDPerHour) && t.PriceUSDPerHour > 0 {
		s += fmt.Sprintf("; %.2f USD/h", t.PriceUSDPerHour)
	} else {
		s += "; no price set (-price)"
	}
	return s
}
