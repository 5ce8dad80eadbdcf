package kernels

import (
	"math"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

func TestNormCheck(t *testing.T) {
	shapes := []string{
		"tokens=130,hidden=300", // ragged row tile and hidden
		"tokens=1,hidden=1",
		"tokens=5,hidden=4100", // two chunks per row (4096 + 4)
		"tokens=300,hidden=64", // three row tiles through the pipeline
	}
	for _, k := range []string{"rmsnorm", "layernorm"} {
		var specs []string
		for _, sh := range shapes {
			specs = append(specs, k+":"+sh)
		}
		checkMatrix(t, specs, "fp32", "bf16", "fp16")
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
	for _, k := range []string{"rmsnorm", "layernorm"} {
		p, err := Builtin().Parse(k + ":tokens=4,hidden=60000,dtype=fp32")
		if err != nil {
			t.Fatal(err)
		}
		_, err = BuildNeuron(isa.Trn2(), p)
		if err == nil || !strings.Contains(err.Error(), "hidden=60000") || !strings.Contains(err.Error(), "SBUF") {
			t.Errorf("%s hidden=60000 fp32: error %v, want one naming hidden=60000 and SBUF", k, err)
		}
	}
}
