package kernels

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// checkSpec runs the functional check of spec on arch and returns its
// results, failing the test on an error.
func checkSpec(t *testing.T, ks *Registry, arch isa.Arch, spec string) []CheckResult {
	t.Helper()
	p, err := ks.Parse(spec)
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

// registryOf returns a registry holding just k.
func registryOf(t *testing.T, k *Kernel) *Registry {
	t.Helper()
	r := NewRegistry()
	if err := r.Register(k); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCheckMatmul: the acceptance shapes (M=1000, N=700, K=300 in
// bf16, fp32 and fp8 e4m3 on every generation) and ragged shapes whose
// edges cut every tile dimension pass their functional check.
func TestCheckMatmul(t *testing.T) {
	type tc struct {
		arch isa.Arch
		spec string
	}
	var acceptance []tc
	if testing.Short() {
		// The race detector makes the 1000×700×300 products slow: keep one
		// per dtype, on the generation each is most distinct on.
		acceptance = []tc{
			{isa.Trn1(), "matmul:M=1000,N=700,K=300,dtype=fp32"},
			{isa.Trn2(), "matmul:M=1000,N=700,K=300,dtype=fp8e4m3"},
			{isa.Trn3(), "matmul:M=1000,N=700,K=300,dtype=bf16"},
		}
	} else {
		for _, a := range isa.Archs() {
			for _, dt := range []string{"bf16", "fp32", "fp8e4m3"} {
				acceptance = append(acceptance, tc{a, "matmul:M=1000,N=700,K=300,dtype=" + dt})
			}
		}
	}
	cases := acceptance
	ragged := []string{"M=1,N=1,K=1", "M=129,N=513,K=257", "M=3,N=1000,K=130", "M=128,N=512,K=128", "M=200,N=17,K=5,batch=2"}
	for _, shape := range ragged {
		for _, dt := range []string{"bf16", "fp32", "fp16", "fp8e4m3", "fp8e5m2"} {
			cases = append(cases, tc{isa.Trn2(), "matmul:" + shape + ",dtype=" + dt})
		}
	}
	ks := Builtin()
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
			res := checkSpec(t, registryOf(t, &k), isa.Trn2(), spec)
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

// TestCheckMatmulErrorsWithinBounds: in every dtype the errors of the
// acceptance shape are within the tolerance and not zero (a rounding
// dtype that showed no error at all would mean the check compared the
// reference with itself); -v prints how close they come.
func TestCheckMatmulErrorsWithinBounds(t *testing.T) {
	spec := "matmul:M=1000,N=700,K=300,dtype="
	if testing.Short() {
		spec = "matmul:M=200,N=300,K=300,dtype=" // the same K, fewer products under -race
	}
	ks := Builtin()
	for _, dt := range []string{"bf16", "fp32", "fp16", "fp8e4m3", "fp8e5m2"} {
		for _, r := range checkSpec(t, ks, isa.Trn2(), spec+dt) {
			t.Logf("%-40s max_abs_err=%.3g max_rel_err=%.3g tol abs=%.3g rel=%.3g",
				spec+dt, r.MaxAbsErr, r.MaxRelErr, r.Tol.Abs, r.Tol.Rel)
			if !r.Pass {
				t.Errorf("%s: max_abs_err=%.3g at element %d exceeds tolerance abs=%.3g rel=%.3g", dt, r.MaxAbsErr, r.Worst, r.Tol.Abs, r.Tol.Rel)
			}
			if r.MaxAbsErr == 0 {
				t.Errorf("%s: no error at all against the float64 reference", dt)
			}
		}
	}
}

// TestCheckMatmulFP32Tolerance: the fp32 bound (fp32DotTolerance) is tight
// enough to catch a systematic relative error of 1e-4, yet the real
// results pass, at short, ragged and long contractions. A check's
// largest |c| is about 3.5 to 4 standard deviations, 3.5·√(K/9), so the
// perturbation 1e-4·|c| exceeds the bound at every K listed: at K = 4096,
// 0.0075 against 0.0044; at K = 5 (worst case γ_5·5 ≈ 1.5e-6),
// 2.6e-4.
func TestCheckMatmulFP32Tolerance(t *testing.T) {
	type tc struct {
		arch isa.Arch
		spec string
	}
	cases := []tc{
		{isa.Trn2(), "M=64,N=128,K=1"},
		{isa.Trn2(), "M=64,N=128,K=5"},
		{isa.Trn1(), "M=64,N=128,K=130"},
		{isa.Trn2(), "M=64,N=128,K=257,variant=hoist_load"},
		{isa.Trn3(), "M=64,N=128,K=300"},
		{isa.Trn2(), "M=64,N=128,K=1300,variant=block_free"},
		{isa.Trn2(), "M=200,N=600,K=1100,tiles_k=2"}, // VectorE additions across K blocks, ragged
		{isa.Trn1(), "M=64,N=128,K=4096"},
		{isa.Trn2(), "M=64,N=128,K=4096,variant=tiled"},
	}
	for _, c := range cases {
		spec := "matmul:" + c.spec + ",dtype=fp32"
		t.Run(c.arch.Name+"/"+c.spec, func(t *testing.T) {
			k := *matmulKernel()
			r := checkSpec(t, registryOf(t, &k), c.arch, spec)[0]
			t.Logf("max_abs_err %.3g, %.1f%% of the bound %.3g", r.MaxAbsErr, 100*r.MaxAbsErr/r.Tol.Abs, r.Tol.Abs)
			if !r.Pass {
				t.Errorf("real result fails: max_abs_err=%.3g at element %d, tolerance abs=%.3g rel=%.3g", r.MaxAbsErr, r.Worst, r.Tol.Abs, r.Tol.Rel)
			}
			k.Reference = func(p Params, in map[string][]float32) map[string][]float64 {
				want := matmulReference(p, in)
				for i := range want["C"] {
					want["C"][i] *= 1 + 1e-4
				}
				return want
			}
			if r := checkSpec(t, registryOf(t, &k), c.arch, spec)[0]; r.Pass {
				t.Errorf("a result off by 1e-4 relative passes: max_abs_err=%.3g, tolerance abs=%.3g", r.MaxAbsErr, r.Tol.Abs)
			}
		})
	}
}

// fp32DotTolerance against hand-computed values: the worst case γ_K·K
// for short K (K = 1: u/(1−u)), and the probabilistic bound, below the
// worst case and growing about linearly, beyond.
func TestFP32DotTolerance(t *testing.T) {
	const u = 1.0 / (1 << 24)
	if got, want := fp32DotTolerance(1), u/(1-u); got != want {
		t.Errorf("K=1: %g, want γ_1 = %g", got, want)
	}
	if got, want := fp32DotTolerance(5), 25*u/(1-5*u); got != want {
		t.Errorf("K=5: %g, want γ_5·5 = %g", got, want)
	}
	for _, tc := range []struct {
		k      int
		lo, hi float64
	}{
		// λ = √(2 ln 2e12) = 7.52; at K = 4096, L = ln(8192e12) = 36.6 and
		// Σ f(j)² ≈ (L/9)·K² + (8/9)·√(2L/9)·L·K^1.5 + (4/9)·L²·K = 6.8e7
		// + 2.4e7 + 2.4e6 = 9.5e7: 7.52 · 2^-24 · 9750 = 4.4e-3.
		{4096, 4.2e-3, 4.6e-3},
		// K = 300: L = 34.0; 3.4e5 + 4.3e5 + 1.5e5 = 9.3e5 → 4.3e-4.
		{300, 4.0e-4, 4.7e-4},
	} {
		if got := fp32DotTolerance(tc.k); got < tc.lo || got > tc.hi {
			t.Errorf("K=%d: %.3g, want in [%.2g, %.2g]", tc.k, got, tc.lo, tc.hi)
		}
		if worst := float64(tc.k*tc.k) * u; fp32DotTolerance(tc.k) >= worst {
			t.Errorf("K=%d: %.3g, not below the worst case %.3g", tc.k, fp32DotTolerance(tc.k), worst)
		}
	}
}
