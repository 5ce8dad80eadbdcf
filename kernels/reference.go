package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemmTN computes c[M,N] = atᵀ·b with at [K,M] and b [K,N] in float64 with
// gonum's Dgemm.
func gemmTN(c []float64, at, b []float32, M, N, K int) {
	a64 := blas64.General{Rows: K, Cols: M, Stride: M, Data: widen(at)}
	b64 := blas64.General{Rows: K, Cols: N, Stride: N, Data: widen(b)}
	c64 := blas64.General{Rows: M, Cols: N, Stride: N, Data: c}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, a64, b64, 0, c64)
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
