package kernels

import (
	"strings"
	"testing"
)

func TestRopeCheck(t *testing.T) {
	specs := []string{
		"rope:tokens=130,heads=3,headdim=64",
		"rope:tokens=1,heads=1,headdim=2",
		"rope:tokens=5,heads=40,headdim=128", // two head groups of 32 and 8
	}
	checkMatrix(t, specs, "fp32", "bf16", "fp16")
}

func TestRopeReference(t *testing.T) {
	p, _ := Builtin().Parse("rope:tokens=1,heads=2,headdim=2,dtype=fp32")
	// A quarter turn (cos 0, sin 1) maps (a, b) to (−b, a) in every head.
	got := p.Kernel.Reference(p, map[string][]float32{"x": {1, 0, 0.5, 2}, "cos": {0}, "sin": {1}})["out"]
	for i, want := range []float64{0, 1, -2, 0.5} {
		if got[i] != want {
			t.Errorf("rope[%d] = %g, want %g (got %v)", i, got[i], want, got)
		}
	}
}

func TestRopeOddHeadDim(t *testing.T) {
	_, err := Builtin().Parse("rope:headdim=63")
	if err == nil || !strings.Contains(err.Error(), "headdim=63") {
		t.Errorf("headdim=63: error %v, want one naming headdim=63", err)
	}
}
