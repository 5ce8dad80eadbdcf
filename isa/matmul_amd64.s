//go:build amd64 && !goexperiment.simd

#include "textflag.h"

// The matmul micro-kernels of the default amd64 build (see
// matmul_amd64.go). Each computes a 4-row tile of C = Aᵀ·B with a separate
// multiply (VMULPS, rounded to fp32) and add (VADDPS) per product, summed
// in increasing k from +0: the numerics of gemmBlockGo, bit for bit. No
// FMA: a fused multiply-add rounds once and would differ for fp32 inputs.
//
// Arguments: c points at C[i][j], a at A[0][i], b at B[0][j]; lda, ldb and
// ldc are the row strides of A, B and C in elements; k is the contraction
// length.

// func mm4x32avx512(c, a, b *float32, lda, ldb, ldc, k int)
TEXT ·mm4x32avx512(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ lda+24(FP), R8
	SHLQ $2, R8
	MOVQ ldb+32(FP), R9
	SHLQ $2, R9
	MOVQ ldc+40(FP), R10
	SHLQ $2, R10
	MOVQ k+48(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JEQ   store512

loop512:
	VMOVUPS      (DX), Z8
	VMOVUPS      64(DX), Z9
	VBROADCASTSS (SI), Z10
	VMULPS       Z8, Z10, Z11
	VADDPS       Z11, Z0, Z0
	VMULPS       Z9, Z10, Z12
	VADDPS       Z12, Z1, Z1
	VBROADCASTSS 4(SI), Z13
	VMULPS       Z8, Z13, Z14
	VADDPS       Z14, Z2, Z2
	VMULPS       Z9, Z13, Z15
	VADDPS       Z15, Z3, Z3
	VBROADCASTSS 8(SI), Z16
	VMULPS       Z8, Z16, Z17
	VADDPS       Z17, Z4, Z4
	VMULPS       Z9, Z16, Z18
	VADDPS       Z18, Z5, Z5
	VBROADCASTSS 12(SI), Z19
	VMULPS       Z8, Z19, Z20
	VADDPS       Z20, Z6, Z6
	VMULPS       Z9, Z19, Z21
	VADDPS       Z21, Z7, Z7
	ADDQ         R8, SI
	ADDQ         R9, DX
	DECQ         CX
	JNZ          loop512

store512:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    R10, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ    R10, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    R10, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

// func mm4x16avx2(c, a, b *float32, lda, ldb, ldc, k int)
TEXT ·mm4x16avx2(SB), NOSPLIT, $0-56
	MOVQ   c+0(FP), DI
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DX
	MOVQ   lda+24(FP), R8
	SHLQ   $2, R8
	MOVQ   ldb+32(FP), R9
	SHLQ   $2, R9
	MOVQ   ldc+40(FP), R10
	SHLQ   $2, R10
	MOVQ   k+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ  CX, CX
	JEQ    store256

loop256:
	VMOVUPS      (DX), Y8
	VMOVUPS      32(DX), Y9
	VBROADCASTSS (SI), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y0, Y0
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y1, Y1
	VBROADCASTSS 4(SI), Y13
	VMULPS       Y8, Y13, Y14
	VADDPS       Y14, Y2, Y2
	VMULPS       Y9, Y13, Y15
	VADDPS       Y15, Y3, Y3
	VBROADCASTSS 8(SI), Y10
	VMULPS       Y8, Y10, Y11
	VADDPS       Y11, Y4, Y4
	VMULPS       Y9, Y10, Y12
	VADDPS       Y12, Y5, Y5
	VBROADCASTSS 12(SI), Y13
	VMULPS       Y8, Y13, Y14
	VADDPS       Y14, Y6, Y6
	VMULPS       Y9, Y13, Y15
	VADDPS       Y15, Y7, Y7
	ADDQ         R8, SI
	ADDQ         R9, DX
	DECQ         CX
	JNZ          loop256

store256:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R10, DI
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    R10, DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    R10, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VZEROUPPER
	RET
