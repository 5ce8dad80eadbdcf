package kernels_test

import (
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// TestRegisterRefusesMissingFacets: each required facet, when missing or
// malformed, is refused with a *FacetError naming it.
func TestRegisterRefusesMissingFacets(t *testing.T) {
	base := func() *kernels.Kernel {
		return withFacets(&kernels.Kernel{Name: "k", Params: []kernels.Param{{Name: "n", Kind: kernels.IntParam, Default: "4"}}})
	}
	tests := []struct {
		name  string
		edit  func(k *kernels.Kernel)
		facet string
	}{
		{"no name", func(k *kernels.Kernel) { k.Name = "" }, "Name"},
		{"upper-case name", func(k *kernels.Kernel) { k.Name = "MatMul" }, "Name"},
		{"name with a colon", func(k *kernels.Kernel) { k.Name = "a:b" }, "Name"},
		{"no doc", func(k *kernels.Kernel) { k.Doc = "" }, "Doc"},
		{"no FLOPs", func(k *kernels.Kernel) { k.FLOPs = nil }, "FLOPs"},
		{"no Neuron", func(k *kernels.Kernel) { k.Neuron = nil }, "Neuron"},
		{"no Instrs", func(k *kernels.Kernel) { k.Instrs = nil }, "Instrs"},
		{"no Reference", func(k *kernels.Kernel) { k.Reference = nil }, "Reference"},
		{"no Tolerance", func(k *kernels.Kernel) { k.Tolerance = nil }, "Tolerance"},
		{"bad default", func(k *kernels.Kernel) { k.Params[0].Default = "x" }, "Params"},
		{"bad tune value", func(k *kernels.Kernel) { k.Params[0].Tune = []string{"0"} }, "Params"},
		{"TuneVariants without a variant parameter", func(k *kernels.Kernel) { k.Params[0].TuneVariants = []string{"tiled"} }, "Params"},
		{"parameter twice", func(k *kernels.Kernel) { k.Params = append(k.Params, k.Params[0]) }, "Params"},
		{"parameter name with =", func(k *kernels.Kernel) { k.Params[0].Name = "a=b" }, "Params"},
		{"estimate of 0", func(k *kernels.Kernel) { k.Instrs = func(kernels.Params) float64 { return 0 } }, "Instrs"},
		{"NaN FLOPs", func(k *kernels.Kernel) { k.FLOPs = func(p kernels.Params) float64 { return nanOf(p) } }, "FLOPs"},
		{"undeclared name in FLOPs", func(k *kernels.Kernel) {
			k.FLOPs = func(p kernels.Params) float64 { return float64(p.Int("N")) }
		}, "FLOPs"},
		{"undeclared name in Instrs", func(k *kernels.Kernel) {
			k.Instrs = func(p kernels.Params) float64 { return float64(1 + p.Int("tiles")) }
		}, "Instrs"},
		{"defaults refused by Check", func(k *kernels.Kernel) {
			k.Check = func(kernels.Params) error { return errors.New("never") }
		}, "Check"},
		{"composite with a Neuron", func(k *kernels.Kernel) {
			k.Parts = func(kernels.Params) ([]kernels.Part, error) { return nil, nil }
		}, "Neuron"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := base()
			tc.edit(k)
			err := kernels.NewRegistry().Register(k)
			var fe *kernels.FacetError
			if !errors.As(err, &fe) || fe.Facet != tc.facet {
				t.Fatalf("Register: %v, want a FacetError for %s", err, tc.facet)
			}
			if !strings.Contains(err.Error(), tc.facet) {
				t.Errorf("error %q does not name the facet %s", err, tc.facet)
			}
		})
	}
	r := kernels.NewRegistry()
	if err := r.Register(base()); err != nil {
		t.Fatalf("a complete kernel: %v", err)
	}
	if err := r.Register(base()); !kernels.IsFacetError(err, "Name") {
		t.Errorf("registering k twice: %v, want a Name FacetError", err)
	}
	if err := r.Register(nil); err == nil {
		t.Error("Register(nil): want an error")
	}
}

func nanOf(kernels.Params) float64 { return math.NaN() }

// A kernel without a GPU description is complete: GPU plans for it are
// ErrUnsupported, never a panic.
func TestKernelWithoutGPU(t *testing.T) {
	r := kernels.NewRegistry()
	k := withFacets(&kernels.Kernel{Name: "neuron_only"})
	if err := r.Register(k); err != nil {
		t.Fatal(err)
	}
	p, err := r.Parse("neuron_only")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kernels.GPUPlans(gpuDevice(), p); !errors.Is(err, kernels.ErrUnsupported) {
		t.Errorf("GPUPlans: %v, want ErrUnsupported", err)
	}
}

// TestMake: typed arguments are checked against the declarations as text
// is, and a workload made from values equals the one parsed from its spec.
func TestMake(t *testing.T) {
	reg := kernels.Builtin()
	mm, err := reg.Lookup("matmul")
	if err != nil {
		t.Fatal(err)
	}
	p, err := mm.Make(kernels.IntArg("M", 200), kernels.IntArg("N", 300), kernels.DTypeArg("dtype", isa.FP8E4M3), kernels.TextArg("variant", "tiled"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := reg.Parse("matmul:M=200,N=300,dtype=fp8,variant=tiled")
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != q.String() || p.Int("M") != 200 || p.DType("dtype") != isa.FP8E4M3 {
		t.Errorf("Make = %s, Parse = %s", p, q)
	}
	for _, tc := range []struct {
		args []kernels.Arg
		want string
	}{
		{[]kernels.Arg{kernels.IntArg("M", 0)}, "positive integer"},
		{[]kernels.Arg{kernels.IntArg("tiles_m", 65)}, "at most 64"},
		{[]kernels.Arg{kernels.BoolArg("M", true)}, "given a boolean"},
		{[]kernels.Arg{kernels.DTypeArg("dtype", isa.Int32)}, "not a dtype matmul accepts"},
		{[]kernels.Arg{kernels.IntArg("Q", 1)}, "no parameter \"Q\""},
		{[]kernels.Arg{kernels.IntArg("M", 2), kernels.IntArg("M", 4)}, "given twice"},
		{[]kernels.Arg{kernels.IntArg("M", 1<<40)}, "too large to simulate"},
	} {
		_, err := mm.Make(tc.args...)
		var se *kernels.SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Make(%v) = %v, want a SpecError containing %q", tc.args, err, tc.want)
		}
	}
}

// Accessors never panic on a name the kernel does not declare; tracked
// Params record it.
func TestUndeclaredNames(t *testing.T) {
	p, err := kernels.Builtin().Parse("matmul:M=128")
	if err != nil {
		t.Fatal(err)
	}
	if p.Int("Q") != 0 || p.Str("Q") != "" || p.Bool("Q") || p.DType("Q") != 0 || p.Unknown() != nil {
		t.Error("an undeclared name on untracked Params: want zero values and nothing recorded")
	}
	tp := p.Tracked()
	_ = tp.Int("Q")
	_ = tp.Str("M")
	_ = tp.Bool("causal")
	if got := tp.Unknown(); len(got) != 2 || got[0] != "Q" || got[1] != "causal" {
		t.Errorf("Unknown() = %v, want [Q causal]", got)
	}
	var zero kernels.Params
	if zero.Int("M") != 0 || zero.Has("M") {
		t.Error("zero Params: want zero values")
	}
}

// A huge spec gives a short error line: the spec is quoted up to a bound.
func TestSpecErrorBounded(t *testing.T) {
	reg := kernels.Builtin()
	for _, spec := range []string{
		"matmul:M=" + strings.Repeat("9", 100<<10),
		"matmul:" + strings.Repeat("M=1,", 25<<10),
		strings.Repeat("x", 100<<10),
		"matmul:" + strings.Repeat("é", 50<<10) + "=1",
	} {
		_, err := reg.Parse(spec)
		if err == nil {
			t.Fatalf("a %d-byte spec parsed", len(spec))
		}
		if n := len(err.Error()); n > 1024 {
			t.Errorf("a %d-byte spec gives a %d-byte error", len(spec), n)
		}
		if !strings.Contains(err.Error(), "bytes)") {
			t.Errorf("error %.200q does not say the spec was cut", err)
		}
	}
}

// The kernels package never imports a timing model: GPU descriptions use
// sim/gpu/plan, and timing-driven choices live in package tune.
func TestKernelsImportNoTimingModel(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/trnsim/trnsim/kernels").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps found %d packages: %v", len(deps), deps)
	}
	for _, d := range deps {
		switch d {
		case "github.com/trnsim/trnsim/sim/gpu", "github.com/trnsim/trnsim/sim/neuron", "github.com/trnsim/trnsim/tune", "github.com/trnsim/trnsim/bench":
			t.Errorf("kernels depends on %s", d)
		}
	}
	if !strings.Contains(string(out), "github.com/trnsim/trnsim/sim/gpu/plan") {
		t.Error("kernels does not use sim/gpu/plan: the check would pass vacuously")
	}
}
