package kernels

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

func TestNormCheck(t *testing.T) {
	shapes := []string{
		"tokens=130,hidden=300", // ragged row tile and hidden
		"tokens=1,hidden=1",
		"tokens=5,hidden=4100", // two chunks per row (4096 + 4)
		"tokens=300,hidden=64", // three row tiles through the pipeline
	}
	for _, k := range []string{"rmsnorm", "layernorm", "layernorm:variant=tutorial_v1", "layernorm:variant=tutorial_v2"} {
		var specs []string
		for _, sh := range shapes {
			if strings.Contains(k, ":") {
				specs = append(specs, k+","+sh)
			} else {
				specs = append(specs, k+":"+sh)
			}
		}
		checkMatrix(t, specs, "fp32", "bf16", "fp16")
	}
}

// TestLayerNormTutorialProgram checks the tutorial versions' instruction
// mix: v1 one instruction per nl call on the engine NKI uses, v2 one
// bn_stats per ≤ 512 columns, one bn_aggr and one two-op tensor_scalar.
func TestLayerNormTutorialProgram(t *testing.T) {
	type mix struct{ dma, vector, scalar, bnStats, bnAggr int }
	cases := []struct {
		spec string
		want mix
	}{
		// 3 row tiles; per tile v1: 2 reduces, 5 tensor_scalar, 2
		// tensor_tensor on VectorE; square and rsqrt on ScalarE.
		{"layernorm:tokens=300,hidden=1000,dtype=fp32,variant=tutorial_v1", mix{dma: 8, vector: 27, scalar: 6}},
		// per tile v2: 2 bn_stats (512 + 488), bn_aggr, 2 tensor_scalar,
		// 2 tensor_tensor; rsqrt.
		{"layernorm:tokens=300,hidden=1000,dtype=fp32,variant=tutorial_v2", mix{dma: 8, vector: 21, scalar: 3, bnStats: 6, bnAggr: 3}},
		{"layernorm:tokens=128,hidden=1025,dtype=bf16,variant=tutorial_v2", mix{dma: 4, vector: 8, scalar: 1, bnStats: 3, bnAggr: 1}},
	}
	for _, tc := range cases {
		p, err := Builtin().Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := BuildNeuron(isa.Trn1(), p)
		if err != nil {
			t.Fatal(err)
		}
		var got mix
		for _, in := range prog.Instrs {
			switch in.Engine {
			case isa.DMA:
				got.dma++
			case isa.Vector:
				got.vector++
			case isa.Scalar:
				got.scalar++
			}
			switch in.Op {
			case isa.OpBNStats:
				got.bnStats++
				if n := in.Src[0].FreeElems(); n > isa.BNStatsFMax {
					t.Errorf("%s: bn_stats over %d columns", tc.spec, n)
				}
			case isa.OpBNAggr:
				got.bnAggr++
			}
		}
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.spec, got, tc.want)
		}
		if est := p.Kernel.Instrs(p); est < float64(len(prog.Instrs)) {
			t.Errorf("%s: Instrs estimates %.0f, the program has %d", tc.spec, est, len(prog.Instrs))
		}
	}
}

func TestLayerNormVariants(t *testing.T) {
	ks := Builtin()
	for _, tc := range []struct {
		variant, ran string
		gpu          bool
	}{
		{"best", "pipelined", true},
		{"pipelined", "pipelined", false},
		{"tutorial_v1", "tutorial_v1", false},
		{"tutorial_v2", "tutorial_v2", false},
	} {
		p, err := ks.Parse("layernorm:tokens=256,hidden=512,variant=" + tc.variant)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Kernel.NeuronVariant(p); got != tc.ran {
			t.Errorf("variant %s runs %s on a NeuronCore, want %s", tc.variant, got, tc.ran)
		}
		plans, err := GPUPlans(plan.Device{Name: "h100-like"}, p) // the row kernel reads no device field
		if tc.gpu && (err != nil || len(plans) != 1 || plans[0].Variant != "") {
			t.Errorf("variant %s on a GPU: %v, %v; want its one kernel, no variant", tc.variant, plans, err)
		}
		if !tc.gpu && !errors.Is(err, ErrUnsupported) {
			t.Errorf("variant %s on a GPU: error %v, want ErrUnsupported", tc.variant, err)
		}
	}
	if _, err := ks.Parse("layernorm:variant=tutorial_v3"); err == nil || !strings.Contains(err.Error(), "tutorial_v2") {
		t.Errorf("variant tutorial_v3: error %v, want one listing the variants", err)
	}
}

func TestNormReference(t *testing.T) {
	ks := Builtin()
	p, _ := ks.Parse("rmsnorm:tokens=1,hidden=2,dtype=fp32")
	// x = (3, 4): mean(x²) = 12.5.
	got := p.Kernel.Reference(p, map[string][]float32{"x": {3, 4}, "w": {1, 2}})["out"]
	r := 1 / math.Sqrt(12.5+1e-5)
	if want := []float64{3 * r, 8 * r}; math.Abs(got[0]-want[0]) > 1e-12 || math.Abs(got[1]-want[1]) > 1e-12 {
		t.Errorf("rmsnorm(3, 4) = %v, want %v", got, want)
	}
	p, _ = ks.Parse("layernorm:tokens=1,hidden=2,dtype=fp32")
	// x = (1, 3): mean 2, variance 1.
	got = p.Kernel.Reference(p, map[string][]float32{"x": {1, 3}, "gamma": {1, 2}, "beta": {0, 0.5}})["out"]
	r = 1 / math.Sqrt(1+1e-5)
	if want := []float64{-r, 2*r + 0.5}; math.Abs(got[0]-want[0]) > 1e-12 || math.Abs(got[1]-want[1]) > 1e-12 {
		t.Errorf("layernorm(1, 3) = %v, want %v", got, want)
	}
}

func TestNormTooWide(t *testing.T) {
	// One fp32 row of 60000 is 234 KiB per lane: more than any SBUF
	// partition (192–256 KiB).
	for _, k := range []string{"rmsnorm", "layernorm", "layernorm:variant=tutorial_v1,"} {
		sep := ":"
		if strings.Contains(k, ":") {
			sep = ""
		}
		p, err := Builtin().Parse(k + sep + "tokens=4,hidden=60000,dtype=fp32")
		if err != nil {
			t.Fatal(err)
		}
		_, err = BuildNeuron(isa.Trn2(), p)
		if err == nil || !strings.Contains(err.Error(), "hidden=60000") || !strings.Contains(err.Error(), "SBUF") {
			t.Errorf("%s hidden=60000 fp32: error %v, want one naming hidden=60000 and SBUF", k, err)
		}
	}
}
