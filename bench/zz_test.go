package bench

import (
	"testing"
	"time"

	"github.com/trnsim/trnsim/kernels"
)

func TestZZ(t *testing.T) {
	tg, _ := TargetByName("trn2", "")
	ex := Exact([]Target{tg})[0]
	var specs []kernels.Params
	for _, tn := range []int{0, 1, 2, 4, 8, 16} {
		for _, tk := range []int{0, 1, 2, 4, 8} {
			p, err := kernels.Builtin().Parse("matmul:M=64,N=14336,K=4096,tiles_n=" + itoa(tn) + ",tiles_k=" + itoa(tk))
			if err != nil {
				t.Fatal(err)
			}
			specs = append(specs, p)
		}
	}
	for r := 0; r < 3; r++ {
		for _, target := range []Target{tg, ex} {
			t0 := time.Now()
			for _, p := range specs {
				Run(p, target)
			}
			t.Logf("exact=%v %v", target == ex, time.Since(t0))
		}
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
