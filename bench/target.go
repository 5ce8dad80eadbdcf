package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/sim/neuron"
	"github.com/trnsim/trnsim/tune"
)

// Target is one machine a workload runs on, resolved once (ResolveTarget):
// its timing model with a fixed configuration, the peaks its rows are
// measured against, and the price of one unit. A target's name is its
// configuration's name; nothing changes either after resolution.
//
// NeuronTarget and GPUTarget are the two implementations; a new kind of
// machine is a new implementation.
type Target interface {
	// Name is the preset the target was resolved from ("trn2", "h100");
	// rows carry it in their target column.
	Name() string
	// Unit is what one row times and one price unit buys: "NeuronCore" or
	// "GPU".
	Unit() string
	// Time runs one single-kernel workload (not a composite: see
	// RunDetailed) and returns its report, with FLOPs and PeakFLOP set. A
	// workload the target cannot run is kernels.ErrUnsupported.
	Time(p kernels.Params) (Timing, error)
	// TimeProgram runs a NeuronCore program as it is; targets of other
	// kinds return kernels.ErrUnsupported.
	TimeProgram(prog *isa.Program) (Timing, error)
	// PeakFLOPs is the peak FLOP/s for inputs of dtype d (0: no such path).
	PeakFLOPs(d isa.DType) float64
	// HBMBytesPerSec is the HBM bandwidth of one unit, in bytes/s.
	HBMBytesPerSec() float64
	// Price is what one unit costs per hour; Price.PerUnitHour is NaN
	// when no price is known.
	Price() UnitPrice
	// Describe is a one-line summary for listings.
	Describe() string
}

// Timing is one workload or program timed on a target.
type Timing struct {
	Report  *sim.Report
	Program *isa.Program // the NeuronCore program that ran; nil on GPUs
	// Variant is what ran when the workload asked for "best" ("" when the
	// workload named it); Detail says more where the target chooses (the
	// GPU tile and splits).
	Variant, Detail string
}

// NeuronTarget is one NeuronCore of a Trainium generation.
type NeuronTarget struct {
	cfg   neuron.Config
	arch  isa.Arch
	price UnitPrice
	tuned *tune.Table // nil: run workloads as given (see WithTuned)
	exact bool        // time every instruction: no loop fast-forward (see Exact)
}

// Config returns the target's micro-architecture.
func (t *NeuronTarget) Config() neuron.Config { return t.cfg }

// Arch returns the architecture programs for the target are built and
// validated against.
func (t *NeuronTarget) Arch() isa.Arch { return t.arch }

func (t *NeuronTarget) Name() string            { return t.cfg.Name }
func (t *NeuronTarget) Unit() string            { return "NeuronCore" }
func (t *NeuronTarget) Price() UnitPrice        { return t.price }
func (t *NeuronTarget) HBMBytesPerSec() float64 { return t.cfg.HBMBytesPerSec() }
func (t *NeuronTarget) PeakFLOPs(d isa.DType) float64 {
	return t.cfg.PeakFLOPs(d)
}

func (t *NeuronTarget) Time(p kernels.Params) (Timing, error) {
	return t.time(p, func(p kernels.Params) (*sim.Report, *isa.Program, error) {
		prog, err := kernels.BuildNeuron(t.arch, p)
		if err != nil {
			return nil, nil, err
		}
		rep, err := neuron.Run(prog, t.cfg)
		return rep, prog, err
	})
}

// time times p (the tuned configuration of it, if one is recorded) with
// run, which builds its program and times it, stored or streamed, and
// completes the report and the Timing around it: what Time and
// timeStreamed share.
func (t *NeuronTarget) time(p kernels.Params, run func(kernels.Params) (*sim.Report, *isa.Program, error)) (Timing, error) {
	if p.Kernel.Neuron == nil {
		return Timing{}, fmt.Errorf("%s: kernel %s has no NeuronCore version", p, p.Kernel.Name)
	}
	detail := ""
	if q, ok := t.tuned.Lookup(t.Name(), p); ok {
		p, detail = q, tunedDetail(q)
	}
	rep, prog, err := run(p)
	if err != nil {
		return Timing{}, err
	}
	rep.FLOPs = p.Kernel.FLOPs(p)
	rep.PeakFLOP = t.cfg.PeakFLOPs(dtypeOf(p))
	var variant string
	if p.Kernel.NeuronVariant != nil {
		variant = p.Kernel.NeuronVariant(p)
	}
	return Timing{Report: rep, Program: prog, Variant: variant, Detail: detail}, nil
}

func (t *NeuronTarget) TimeProgram(prog *isa.Program) (Timing, error) {
	rep, err := neuron.Run(prog, t.cfg)
	if err != nil {
		return Timing{}, err
	}
	return Timing{Report: rep, Program: prog}, nil
}

func (t *NeuronTarget) Describe() string {
	return describe(t.arch.Core+", one NeuronCore", t.PeakFLOPs(isa.BF16), t.HBMBytesPerSec(), t.price)
}

// GPUTarget is one GPU.
type GPUTarget struct {
	cfg   gpu.Config
	price UnitPrice
}

// Config returns the target's micro-architecture.
func (t *GPUTarget) Config() gpu.Config { return t.cfg }

// WithGPUConfig returns a GPU target like t timed with cfg instead, for a
// part that differs from its preset in a field a hardware file could set
// (p4d's A100 40 GB HBM). cfg must keep t's name: like -hw, it cannot
// rename the target.
func (t *GPUTarget) WithGPUConfig(cfg gpu.Config) (*GPUTarget, error) {
	if cfg.Name != t.cfg.Name {
		return nil, fmt.Errorf("gpu config %q cannot replace %s's", cfg.Name, t.cfg.Name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &GPUTarget{cfg: cfg, price: t.price}, nil
}

func (t *GPUTarget) Name() string            { return t.cfg.Name }
func (t *GPUTarget) Unit() string            { return "GPU" }
func (t *GPUTarget) Price() UnitPrice        { return t.price }
func (t *GPUTarget) HBMBytesPerSec() float64 { return t.cfg.HBMBytesPerSec() }
func (t *GPUTarget) PeakFLOPs(d isa.DType) float64 {
	return t.cfg.PeakFLOPs(d)
}

func (t *GPUTarget) Time(p kernels.Params) (Timing, error) {
	plan, err := tune.GPU(t.cfg, p)
	if err != nil {
		return Timing{}, err
	}
	rep, err := gpu.Run(t.cfg, plan.Kernels)
	if err != nil {
		return Timing{}, err
	}
	rep.FLOPs = p.Kernel.FLOPs(p)
	rep.PeakFLOP = t.PeakFLOPs(dtypeOf(p))
	return Timing{Report: rep, Variant: plan.Variant, Detail: plan.Detail}, nil
}

func (t *GPUTarget) TimeProgram(prog *isa.Program) (Timing, error) {
	return Timing{}, fmt.Errorf("program %s on %s: a NeuronCore program runs on NeuronCore targets: %w", prog.Name, t.Name(), kernels.ErrUnsupported)
}

func (t *GPUTarget) Describe() string {
	return describe(fmt.Sprintf("GPU, %d SMs", t.cfg.SMs), t.PeakFLOPs(isa.BF16), t.HBMBytesPerSec(), t.price)
}

func describe(what string, peak, hbm float64, p UnitPrice) string {
	s := fmt.Sprintf("%s; bf16 %.0f TFLOPS, HBM %.0f GB/s", what, peak/1e12, hbm/1e9)
	if p.Known() {
		unit := map[string]string{"NeuronCore": "core", "GPU": "GPU", "chip": "chip"}[p.Unit]
		if unit == "" {
			unit = p.Unit
		}
		s += fmt.Sprintf("; %.2f USD per %s-hour (%s)", p.PerUnitHour, unit, p.From.Basis)
	} else {
		s += "; no price set (-price)"
	}
	return s
}

// DefaultTargets are the targets sweeps and `make bench` compare by default.
func DefaultTargets() []string { return []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"} }

// AllTargets lists every target name ResolveTarget accepts.
func AllTargets() []string {
	return append(append(neuron.PresetNames(), ChipTargetNames()...), gpu.Presets()...)
}

// TargetByName resolves the preset target name with its default price
// (DefaultPrices), its hardware configuration overridden by the JSON file
// hwFile when hwFile is not empty.
func TargetByName(name, hwFile string) (Target, error) {
	return ResolveTarget(name, hwFile, DefaultPrices())
}

// ErrUnknownTarget is returned (wrapped) for a target name that is no
// preset.
var ErrUnknownTarget = errors.New("unknown target")

// ResolveTarget resolves the preset target name once: its configuration
// (the preset, overridden by the JSON file hwFile when it is not empty:
// see neuron.LoadConfig and gpu.LoadConfig; the file cannot rename the
// target), its architecture, and its price from prices (none when the
// table has no row for name).
//
// A chip-level name ("trn2-chip", "trn2-chip-lnc1": ChipTargetNames) is
// resolved over its core preset, hwFile applying to each core, and priced
// per chip-hour from the core preset's row.
func ResolveTarget(name, hwFile string, prices PriceTable) (Target, error) {
	if core, c, lnc, ok := parseChipName(name); ok {
		t, err := ResolveTarget(core, hwFile, prices)
		if err != nil {
			return nil, err
		}
		price := prices.chipPrice(core, c.PhysicalCores)
		if _, ok := prices[name]; ok { // a -price set on the chip target itself
			price = prices.chipPrice(name, c.PhysicalCores)
		}
		return newChipTarget(name, t.(*NeuronTarget), c, lnc, price)
	}
	for _, n := range neuron.PresetNames() {
		if n != name {
			continue
		}
		cfg, err := neuron.Preset(name)
		if err != nil {
			return nil, err
		}
		if hwFile != "" {
			if cfg, err = loadHW(hwFile, cfg, neuron.LoadConfig); err != nil {
				return nil, err
			}
		}
		arch, err := isa.ArchByName(cfg.Name)
		if err != nil {
			return nil, err
		}
		return &NeuronTarget{cfg: cfg, arch: arch, price: prices.unitPrice(name, "NeuronCore", cfg.CoresPerChip)}, nil
	}
	for _, g := range gpu.Presets() {
		if g != name {
			continue
		}
		cfg, err := gpu.Preset(name)
		if err != nil {
			return nil, err
		}
		if hwFile != "" {
			if cfg, err = loadHW(hwFile, cfg, gpu.LoadConfig); err != nil {
				return nil, err
			}
		}
		return &GPUTarget{cfg: cfg, price: prices.unitPrice(name, "GPU", 1)}, nil
	}
	return nil, fmt.Errorf("%w %q (allowed: %s)", ErrUnknownTarget, name, strings.Join(AllTargets(), ", "))
}

// HWError is a hardware configuration file that cannot be used: the file
// and what is wrong with it (a *neuron.ConfigError or *gpu.ConfigError
// naming the field and the rule, or the error opening it).
type HWError struct {
	File string
	Err  error
}

func (e *HWError) Error() string { return fmt.Sprintf("hardware config %s: %v", e.File, e.Err) }
func (e *HWError) Unwrap() error { return e.Err }

// loadHW overrides base with the JSON hardware config at path, through the
// timing model's own loader.
func loadHW[C any](path string, base C, load func(r io.Reader, base C) (C, error)) (C, error) {
	f, err := os.Open(path)
	if err != nil {
		return base, &HWError{path, err}
	}
	defer f.Close()
	c, err := load(f, base)
	if err != nil {
		return base, &HWError{path, err}
	}
	return c, nil
}

// dtypeOf returns the workload's dtype parameter (bf16 when it has none).
func dtypeOf(p kernels.Params) isa.DType {
	if p.Has("dtype") {
		return p.DType("dtype")
	}
	return isa.BF16
}

// noPrice is a UnitPrice that is not known.
func noPrice(unit string) UnitPrice { return UnitPrice{PerUnitHour: math.NaN(), Unit: unit} }
