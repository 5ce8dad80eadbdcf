package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/trnsim/trnsim/isa"
)

// CheckResult is the outcome of a functional check of one output tensor.
type CheckResult struct {
	Tensor    string
	MaxAbsErr float64
	MaxRelErr float64 // max |got−want| / |want| over elements with |want| > Tolerance.Abs
	Worst     int     // element index of the largest violation (or largest abs error)
	Tol       Tolerance
	Pass      bool
}

// Check builds p's NeuronCore program for arch, runs it functionally on
// seeded random inputs, and compares every output with the float64
// reference.
func Check(arch isa.Arch, p Params, seed uint64) ([]CheckResult, error) {
	k := p.Kernel
	if k.Neuron == nil || k.Reference == nil {
		return nil, fmt.Errorf("kernel %s has no functional check", k.Name)
	}
	prog, err := BuildNeuron(arch, p)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7472_6e73_696d))
	var in map[string][]float32
	if k.Inputs != nil {
		in = k.Inputs(prog, p, rng)
	} else {
		in = UniformInputs(prog, rng)
	}
	got, err := isa.Exec(prog, arch, in)
	if err != nil {
		return nil, err
	}
	want := k.Reference(p, in)
	tol := k.Tolerance(p)
	var out []CheckResult
	for _, t := range prog.Tensors {
		if t.Kind != isa.Output {
			continue
		}
		w, ok := want[t.Name]
		if !ok {
			return nil, fmt.Errorf("kernel %s: reference has no output %q", k.Name, t.Name)
		}
		g := got[t.Name]
		if len(g) != len(w) {
			return nil, fmt.Errorf("kernel %s: output %q has %d elements, reference %d", k.Name, t.Name, len(g), len(w))
		}
		out = append(out, compare(t.Name, g, w, tol))
	}
	return out, nil
}

// UniformInputs fills every Input tensor of prog with uniform values in
// [-1, 1) rounded to the tensor's dtype.
func UniformInputs(prog *isa.Program, rng *rand.Rand) map[string][]float32 {
	in := map[string][]float32{}
	for _, t := range prog.Tensors {
		if t.Kind != isa.Input {
			continue
		}
		x := make([]float32, t.Elems())
		for i := range x {
			x[i] = t.DType.Round(float32(rng.Float64()*2 - 1))
		}
		in[t.Name] = x
	}
	return in
}

func compare(name string, got []float32, want []float64, tol Tolerance) CheckResult {
	r := CheckResult{Tensor: name, Tol: tol, Pass: true}
	worst := -1.0
	for i, w := range want {
		g := float64(got[i])
		d := math.Abs(g - w)
		if math.IsNaN(g) {
			d = math.Inf(1)
		}
		if d > r.MaxAbsErr {
			r.MaxAbsErr = d
		}
		if math.Abs(w) > tol.Abs && d/math.Abs(w) > r.MaxRelErr {
			r.MaxRelErr = d / math.Abs(w)
		}
		excess := d - (tol.Abs + tol.Rel*math.Abs(w))
		if excess > 0 {
			r.Pass = false
		}
		if excess > worst {
			worst, r.Worst = excess, i
		}
	}
	return r
}
