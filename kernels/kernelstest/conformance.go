// Package kernelstest is the conformance suite every kernel of a
// registry passes, built-in or registered by a user (gonum's
// blas/testblas is the model): Run takes a registry and checks each
// kernel end to end on every NeuronCore generation and every GPU preset.
// It imports the timing models, so it lives apart from package kernels,
// which must not.
package kernelstest

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/sim/neuron"
	"github.com/trnsim/trnsim/tune"
)

// Run checks every kernel of reg. For a composite kernel: its parts are
// registered kernels' workloads and its FLOPs are theirs summed. For any
// other kernel, at Ragged(k) on every generation: the NeuronCore program
// builds and validates, its text assembly parses back to the same
// program, the functional check passes against the float64 reference,
// the program times on the generation's NeuronCore model, and the size
// estimate is a positive finite number; on every GPU preset the kernel's
// GPU description plans and times (or, for a kernel without one, the
// target reports kernels.ErrUnsupported); and no facet asks for a
// parameter the kernel does not declare.
func Run(t *testing.T, reg *kernels.Registry) {
	for _, k := range reg.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			if k.Parts != nil {
				composite(t, reg, k)
				return
			}
			p, err := Ragged(k)
			if err != nil {
				t.Fatalf("ragged shape: %v", err)
			}
			p = p.Tracked()
			for _, arch := range isa.Archs() {
				t.Run(arch.Name, func(t *testing.T) { neuronCore(t, arch, p) })
			}
			for _, name := range gpu.Presets() {
				t.Run(name, func(t *testing.T) { gpuPreset(t, name, p) })
			}
			if n := k.Instrs(p); !(n >= 1) || math.IsInf(n, 0) {
				t.Errorf("%s: instruction estimate %v, want a finite number ≥ 1", p, n)
			}
			if f := k.FLOPs(p); !(f >= 0) || math.IsInf(f, 0) {
				t.Errorf("%s: %v FLOPs, want a finite non-negative number", p, f)
			}
			if u := p.Unknown(); len(u) > 0 {
				t.Errorf("%s: facets ask for undeclared parameters %v", k.Name, u)
			}
		})
	}
}

// Ragged returns a small workload of k whose sizes cut its tiles: every
// integer parameter with a default above 256 set to 200 (not a multiple
// of the 128 partitions nor of a 512-wide tile), and each with a default
// in (2, 64] (counts such as batch and heads) lowered to 2, or else to 8,
// where the kernel's Check accepts it. Defaults in (64, 256] (a head
// dimension) are kept: they are the sizes the kernel is tiled for.
func Ragged(k *kernels.Kernel) (kernels.Params, error) {
	var args []kernels.Arg
	for _, d := range k.Params {
		if n, err := strconv.Atoi(d.Default); d.Kind == kernels.IntParam && err == nil && n > 256 {
			args = append(args, kernels.IntArg(d.Name, 200))
		}
	}
	for _, d := range k.Params {
		n, err := strconv.Atoi(d.Default)
		if d.Kind != kernels.IntParam || err != nil || n <= 2 || n > 64 {
			continue
		}
		for _, small := range []int{2, 8} {
			try := append(slices.Clone(args), kernels.IntArg(d.Name, small))
			if _, err := k.Make(try...); small < n && err == nil {
				args = try
				break
			}
		}
	}
	return k.Make(args...)
}

func neuronCore(t *testing.T, arch isa.Arch, p kernels.Params) {
	prog, err := kernels.BuildNeuron(arch, p)
	if err != nil {
		t.Fatalf("%s on %s: build: %v", p, arch.Name, err)
	}
	if len(prog.Instrs) == 0 {
		t.Fatalf("%s on %s: empty program", p, arch.Name)
	}
	roundTrip(t, arch, prog)
	res, err := kernels.Check(arch, p, 1)
	if err != nil {
		t.Fatalf("%s on %s: check: %v", p, arch.Name, err)
	}
	if len(res) == 0 {
		t.Fatalf("%s on %s: no output compared", p, arch.Name)
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s on %s: %s max_abs_err=%.3g at element %d, tolerance abs=%.3g rel=%.3g (%s)",
				p, arch.Name, r.Tensor, r.MaxAbsErr, r.Worst, r.Tol.Abs, r.Tol.Rel, r.Tol.Why)
		}
	}
	cfg, err := neuron.Preset(arch.Name)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := neuron.Run(prog, cfg)
	if err != nil {
		t.Fatalf("%s on %s: time: %v", p, arch.Name, err)
	}
	if !(rep.TimeNs > 0) {
		t.Errorf("%s on %s: %v ns", p, arch.Name, rep.TimeNs)
	}
}

// roundTrip prints prog as text assembly and parses it back.
func roundTrip(t *testing.T, arch isa.Arch, prog *isa.Program) {
	prog.Resolve()
	for i := range prog.Sites {
		prog.Sites[i].PC = 0 // text keeps function, file and line
	}
	var buf bytes.Buffer
	if err := isa.Print(&buf, prog); err != nil {
		t.Fatalf("print: %v", err)
	}
	got, err := isa.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parse of printed program: %v", err)
	}
	same := got.Name == prog.Name && reflect.DeepEqual(got.Tensors, prog.Tensors) &&
		slices.Equal(got.Sites, prog.Sites) && slices.Equal(got.Instrs, prog.Instrs)
	if !same {
		t.Fatalf("program %s: text assembly does not parse back to the same program", prog.Name)
	}
	if err := got.Validate(arch); err != nil {
		t.Errorf("parsed program: %v", err)
	}
}

func gpuPreset(t *testing.T, name string, p kernels.Params) {
	cfg, err := gpu.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tune.GPU(cfg, p)
	if p.Kernel.GPU == nil {
		if !errors.Is(err, kernels.ErrUnsupported) {
			t.Errorf("%s on %s without a GPU description: err = %v, want ErrUnsupported", p, name, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s on %s: plan: %v", p, name, err)
	}
	rep, err := gpu.Run(cfg, c.Kernels)
	if err != nil {
		t.Fatalf("%s on %s: time: %v", p, name, err)
	}
	if !(rep.TimeNs > 0) {
		t.Errorf("%s on %s: %v ns", p, name, rep.TimeNs)
	}
	if want := p.Kernel.FLOPs(p); rep.FLOPs != want {
		t.Errorf("%s on %s: the GPU plan counts %v FLOPs, the kernel %v", p, name, rep.FLOPs, want)
	}
}

func composite(t *testing.T, reg *kernels.Registry, k *kernels.Kernel) {
	p, err := k.Make()
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	parts, err := k.Parts(p)
	if err != nil || len(parts) == 0 {
		t.Fatalf("%s: %d parts, %v", p, len(parts), err)
	}
	sum := 0.0
	for _, pt := range parts {
		if pk, err := reg.Lookup(pt.Params.Kernel.Name); err != nil || pk != pt.Params.Kernel {
			t.Errorf("%s part %s: kernel %s is not the registry's", p, pt.Label, pt.Params.Kernel.Name)
		}
		if pt.Count < 1 {
			t.Errorf("%s part %s: count %d", p, pt.Label, pt.Count)
		}
		sum += float64(pt.Count) * pt.Params.Kernel.FLOPs(pt.Params)
	}
	if f := k.FLOPs(p); f != sum {
		t.Errorf("%s: %v FLOPs, its parts %v", p, f, sum)
	}
}
