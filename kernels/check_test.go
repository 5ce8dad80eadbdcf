package kernels

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// checkSpec runs the functional check of spec on arch and returns its
// results, failing the test on an error.
func checkSpec(t *testing.T, ks []*Kernel, arch isa.Arch, spec string) []CheckResult {
	t.Helper()
	p, err := Parse(ks, spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	res, err := Check(arch, p, 1)
	if err != nil {
		t.Fatalf("Check(%s, %q): %v", arch.Name, spec, err)
	}
	if len(res) == 0 {
		t.Fatalf("Check(%s, %q): no outputs compared", arch.Name, spec)
	}
	return res
}

// TestCheckMatmul: the acceptance shapes (M=1000, N=700, K=300 in
// bf16, fp32 and fp8 e4m3 on every generation) and ragged shapes whose
// edges cut every tile dimension pass their functional check.
func TestCheckMatmul(t *testing.T) {
	type tc struct {
		arch isa.Arch
		spec string
	}
	var cases []tc
	for _, a := range isa.Archs() {
		for _, dt := range []string{"bf16", "fp32", "fp8e4m3"} {
			cases = append(cases, tc{a, "matmul:M=1000,N=700,K=300,dtype=" + dt})
		}
	}
	ragged := []string{"M=1,N=1,K=1", "M=129,N=513,K=257", "M=3,N=1000,K=130", "M=128,N=512,K=128", "M=200,N=17,K=5,batch=2"}
	for _, shape := range ragged {
		for _, dt := range []string{"bf16", "fp32", "fp16", "fp8e4m3", "fp8e5m2"} {
			cases = append(cases, tc{isa.Trn2(), "matmul:" + shape + ",dtype=" + dt})
		}
	}
	if testing.Short() {
		// The race detector makes the 1000×700×300 products slow: keep one
		// per dtype, on the generation each is most distinct on.
		cases = append([]tc{
			{isa.Trn1(), "matmul:M=1000,N=700,K=300,dtype=fp32"},
			{isa.Trn2(), "matmul:M=1000,N=700,K=300,dtype=fp8e4m3"},
			{isa.Trn3(), "matmul:M=1000,N=700,K=300,dtype=bf16"},
		}, cases[9:]...)
	}
	ks := All()
	for _, c := range cases {
		t.Run(c.arch.Name+"/"+c.spec, func(t *testing.T) {
			for _, r := range checkSpec(t, ks, c.arch, c.spec) {
				if !r.Pass {
					t.Errorf("%s: max_abs_err=%.3g max_rel_err=%.3g at element %d, tolerance abs=%.3g rel=%.3g (%s)",
						r.Tensor, r.MaxAbsErr, r.MaxRelErr, r.Worst, r.Tol.Abs, r.Tol.Rel, r.Tol.Why)
				}
			}
		})
	}
}

// TestCheckFailsOnWrongReference: the check can fail. Each wrong reference
// is off by more than the tolerance in at least one element, and Check
// must say so and point at a wrong element.
func TestCheckFailsOnWrongReference(t *testing.T) {
	const spec = "matmul:M=64,N=48,K=40,dtype=bf16"
	for _, tc := range []struct {
		name  string
		wrong func(p Params, c []float64) // corrupts the correct reference
		at    int                         // the element Check must point at, or -1 for any
	}{
		{"one element off by 0.5", func(p Params, c []float64) { c[100] += 0.5 }, 100},
		{"scaled by 1.05", func(p Params, c []float64) {
			for i := range c {
				c[i] *= 1.05
			}
		}, -1},
		{"rows swapped", func(p Params, c []float64) {
			N := p.Int("N")
			for j := 0; j < N; j++ {
				c[j], c[N+j] = c[N+j], c[j]
			}
		}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := *matmulKernel()
			k.Reference = func(p Params, in map[string][]float32) map[string][]float64 {
				want := matmulReference(p, in)
				tc.wrong(p, want["C"])
				return want
			}
			res := checkSpec(t, []*Kernel{&k}, isa.Trn2(), spec)
			r := res[0]
			if r.Pass {
				t.Fatalf("Check passed against a wrong reference (max_abs_err=%.3g)", r.MaxAbsErr)
			}
			if tc.at >= 0 && r.Worst != tc.at {
				t.Errorf("worst element %d, want %d", r.Worst, tc.at)
			}
		})
	}
}

// TestCheckMatmulErrorsWithinBounds prints, for the acceptance shapes, how
// close the errors come to the tolerance (run with -v); it fails only if
// one exceeds it, which TestCheckMatmul also catches.
func TestCheckMatmulErrorsWithinBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("reporting only")
	}
	ks := All()
	for _, dt := range []string{"bf16", "fp32", "fp16", "fp8e4m3", "fp8e5m2"} {
		spec := "matmul:M=1000,N=700,K=300,dtype=" + dt
		for _, r := range checkSpec(t, ks, isa.Trn2(), spec) {
			t.Logf("%-40s max_abs_err=%.3g max_rel_err=%.3g tol abs=%.3g rel=%.3g pass=%v",
				spec, r.MaxAbsErr, r.MaxRelErr, r.Tol.Abs, r.Tol.Rel, r.Pass)
		}
	}
}
