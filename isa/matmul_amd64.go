//go:build amd64 && !goexperiment.simd

package isa

import "golang.org/x/sys/cpu"

// The matmul kernels of the default amd64 build: the AVX-512 and AVX2
// micro-kernels of matmul_amd64.s, chosen at run time from the CPU's
// features (golang.org/x/sys/cpu), with the numerics of gemmBlockGo bit for
// bit. A build with GOEXPERIMENT=simd uses the same kernels written with
// simd/archsimd instead (matmul_simd.go).

//go:noescape
func mm4x32avx512(c, a, b *float32, lda, ldb, ldc, k int)

//go:noescape
func mm4x16avx2(c, a, b *float32, lda, ldb, ldc, k int)

// gemmBlockSIMD computes the block with the widest kernel the CPU has and
// reports whether it did.
func gemmBlockSIMD(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) bool {
	x := &cpu.X86
	switch {
	case K <= 0:
		return false
	case x.HasAVX512F:
		tileBlock(c, a, b, M, N, K, i0, i1, j0, j1, 32, kernel4x32asm)
	case x.HasAVX2:
		tileBlock(c, a, b, M, N, K, i0, i1, j0, j1, 16, kernel4x16asm)
	default:
		return false
	}
	return true
}

// kernel4x32asm computes C[i:i+4, j:j+32]; the index expressions check,
// once, that the tile lies inside a, b and c.
func kernel4x32asm(c, a, b []float32, M, N, K, i, j int) {
	_ = a[(K-1)*M+i+3]
	_ = b[(K-1)*N+j+31]
	_ = c[(i+3)*N+j+31]
	mm4x32avx512(&c[i*N+j], &a[i], &b[j], M, N, N, K)
}

// kernel4x16asm computes C[i:i+4, j:j+16].
func kernel4x16asm(c, a, b []float32, M, N, K, i, j int) {
	_ = a[(K-1)*M+i+3]
	_ = b[(K-1)*N+j+15]
	_ = c[(i+3)*N+j+15]
	mm4x16avx2(&c[i*N+j], &a[i], &b[j], M, N, N, K)
}
