package kernels_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// specKernels is a registry with one parameter of every kind. Its kernels
// compute nothing: only their parameters matter here.
func specKernels() *kernels.Registry {
	r := kernels.NewRegistry()
	for _, k := range []*kernels.Kernel{
		{Name: "mm", Params: []kernels.Param{
			{Name: "M", Kind: kernels.IntParam, Default: "128", Max: 4096},
			{Name: "split", Kind: kernels.CountParam, Default: "0", Max: 8},
			{Name: "dtype", Kind: kernels.DTypeParam, Default: "bf16", Allowed: []string{"bf16", "fp8"}},
			{Name: "causal", Kind: kernels.BoolParam, Default: "false"},
			{Name: "variant", Kind: kernels.EnumParam, Default: "a", Allowed: []string{"a", "b"}},
		}, Check: func(p kernels.Params) error {
			if p.Int("M")%2 != 0 {
				return errors.New("M must be even")
			}
			return nil
		}},
		{Name: "noparams"},
	} {
		if err := r.Register(withFacets(k)); err != nil {
			panic(err)
		}
	}
	return r
}

// withFacets gives k the facets Register requires, none of them doing
// work.
func withFacets(k *kernels.Kernel) *kernels.Kernel {
	k.Doc = "test kernel " + k.Name
	k.FLOPs = func(kernels.Params) float64 { return 0 }
	k.Instrs = func(kernels.Params) float64 { return 1 }
	k.Neuron = func(*isa.Builder, kernels.Params) error { return nil }
	k.Reference = func(kernels.Params, map[string][]float32) map[string][]float64 { return nil }
	k.Tolerance = func(kernels.Params) kernels.Tolerance { return kernels.Tolerance{} }
	return k
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		spec string
		want string // Params.String()
	}{
		{"mm", "mm:M=128,split=0,dtype=bf16,causal=false,variant=a"},
		{"mm:", "mm:M=128,split=0,dtype=bf16,causal=false,variant=a"},
		{"mm:M=4096", "mm:M=4096,split=0,dtype=bf16,causal=false,variant=a"},
		{"mm:variant=b,M=2", "mm:M=2,split=0,dtype=bf16,causal=false,variant=b"},
		{" mm : M = 0064 , causal=1 ", "mm:M=64,split=0,dtype=bf16,causal=true,variant=a"},
		{"mm:M=+6,split=8", "mm:M=6,split=8,dtype=bf16,causal=false,variant=a"},
		{"mm:split=0,causal=F", "mm:M=128,split=0,dtype=bf16,causal=false,variant=a"},
		{"mm:dtype=fp8", "mm:M=128,split=0,dtype=fp8e4m3,causal=false,variant=a"},
		{"mm:dtype=fp8e4m3", "mm:M=128,split=0,dtype=fp8e4m3,causal=false,variant=a"},
		{"mm:dtype=bfloat16", "mm:M=128,split=0,dtype=bf16,causal=false,variant=a"},
		{"noparams", "noparams"},
		{"noparams:", "noparams"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			p, err := specKernels().Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		spec string
		want string
	}{
		{"nope:M=1", `workload "nope:M=1": unknown kernel "nope" (allowed: mm, noparams)`},
		{"", `workload "": unknown kernel "" (allowed: mm, noparams)`},
		{"MM", `workload "MM": unknown kernel "MM" (allowed: mm, noparams)`},
		{"mm:Q=1", `workload "mm:Q=1": kernel mm has no parameter "Q" (allowed: M, split, dtype, causal, variant)`},
		{"mm:m=2", `workload "mm:m=2": kernel mm has no parameter "m" (allowed: M, split, dtype, causal, variant)`},
		{"noparams:x=1", `workload "noparams:x=1": kernel noparams has no parameter "x" (allowed: )`},
		{"mm:M", `workload "mm:M": "M" is not param=value (parameters of mm: M, split, dtype, causal, variant)`},
		{"mm:=4", `workload "mm:=4": "=4" is not param=value (parameters of mm: M, split, dtype, causal, variant)`},
		{"mm:M=2,", `workload "mm:M=2,": "" is not param=value (parameters of mm: M, split, dtype, causal, variant)`},
		{"mm:M=abc", `workload "mm:M=abc": parameter M="abc": want a positive integer`},
		{"mm:M=", `workload "mm:M=": parameter M="": want a positive integer`},
		{"mm:M=0", `workload "mm:M=0": parameter M="0": want a positive integer`},
		{"mm:M=-2", `workload "mm:M=-2": parameter M="-2": want a positive integer`},
		{"mm:M=1.5", `workload "mm:M=1.5": parameter M="1.5": want a positive integer`},
		{"mm:M=99999999999999999999", `workload "mm:M=99999999999999999999": parameter M="99999999999999999999": want a positive integer`},
		{"mm:M=4098", `workload "mm:M=4098": parameter M=4098: at most 4096`},
		{"mm:split=-1", `workload "mm:split=-1": parameter split="-1": want a non-negative integer (0 = automatic)`},
		{"mm:split=9", `workload "mm:split=9": parameter split=9: at most 8`},
		{"mm:M=64,M=64", `workload "mm:M=64,M=64": parameter "M" given twice`},
		{"mm:M=64, M =32", `workload "mm:M=64, M =32": parameter "M" given twice`},
		{"mm:dtype=fp32", `workload "mm:dtype=fp32": parameter dtype="fp32": not a dtype mm accepts (allowed: bf16, fp8)`},
		{"mm:dtype=fp8e5m2", `workload "mm:dtype=fp8e5m2": parameter dtype="fp8e5m2": not a dtype mm accepts (allowed: bf16, fp8)`},
		{"mm:dtype=int4", `workload "mm:dtype=int4": parameter dtype="int4": not a dtype mm accepts (allowed: bf16, fp8)`},
		{"mm:causal=maybe", `workload "mm:causal=maybe": parameter causal="maybe": want true or false`},
		{"mm:variant=c", `workload "mm:variant=c": parameter variant="c": allowed: a, b`},
		{"mm:variant=A", `workload "mm:variant=A": parameter variant="A": allowed: a, b`},
		{"mm:M=63", `workload "mm:M=63": M must be even`},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := specKernels().Parse(tc.spec)
			var se *kernels.SpecError
			if !errors.As(err, &se) {
				t.Fatalf("want a *SpecError, got %v", err)
			}
			if se.Spec != tc.spec || err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

// TestRegistryParams checks every built-in kernel's parameter
// declarations: unique names, defaults that parse, enum values that
// survive a workload spec, and canonical specs that parse back.
func TestRegistryParams(t *testing.T) {
	ks := kernels.Builtin()
	names := map[string]bool{}
	for _, k := range ks.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			if names[k.Name] || k.Name == "" || strings.ContainsAny(k.Name, ":,= ") {
				t.Errorf("kernel name %q is empty, repeated or not a spec token", k.Name)
			}
			names[k.Name] = true
			seen := map[string]bool{}
			for _, d := range k.Params {
				if seen[d.Name] || d.Name == "" || strings.ContainsAny(d.Name, ":,= ") {
					t.Errorf("parameter name %q is empty, repeated or not a spec token", d.Name)
				}
				seen[d.Name] = true
				if d.Kind == kernels.EnumParam || d.Kind == kernels.DTypeParam {
					if len(d.Allowed) == 0 {
						t.Errorf("parameter %s lists no allowed values", d.Name)
					}
					for _, a := range d.Allowed {
						if a == "" || a != strings.TrimSpace(a) || strings.ContainsAny(a, ",=") {
							t.Errorf("parameter %s: allowed value %q cannot be written in a spec", d.Name, a)
						}
					}
				}
			}
			p, err := ks.Parse(k.Name)
			if err != nil {
				t.Fatalf("defaults do not parse: %v", err)
			}
			q, err := ks.Parse(p.String())
			if err != nil {
				t.Fatalf("canonical spec %q does not parse: %v", p, err)
			}
			if q.String() != p.String() || !reflect.DeepEqual(q.Values(), p.Values()) {
				t.Errorf("canonical spec %q parses to %q", p, q)
			}
			for _, d := range k.Params {
				if d.Kind != kernels.EnumParam && d.Kind != kernels.DTypeParam {
					continue
				}
				for _, a := range d.Allowed {
					spec := k.Name + ":" + d.Name + "=" + a
					p, err := ks.Parse(spec)
					if err != nil {
						// Check may tie values together (e.g. a variant
						// that needs a dtype); that is the kernel's rule.
						t.Logf("%s: %v", spec, err)
						continue
					}
					if _, err := ks.Parse(p.String()); err != nil {
						t.Errorf("%s: canonical %q does not parse: %v", spec, p, err)
					}
				}
			}
		})
	}
}

func FuzzParseWorkload(f *testing.F) {
	for _, s := range []string{
		"mm", "mm:M=64,split=2,dtype=fp8,causal=true,variant=b", " mm : M = 0064 ", "mm:M=2,M=2", "mm:dtype=int4",
		"matmul:M=1000,N=700,K=300,dtype=bf16", "matmul:M=512,N=1024,K=384,batch=2,dtype=fp8", "matmul:", "nope",
	} {
		f.Add(s)
	}
	for _, k := range kernels.Builtin().Kernels() {
		if p, err := kernels.Builtin().Parse(k.Name); err == nil {
			f.Add(p.String())
		}
	}
	f.Fuzz(func(t *testing.T, spec string) {
		for _, ks := range []*kernels.Registry{specKernels(), kernels.Builtin()} {
			p, err := ks.Parse(spec)
			if err != nil {
				var se *kernels.SpecError
				if !errors.As(err, &se) || se.Spec != spec {
					t.Fatalf("Parse(%q) error is not a *SpecError naming the spec: %v", spec, err)
				}
				continue
			}
			canon := p.String()
			q, err := ks.Parse(canon)
			if err != nil {
				t.Fatalf("Parse(%q) accepted, its canonical form %q is rejected: %v", spec, canon, err)
			}
			if q.String() != canon || !reflect.DeepEqual(q.Values(), p.Values()) {
				t.Fatalf("Parse(%q) = %q, which parses back to %q", spec, canon, q)
			}
		}
	})
}

// gpuDevice is an H100-like device description for plan-only tests.
func gpuDevice() plan.Device {
	return plan.Device{Name: "test", SMs: 132, MMAFamily: plan.WGMMA, MMASync: true, TensorFP16: true, TensorFP8: true,
		SmemPerSM: 228 << 10, SmemPerCTA: 227 << 10, RegsPerSM: 64 << 10, MaxRegsThread: 255,
		MaxThreadsSM: 2048, MaxWarpsSM: 64, MaxCTAsSM: 32, MaxThreadsCTA: 1024}
}
