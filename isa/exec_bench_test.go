package isa

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// BenchmarkExecMatmul runs the tiled 1024³ matmul program through Exec
// (DMA, decode, matmul, PSUM accumulation, rounding and store included) and,
// in the same run, gonum's float32 Sgemm on the same shape, both reported
// in GFLOP/s (2·M·N·K per operation) so the ratio reads side by side:
//
//	go test ./isa -run '^$' -bench ExecMatmul -benchtime 5x
func BenchmarkExecMatmul(b *testing.B) {
	const M, N, K = 1024, 1024, 1024
	const flops = 2.0 * M * N * K
	report := func(b *testing.B) {
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	for _, dt := range []DType{BF16, FP32, FP8E4M3} {
		b.Run("exec-"+dt.String(), func(b *testing.B) {
			p := tiledMatmul(b, Trn2(), dt, M, N, K)
			in := matmulInputs(rand.New(rand.NewPCG(1, 1)), dt, M, N, K)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Exec(p, Trn2(), in); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
	b.Run("gonum-sgemm", func(b *testing.B) {
		in := matmulInputs(rand.New(rand.NewPCG(1, 1)), FP32, M, N, K)
		at := blas32.General{Rows: K, Cols: M, Stride: M, Data: in["AT"]}
		bm := blas32.General{Rows: K, Cols: N, Stride: N, Data: in["B"]}
		c := blas32.General{Rows: M, Cols: N, Stride: N, Data: make([]float32, M*N)}
		for b.Loop() {
			blas32.Gemm(blas.Trans, blas.NoTrans, 1, at, bm, 0, c)
		}
		report(b)
	})
}

// BenchmarkGemmKernel times one full nc_matmul's worth of work (K=128,
// M=128, N=512) through the kernel alone, on one goroutine.
func BenchmarkGemmKernel(b *testing.B) {
	const M, N, K = 128, 512, 128
	rng := rand.New(rand.NewPCG(1, 2))
	a, bm := randFloats(rng, K*M), randFloats(rng, K*N)
	c := make([]float32, M*N)
	b.Run("blocks", func(b *testing.B) {
		for b.Loop() {
			gemm(c, a, bm, M, N, K, 1)
		}
		b.ReportMetric(2*M*N*K*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("pure-go", func(b *testing.B) {
		for b.Loop() {
			gemmBlockGo(c, a, bm, M, N, K, 0, M, 0, N)
		}
		b.ReportMetric(2*M*N*K*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
