package kernels

import (
	"math"
	"testing"
)

func TestSoftmaxCheck(t *testing.T) {
	specs := []string{
		"softmax:rows=130,cols=300",
		"softmax:rows=1,cols=1",
		"softmax:rows=3,cols=9000", // three chunks per row
		"softmax:rows=400,cols=20", // four row tiles through the pipeline
	}
	checkMatrix(t, specs, "fp32", "bf16", "fp16")
}

func TestSoftmaxReference(t *testing.T) {
	p, _ := Builtin().Parse("softmax:rows=2,cols=2,dtype=fp32")
	// softmax(0, ln 3) = (1/4, 3/4); a row shifted by a constant is unchanged.
	l3 := float32(math.Log(3))
	got := p.Kernel.Reference(p, map[string][]float32{"x": {0, l3, 100, 100 + l3}})["out"]
	for i, want := range []float64{0.25, 0.75, 0.25, 0.75} {
		if math.Abs(got[i]-want) > 1e-6 {
			t.Errorf("softmax[%d] = %g, want %g", i, got[i], want)
		}
	}
}
