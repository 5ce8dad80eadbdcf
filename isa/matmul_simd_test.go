//go:build goexperiment.simd && amd64

package isa

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestSIMDKernelsMatchDefinition runs each SIMD kernel the CPU has on
// ragged blocks and compares every element, bit for bit, with the
// definition (and so with the pure-Go kernel).
func TestSIMDKernelsMatchDefinition(t *testing.T) {
	type kern struct {
		name string
		ok   bool
		w    int
		f    func(c, a, b []float32, M, N, K, i, j int)
	}
	x := &cpu.X86
	kernels := []kern{
		{"avx512", x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && x.HasAVX512CD, 32, kernel4x32},
		{"avx2", x.HasAVX2, 16, kernel4x16},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range kernels {
		if !k.ok {
			t.Logf("%s: not on this CPU", k.name)
			continue
		}
		for _, s := range [][3]int{{4, 32, 1}, {7, 70, 129}, {128, 512, 256}, {130, 97, 3}} {
			M, N, K := s[0], s[1], s[2]
			a, b := randFloats(rng, K*M), randFloats(rng, K*N)
			want := naiveGemm(a, b, M, N, K)
			c := make([]float32, M*N)
			tileBlock(c, a, b, M, N, K, 0, M, 0, N, k.w, k.f)
			if !same(c, want) {
				t.Errorf("%s M=%d N=%d K=%d: differs from the definition", k.name, M, N, K)
			}
		}
	}
	if x.HasAVX2 && !gemmBlockSIMD(make([]float32, 16), make([]float32, 4), make([]float32, 4), 4, 4, 1, 0, 4, 0, 4) {
		t.Errorf("gemmBlockSIMD declined on a CPU with AVX2")
	}
}
