package isa

import (
	"sync"
	"sync/atomic"
)

// TensorE instructions: nc_matmul and nc_transpose.
//
// Matmul numerics: every product of two operands is rounded to fp32 (for
// bf16, fp16 and fp8 operands the product is exact, so this matters only
// for fp32 inputs), and each output element sums its K products in fp32 in
// increasing contraction-row order starting from +0. With Accumulate the
// sum is then added to the PSUM value, as the array adds a column's partial
// sum into its accumulator (docs/hardware.md A §2.2 nc_matmul: "Accumulate: first
// write overwrites, later accumulate"); the result is rounded to the
// destination dtype (fp32 PSUM; bf16 on NC-v4).
//
// In FP8 double-row mode the operands are [K,2,M] and [K,2,N]; the
// contraction runs over the 2K rows in the order (k, r): row 2k+r.
//
// The order is fixed per element, so results are bit-identical whatever
// the blocking, the number of goroutines (GOMAXPROCS) or the SIMD path.

func (m *machine) matmul(in *Instr) {
	st, mv := &in.Src[0], &in.Src[1]
	r := 1
	if in.DoubleRow {
		r = 2
	}
	K := int(st.Parts)
	M, N := st.FreeElems()/r, mv.FreeElems()/r
	a := m.grow(&m.mmA, K*r*M)
	b := m.grow(&m.mmB, K*r*N)
	// Each worker decodes its own rows into its own part of a and b.
	m.parallel(K, K*r*(M+N), true, func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			m.load(st, k, a[k*r*M:(k+1)*r*M])
			m.load(mv, k, b[k*r*N:(k+1)*r*N])
		}
	})
	c := m.grow(&m.mmC, M*N)
	gemm(c, a, b, M, N, K*r, len(m.work))
	m.parallel(M, M*N, rowsIndependent(in.Dst), func(w, lo, hi int) {
		old := m.work[w].row[0][:N]
		for i := lo; i < hi; i++ {
			row := c[i*N : (i+1)*N]
			if in.Accumulate {
				m.load(&in.Dst, i, old)
				for j := range row {
					row[j] += old[j]
				}
			}
			m.store(&in.Dst, i, row)
		}
	})
}

// transpose is nc_transpose: dst[f][p] = src[p][f]. The hardware runs it
// as a matmul by the identity, which is exact, so values only round to the
// destination dtype.
func (m *machine) transpose(in *Instr) {
	src := &in.Src[0]
	P, F := int(src.Parts), src.FreeElems()
	t := m.grow(&m.mmC, P*F)
	m.parallel(P, P*F, true, func(w, lo, hi int) {
		x := m.work[w].row[0][:F]
		for p := lo; p < hi; p++ {
			m.load(src, p, x)
			for f, v := range x {
				t[f*P+p] = v
			}
		}
	})
	m.parallel(F, P*F, rowsIndependent(in.Dst), func(_, lo, hi int) {
		for f := lo; f < hi; f++ {
			m.store(&in.Dst, f, t[f*P:(f+1)*P])
		}
	})
}

// Block sizes of the parallel split: each task computes a gemmRows ×
// gemmCols block of C. gemmCols·K·4 bytes of B (32 KiB at K = 128) stay in
// L1 while the task walks down the rows.
const (
	gemmRows = 32
	gemmCols = 64
	// gemmSerial is the work (M·N·K multiply-adds) below which one
	// goroutine does the whole product.
	gemmSerial = 1 << 17
)

// gemm sets c[i·N+j] = Σ_k a[k·M+i]·b[k·N+j] (a is [K][M], b is [K][N],
// both row-major), splitting C into blocks computed on up to workers
// goroutines.
func gemm(c, a, b []float32, M, N, K, workers int) {
	rb, cb := (M+gemmRows-1)/gemmRows, (N+gemmCols-1)/gemmCols
	tasks := rb * cb
	workers = min(workers, tasks)
	block := func(t int) {
		i0, j0 := (t/cb)*gemmRows, (t%cb)*gemmCols
		gemmBlock(c, a, b, M, N, K, i0, min(i0+gemmRows, M), j0, min(j0+gemmCols, N))
	}
	if workers <= 1 || M*N*K < gemmSerial {
		for t := range tasks {
			block(t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := int(next.Add(1) - 1); t < tasks; t = int(next.Add(1) - 1) {
				block(t)
			}
		})
	}
	wg.Wait()
}

// gemmBlock computes rows [i0,i1) and columns [j0,j1) of C, with the SIMD
// kernel where one is built in and the CPU has it, else in pure Go.
func gemmBlock(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) {
	if gemmBlockSIMD(c, a, b, M, N, K, i0, i1, j0, j1) {
		return
	}
	gemmBlockGo(c, a, b, M, N, K, i0, i1, j0, j1)
}

// gemmBlockGo is the pure-Go kernel: 2×4 output elements held in registers
// while the contraction runs, the edges one element at a time.
func gemmBlockGo(c, a, b []float32, M, N, K, i0, i1, j0, j1 int) {
	i := i0
	for ; i+2 <= i1; i += 2 {
		j := j0
		for ; j+4 <= j1; j += 4 {
			kernel2x4(c, a, b, M, N, K, i, j)
		}
		for ; j < j1; j++ {
			c[i*N+j] = dot(a, b, M, N, K, i, j)
			c[(i+1)*N+j] = dot(a, b, M, N, K, i+1, j)
		}
	}
	for ; i < i1; i++ {
		for j := j0; j < j1; j++ {
			c[i*N+j] = dot(a, b, M, N, K, i, j)
		}
	}
}

// kernel2x4 computes C[i:i+2, j:j+4]. The float32 conversions forbid fusing
// a multiply and an add into an FMA, which would round differently.
func kernel2x4(c, a, b []float32, M, N, K, i, j int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	ai, bi := i, j
	for k := 0; k < K; k++ {
		ak := a[ai : ai+2 : ai+2]
		bk := b[bi : bi+4 : bi+4]
		a0, a1 := ak[0], ak[1]
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		c00 += float32(a0 * b0)
		c01 += float32(a0 * b1)
		c02 += float32(a0 * b2)
		c03 += float32(a0 * b3)
		c10 += float32(a1 * b0)
		c11 += float32(a1 * b1)
		c12 += float32(a1 * b2)
		c13 += float32(a1 * b3)
		ai += M
		bi += N
	}
	o := c[i*N+j : i*N+j+4]
	o[0], o[1], o[2], o[3] = c00, c01, c02, c03
	o = c[(i+1)*N+j : (i+1)*N+j+4]
	o[0], o[1], o[2], o[3] = c10, c11, c12, c13
}

// dot returns C[i,j], summed in the same order as the kernels.
func dot(a, b []float32, M, N, K, i, j int) float32 {
	var s float32
	for k := 0; k < K; k++ {
		s += float32(a[k*M+i] * b[k*N+j])
	}
	return s
}
