package kernels

import (
	"fmt"
	"math/rand/v2"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// Kernel is one workload kind and the single place everything about it
// lives: its parameters (with their domains and the tunable subset), how
// to build it for a NeuronCore, how it runs on a GPU, its size estimate,
// its FLOPs, its float64 reference and tolerance, and how a row of
// measured data maps onto it. Register checks which facets are required
// (see Registry.Register).
type Kernel struct {
	Name   string
	Doc    string
	Params []Param

	// Check rejects parameter combinations the kernel cannot run (nil: all
	// combinations the Params allow are valid).
	Check func(p Params) error

	// FLOPs returns the workload's useful FLOPs, by the conventions of
	// docs/hardware.md B §1.5 (GEMM 2·M·N·K; attention 4·b·h·s²·d, halved when
	// causal; decode 4·b·s·d·h_q).
	FLOPs func(p Params) float64

	// Instrs estimates the number of instructions of p's NeuronCore
	// program without building it, from the work tiles its loops visit and
	// the instructions per tile `trnsim asm` shows; Parse refuses a
	// workload whose estimate exceeds MaxInstrs. It may overestimate,
	// never return 0 for real work.
	Instrs func(p Params) float64

	// Neuron emits the NeuronCore program for p into b, whose architecture
	// (b.Arch()) is the generation it runs on. The caller owns b: it
	// decides whether instructions are stored or handed on as they are
	// emitted (BuildNeuron stores them). An error returned here, or left
	// in b, fails the build.
	Neuron func(b *isa.Builder, p Params) error

	// NeuronVariant, for kernels with a variant parameter, names the
	// NeuronCore variant Neuron builds for p (what "best" resolves to), so
	// results say what ran.
	NeuronVariant func(p Params) string

	// GPU describes how p runs on a GPU with architecture dev: one
	// candidate plan when the kernel's GPU version is fixed by p, or
	// several (GEMM tilings and split-K factors, decode split counts) that
	// package tune chooses among by timing them. It holds no search and
	// never times anything. nil: the kernel has no GPU version, and GPU
	// targets report ErrUnsupported.
	GPU func(dev plan.Device, p Params) ([]GPUPlan, error)

	// Inputs, if set, generates the input tensors for a functional check
	// (values already rounded to each tensor's dtype); the default fills
	// every Input tensor with uniform values in [-1, 1).
	Inputs func(prog *isa.Program, p Params, rng *rand.Rand) map[string][]float32

	// Reference computes the expected Output tensors in float64 from the
	// inputs.
	Reference func(p Params, in map[string][]float32) map[string][]float64

	// Tolerance returns the allowed error of the functional check.
	Tolerance func(p Params) Tolerance

	// FromMeasured maps the shape of a measured-data row onto the
	// kernel's parameters (dtype and variant are mapped by the caller).
	// nil: measured rows of this kernel cannot be validated.
	FromMeasured func(m Measurement) []Arg

	// Parts, for composite workloads (layer), lists the sub-workloads; a
	// composite kernel has no Neuron, GPU, Instrs, Reference or Tolerance
	// of its own: its parts have them.
	Parts func(p Params) ([]Part, error)
}

// GPUPlan is one way a workload runs on a GPU: its kernels, the variant it
// is (what "best" resolved to) and a one-line description of the choices
// in it (tile shape, split-K, key splits).
type GPUPlan struct {
	Kernels []plan.Kernel
	Variant string
	Detail  string
}

// GPUPlans returns the candidate GPU plans of workload p on dev (see
// Kernel.GPU). A kernel without a GPU description is ErrUnsupported; a
// composite workload is an error (run its parts).
func GPUPlans(dev plan.Device, p Params) ([]GPUPlan, error) {
	k := p.Kernel
	if k == nil {
		return nil, fmt.Errorf("GPU plan: empty workload")
	}
	if k.Parts != nil {
		return nil, fmt.Errorf("kernel %s is composite: run its parts on %s", k.Name, dev.Name)
	}
	if k.GPU == nil {
		return nil, unsupported("kernel %s has no GPU description", k.Name)
	}
	plans, err := k.GPU(dev, p)
	if err != nil {
		return nil, err
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("kernel %s: no GPU plan for %s on %s", k.Name, p, dev.Name)
	}
	return plans, nil
}

// Measurement is the shape of a row of measured data (see
// results.Measured): integer fields are 0 where the row leaves them empty.
type Measurement struct {
	Batch, Heads, KVHeads, M, N, K int
	Seqlen, Headdim                int
	Causal                         string // "true", "false" or ""
}

// setInts returns an IntArg for each names[i] whose vals[i] is set (> 0).
func setInts(names []string, vals ...int) []Arg {
	var args []Arg
	for i, n := range vals {
		if n > 0 && i < len(names) {
			args = append(args, IntArg(names[i], n))
		}
	}
	return args
}

// rowsFromMeasured returns the FromMeasured facet of a row-wise kernel
// whose row count is the parameter rows and row length the parameter cols
// (results/measured/README.md): rows = M (times batch where batch > 1),
// cols = N.
func rowsFromMeasured(rows, cols string) func(Measurement) []Arg {
	return func(m Measurement) []Arg {
		r := m.M
		if m.Batch > 1 {
			r *= m.Batch
		}
		return setInts([]string{rows, cols}, r, m.N)
	}
}

// ropeFromMeasured maps a measured rope row: tokens = M (times batch where
// batch > 1; seqlen where M is empty), heads and headdim as given.
func ropeFromMeasured(m Measurement) []Arg {
	t := m.M
	if t == 0 {
		t = m.Seqlen
	}
	if m.Batch > 1 {
		t *= m.Batch
	}
	return setInts([]string{"tokens", "heads", "headdim"}, t, m.Heads, m.Headdim)
}

// Part is one sub-workload of a composite workload.
type Part struct {
	Label  string // "attention", "mlp_up", ...
	Params Params // the sub-workload
	Count  int    // how many times it runs
}

// Tolerance bounds |got − want| ≤ Abs + Rel·|want| element-wise.
type Tolerance struct {
	Abs, Rel float64
	Why      string // the justification (dtype epsilon, accumulation length)
}

// BuildNeuron builds p's NeuronCore program for arch into a new Builder and
// returns it validated. It stores at most MaxStoredInstrs instructions
// (more is an *isa.StoredCapError), pre-sized from the kernel's estimate.
func BuildNeuron(arch isa.Arch, p Params) (*isa.Program, error) {
	k := p.Kernel
	if k.Neuron == nil {
		return nil, fmt.Errorf("kernel %s has no NeuronCore version", k.Name)
	}
	est := 0.0
	if k.Instrs != nil {
		est = k.Instrs(p)
	}
	if est > 2*MaxStoredInstrs {
		// Estimates are within a factor of two: refuse before storing
		// millions of instructions only to hit the cap.
		return nil, &isa.StoredCapError{Program: p.String(), Cap: MaxStoredInstrs}
	}
	b := isa.NewBuilder(arch, p.String())
	b.LimitStored(MaxStoredInstrs)
	b.Reserve(int(min(est, MaxStoredInstrs)))
	if err := k.Neuron(b, p); err != nil {
		return nil, err
	}
	return b.Program()
}
