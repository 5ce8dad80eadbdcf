//go:build amd64 && !goexperiment.simd

package isa

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAsmKernelsMatchDefinition runs each assembly kernel the CPU has on
// ragged blocks (edges left to the pure-Go kernel) and on signed zeros,
// and compares every element, bit for bit, with the definition.
func TestAsmKernelsMatchDefinition(t *testing.T) {
	x := &cpu.X86
	kernels := []struct {
		name string
		ok   bool
		w    int
		f    func(c, a, b []float32, M, N, K, i, j int)
	}{
		{"avx512", x.HasAVX512F, 32, kernel4x32asm},
		{"avx2", x.HasAVX2, 16, kernel4x16asm},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	ran := 0
	for _, k := range kernels {
		if !k.ok {
			t.Logf("%s: not on this CPU", k.name)
			continue
		}
		ran++
		for _, s := range [][3]int{{4, 32, 1}, {7, 70, 129}, {128, 512, 256}, {130, 97, 3}} {
			M, N, K := s[0], s[1], s[2]
			a, b := randFloats(rng, K*M), randFloats(rng, K*N)
			a[0], b[1] = float32(negZero()), 0 // -0·x products
			want := naiveGemm(a, b, M, N, K)
			c := make([]float32, M*N)
			for i := range c {
				c[i] = 7 // every element must be overwritten
			}
			tileBlock(c, a, b, M, N, K, 0, M, 0, N, k.w, k.f)
			if !same(c, want) {
				t.Errorf("%s M=%d N=%d K=%d: differs from the definition", k.name, M, N, K)
			}
		}
	}
	if x.HasAVX2 && !gemmBlockSIMD(make([]float32, 16), make([]float32, 4), make([]float32, 4), 4, 4, 1, 0, 4, 0, 4) {
		t.Errorf("gemmBlockSIMD declined on a CPU with AVX2")
	}
	if ran == 0 && x.HasAVX2 {
		t.Error("no kernel ran on a CPU with AVX2")
	}
}

func negZero() float64 { z := 0.0; return -z }
