package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/trnsim/trnsim/isa"
)

// Kernel is one workload kind: its parameters and how to build, check and
// count it.
type Kernel struct {
	Name   string
	Doc    string
	Params []Param

	// Check rejects parameter combinations the kernel cannot run (nil: all
	// combinations the Params allow are valid).
	Check func(p Params) error

	// FLOPs returns the workload's useful FLOPs, by the conventions of
	// HARDWARE.md B §1.5 (GEMM 2·M·N·K; attention 4·b·h·s²·d, halved when
	// causal; decode 4·b·s·d·h_q).
	FLOPs func(p Params) float64

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

	// Inputs, if set, generates the input tensors for a functional check
	// (values already rounded to each tensor's dtype); the default fills
	// every Input tensor with uniform values in [-1, 1).
	Inputs func(prog *isa.Program, p Params, rng *rand.Rand) map[string][]float32

	// Reference computes the expected Output tensors in float64 from the
	// inputs.
	Reference func(p Params, in map[string][]float32) map[string][]float64

	// Tolerance returns the allowed error of the functional check.
	Tolerance func(p Params) Tolerance

	// Parts, for composite workloads (layer), lists the sub-workloads; the
	// fields above are then nil.
	Parts func(p Params) ([]Part, error)
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

func (k *Kernel) paramNames() string {
	var names []string
	for _, d := range k.Params {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// All returns the registry of built-in kernels, in the order `trnsim list`
// shows them. It is built anew on each call: there is no global state.
func All() []*Kernel {
	return []*Kernel{
		matmulKernel(),
		attentionKernel(),
		decodeAttentionKernel(),
		rmsnormKernel(),
		layernormKernel(),
		softmaxKernel(),
		siluMulKernel(),
		geluKernel(),
		addKernel(),
		ropeKernel(),
		layerKernel(),
	}
}

// Lookup finds a kernel by name in ks.
func Lookup(ks []*Kernel, name string) (*Kernel, error) {
	var names []string
	for _, k := range ks {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("unknown kernel %q (allowed: %s)", name, strings.Join(names, ", "))
}

// BuildNeuron builds p's NeuronCore program for arch into a new Builder and
// returns it validated. It stores at most MaxStoredInstrs instructions
// (more is an *isa.StoredCapError), pre-sized from the kernel's estimate.
func BuildNeuron(arch isa.Arch, p Params) (*isa.Program, error) {
	k := p.Kernel
	if k.Neuron == nil {
		return nil, fmt.Errorf("kernel %s has no NeuronCore version", k.Name)
	}
	est := estimateInstrs(p)
	if est > 2*MaxStoredInstrs {
		// Estimates are within a factor of two: refuse before storing
		// millions of instructions only to hit the cap.
		return nil, &isa.StoredCapError{Program: p.String(), Cap: MaxStoredInstrs}
	}
	b := isa.NewBuilder(arch, p.String())
	b.LimitStored(MaxStoredInstrs)
	b.Reserve(int(est))
	if err := k.Neuron(b, p); err != nil {
		return nil, err
	}
	return b.Program()
}
