package kernels

import (
	"math"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// checkLayerSpecs runs the functional check of every spec on every arch and
// fails when a program does not build or an output leaves its tolerance.
func checkLayerSpecs(t *testing.T, archs []isa.Arch, specs []string) {
	t.Helper()
	ks := Builtin()
	for _, a := range archs {
		for _, sp := range specs {
			t.Run(a.Name+"/"+sp, func(t *testing.T) {
				p, err := ks.Parse(sp)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Check(a, p, 7)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) == 0 {
					t.Fatal("no outputs compared")
				}
				for _, r := range res {
					if !r.Pass {
						t.Errorf("%s: max abs error %.3g, max rel %.3g; tolerance abs %.3g rel %.3g (%s)",
							r.Tensor, r.MaxAbsErr, r.MaxRelErr, r.Tol.Abs, r.Tol.Rel, r.Tol.Why)
					}
				}
			})
		}
	}
}

// checkMatrix checks every spec (given without a dtype) in every dtype on
// every generation. With -short (the kernels package's tests share a
// budget of seconds under -race) it keeps the corners: the first spec in
// every dtype on every generation, the others in bf16 on trn2.
func checkMatrix(t *testing.T, specs []string, dtypes ...string) {
	t.Helper()
	with := func(specs []string, dts []string) []string {
		var out []string
		for _, s := range specs {
			for _, d := range dts {
				out = append(out, s+",dtype="+d)
			}
		}
		return out
	}
	if !testing.Short() {
		checkLayerSpecs(t, isa.Archs(), with(specs, dtypes))
		return
	}
	checkLayerSpecs(t, isa.Archs(), with(specs[:1], dtypes))
	checkLayerSpecs(t, []isa.Arch{isa.Trn2()}, with(specs[1:], []string{"bf16"}))
}

func TestElementwiseCheck(t *testing.T) {
	shapes := []string{
		"tokens=130,hidden=70", // 9100 elements: 126 rows of 72, a tail of 28
		"tokens=1,hidden=1",
		"tokens=3,hidden=5000", // 15000: 127 rows of 118, a tail of 14
	}
	if !testing.Short() {
		shapes = append(shapes, "tokens=257,hidden=3000") // full [128, 2048] tiles
	}
	for _, k := range []string{"add", "silu_mul", "gelu"} {
		var specs []string
		for _, sh := range shapes {
			specs = append(specs, k+":"+sh)
		}
		checkMatrix(t, specs, "fp32", "bf16", "fp16")
	}
}

func TestFlatChunks(t *testing.T) {
	tests := []struct {
		n, fmax int
		want    []flatChunk
	}{
		{1, 2048, []flatChunk{{0, 1, 1}}},
		// f = ceil(130/128) = 2: no full [128,2] tile fits in 130, 65 rows of 2.
		{130, 2048, []flatChunk{{0, 65, 2}}},
		// f = ceil(259/128) = 3: 86 rows of 3 (258), a tail of 1.
		{259, 2048, []flatChunk{{0, 86, 3}, {258, 1, 1}}},
		// f = 2048: one full tile (262144), 2 rows (4096), a tail of 904.
		{128*2048 + 5000, 2048, []flatChunk{{0, 128, 2048}, {262144, 2, 2048}, {266240, 1, 904}}},
		// f = 2048: one full tile (262144), 18 rows of 2048 (36864), a tail of 992.
		{300000, 2048, []flatChunk{{0, 128, 2048}, {262144, 18, 2048}, {299008, 1, 992}}},
		{128 * 4, 4, []flatChunk{{0, 128, 4}}},
	}
	for _, tc := range tests {
		got := flatChunks(tc.n, tc.fmax)
		if len(got) != len(tc.want) {
			t.Errorf("flatChunks(%d, %d) = %v, want %v", tc.n, tc.fmax, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("flatChunks(%d, %d) = %v, want %v", tc.n, tc.fmax, got, tc.want)
				break
			}
		}
	}
}

func TestUnitRoundoff(t *testing.T) {
	tests := []struct {
		dt   isa.DType
		want float64
	}{
		{isa.FP32, 0x1p-24}, {isa.BF16, 0x1p-8}, {isa.FP16, 0x1p-11}, {isa.FP8E4M3, 0x1p-4}, {isa.FP8E5M2, 0x1p-3},
	}
	for _, tc := range tests {
		if got := unitRoundoff(tc.dt); got != tc.want {
			t.Errorf("unitRoundoff(%s) = %g, want %g", tc.dt, got, tc.want)
		}
		// One rounding of 1 + 3u/2 (between two representable values)
		// moves it by at most u relative.
		x := float32(1 + 1.5*tc.want)
		if r := float64(tc.dt.Round(x)); math.Abs(r-float64(x))/float64(x) > tc.want {
			t.Errorf("%s: Round(%g) = %g, more than u = %g away", tc.dt, x, r, tc.want)
		}
	}
}

func TestElementwiseReference(t *testing.T) {
	ks := Builtin()
	ref := func(spec string, in map[string][]float32) []float64 {
		p, err := ks.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		return p.Kernel.Reference(p, in)["out"]
	}
	// silu(g) = g/(1+e^-g): silu(0) = 0, silu(ln 3) = ln3 · 3/4 (to the
	// float32 rounding of ln 3, 3e-8 relative).
	got := ref("silu_mul:tokens=1,hidden=2", map[string][]float32{"x": {2, 2}, "g": {0, float32(math.Log(3))}})
	want := []float64{0, 2 * math.Log(3) * 0.75}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-7 {
			t.Errorf("silu_mul[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	// gelu(0) = 0; gelu(x) → x for large x, → 0 for very negative x.
	got = ref("gelu:tokens=1,hidden=3", map[string][]float32{"x": {0, 10, -10}})
	if got[0] != 0 || math.Abs(got[1]-10) > 1e-9 || math.Abs(got[2]) > 1e-9 {
		t.Errorf("gelu(0, 10, -10) = %v, want (0, 10, 0)", got)
	}
	got = ref("add:tokens=1,hidden=2", map[string][]float32{"x": {1.5, -2}, "residual": {0.25, 2}})
	if got[0] != 1.75 || got[1] != 0 {
		t.Errorf("add = %v, want [1.75 0]", got)
	}
}

func TestElementwiseDTypeErrors(t *testing.T) {
	for _, spec := range []string{"add:dtype=fp8", "silu_mul:dtype=fp8e5m2", "gelu:tokens=0"} {
		_, err := Builtin().Parse(spec)
		if err == nil {
			t.Errorf("%s: parsed, want an error", spec)
			continue
		}
		if !strings.Contains(err.Error(), spec) {
			t.Errorf("%s: error %q does not name the workload", spec, err)
		}
	}
}
