//go:build goexperiment.simd && amd64

package isa

import (
	"simd/archsimd"

	"golang.org/x/sys/cpu"
)

// The SIMD matmul kernels, built only with GOEXPERIMENT=simd on amd64 and
// chosen at run time from the CPU's features. They keep the numerics of
// gemmBlockGo exactly: a separate multiply (rounded to fp32) and add per
// product, summed in increasing k from +0, so every element has the same
// bits as in the pure-Go kernel. (A fused multiply-add would round once
// instead of twice and differ for fp32 operands.)

// gemmBlockSIMD computes the block with the widest kernel the CPU has and
// reports whether it did.
func gemmBlockSIMD(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) bool {
	x := &cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && x.HasAVX512CD:
		tileBlock(c, a, b, M, N, K, i0, i1, j0, j1, 32, kernel4x32)
	case x.HasAVX2:
		tileBlock(c, a, b, M, N, K, i0, i1, j0, j1, 16, kernel4x16)
	default:
		return false
	}
	return true
}

// kernel4x32 computes C[i:i+4, j:j+32] with AVX-512: per k, two 16-wide
// loads of B's row and one broadcast of each of the four A values.
func kernel4x32(c, a, b []float32, M, N, K, i, j int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	ai, bi := i, j
	for k := 0; k < K; k++ {
		ak := a[ai : ai+4 : ai+4]
		bk := b[bi : bi+32 : bi+32]
		b0 := archsimd.LoadFloat32x16Slice(bk)
		b1 := archsimd.LoadFloat32x16Slice(bk[16:])
		x := archsimd.BroadcastFloat32x16(ak[0])
		c00 = c00.Add(x.Mul(b0))
		c01 = c01.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x16(ak[1])
		c10 = c10.Add(x.Mul(b0))
		c11 = c11.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x16(ak[2])
		c20 = c20.Add(x.Mul(b0))
		c21 = c21.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x16(ak[3])
		c30 = c30.Add(x.Mul(b0))
		c31 = c31.Add(x.Mul(b1))
		ai += M
		bi += N
	}
	c00.StoreSlice(c[i*N+j:])
	c01.StoreSlice(c[i*N+j+16:])
	c10.StoreSlice(c[(i+1)*N+j:])
	c11.StoreSlice(c[(i+1)*N+j+16:])
	c20.StoreSlice(c[(i+2)*N+j:])
	c21.StoreSlice(c[(i+2)*N+j+16:])
	c30.StoreSlice(c[(i+3)*N+j:])
	c31.StoreSlice(c[(i+3)*N+j+16:])
}

// kernel4x16 is kernel4x32 for AVX2: 8-wide vectors, 4 × 16 outputs.
func kernel4x16(c, a, b []float32, M, N, K, i, j int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	ai, bi := i, j
	for k := 0; k < K; k++ {
		ak := a[ai : ai+4 : ai+4]
		bk := b[bi : bi+16 : bi+16]
		b0 := archsimd.LoadFloat32x8Slice(bk)
		b1 := archsimd.LoadFloat32x8Slice(bk[8:])
		x := archsimd.BroadcastFloat32x8(ak[0])
		c00 = c00.Add(x.Mul(b0))
		c01 = c01.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x8(ak[1])
		c10 = c10.Add(x.Mul(b0))
		c11 = c11.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x8(ak[2])
		c20 = c20.Add(x.Mul(b0))
		c21 = c21.Add(x.Mul(b1))
		x = archsimd.BroadcastFloat32x8(ak[3])
		c30 = c30.Add(x.Mul(b0))
		c31 = c31.Add(x.Mul(b1))
		ai += M
		bi += N
	}
	c00.StoreSlice(c[i*N+j:])
	c01.StoreSlice(c[i*N+j+8:])
	c10.StoreSlice(c[(i+1)*N+j:])
	c11.StoreSlice(c[(i+1)*N+j+8:])
	c20.StoreSlice(c[(i+2)*N+j:])
	c21.StoreSlice(c[(i+2)*N+j+8:])
	c30.StoreSlice(c[(i+3)*N+j:])
	c31.StoreSlice(c[(i+3)*N+j+8:])
}
