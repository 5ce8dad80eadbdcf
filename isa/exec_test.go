package isa

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// run builds a program with build on arch, executes it on in and returns
// the outputs, failing the test on any error.
func run(t *testing.T, arch Arch, in map[string][]float32, build func(b *Builder)) map[string][]float32 {
	t.Helper()
	b := NewBuilder(arch, t.Name())
	build(b)
	p, err := b.Program()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	out, err := Exec(p, arch, in)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return out
}

// same reports whether got and want hold the same float32 bit patterns
// (so -0 differs from +0 and NaNs compare by pattern).
func same(got, want []float32) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return false
		}
	}
	return true
}

func expect(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if !same(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// roundTrip loads X [rows,cols] into an SBUF tile of dtype dt, applies op
// (which may be nil) to the tile, and stores it to the fp32 output Y.
func roundTrip(b *Builder, dt DType, rows, cols int, op func(tile AP)) {
	x := b.Input("X", FP32, rows, cols)
	y := b.Output("Y", FP32, rows, cols)
	pool := b.SBUFPool("t", 1, cols*4)
	tile := pool.Tile(dt, rows, cols)
	b.Load(tile, x.Tile(0, 0, rows, cols))
	if op != nil {
		op(tile)
	}
	b.Store(y.Tile(0, 0, rows, cols), tile)
}

func TestExecDMARoundsToDestination(t *testing.T) {
	x := []float32{1, 1 + 0x1p-8, 1 + 3*0x1p-8, -0.5, 65664, float32(math.Inf(-1))}
	// bf16: 1+2^-8 ties to 1; 1+3·2^-8 ties to 1+2^-6 (even); 65664 is
	// below the midpoint 65536+256 so it rounds to 65536.
	want := []float32{1, 1, 1 + 0x1p-6, -0.5, 65536, float32(math.Inf(-1))}
	out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) { roundTrip(b, BF16, 2, 3, nil) })
	expect(t, "Y", out["Y"], want)
}

func TestExecMatmul(t *testing.T) {
	// AT = [[1,2],[3,4]] (K=2, M=2), B = [[1,0,-1],[2,1,0]] (K=2, N=3):
	// C[0] = 1·[1,0,-1] + 3·[2,1,0] = [7,3,-1]; C[1] = 2·B[0] + 4·B[1] = [10,4,-2].
	in := map[string][]float32{"AT": {1, 2, 3, 4}, "B": {1, 0, -1, 2, 1, 0}}
	for _, tc := range []struct {
		name  string
		dt    DType
		twice bool // a second matmul with accumulate adds the product again
		want  []float32
	}{
		{"fp32", FP32, false, []float32{7, 3, -1, 10, 4, -2}},
		{"bf16", BF16, false, []float32{7, 3, -1, 10, 4, -2}},
		{"fp8 accumulate", FP8E4M3, true, []float32{14, 6, -2, 20, 8, -4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, Trn2(), in, func(b *Builder) {
				at, bm := b.Input("AT", tc.dt, 2, 2), b.Input("B", tc.dt, 2, 3)
				c := b.Output("C", FP32, 2, 3)
				sb := b.SBUFPool("sb", 3, 64)
				ps := b.PSUMPool("ps", 1, 2048)
				a, r, o := sb.Tile(tc.dt, 2, 2), sb.Tile(tc.dt, 2, 3), sb.Tile(FP32, 2, 3)
				acc := ps.Tile(FP32, 2, 3)
				b.Load(a, at.Tile(0, 0, 2, 2))
				b.Load(r, bm.Tile(0, 0, 2, 3))
				b.Matmul(acc, a, r, false)
				if tc.twice {
					b.Matmul(acc, a, r, true)
				}
				b.TensorCopy(Vector, o, acc)
				b.Store(c.Tile(0, 0, 2, 3), o)
			})
			expect(t, "C", out["C"], tc.want)
		})
	}
}

// TestExecMatmulSumOrder: each output element adds its products in fp32 in
// increasing k: ((0 + 2^24) + 1) + 1 = 2^24 (each +1 ties to even), where
// any other order (or a wider accumulator) would give 2^24 + 2.
func TestExecMatmulSumOrder(t *testing.T) {
	in := map[string][]float32{"AT": {1, 1, 1}, "B": {0x1p24, 1, 1}}
	out := run(t, Trn1(), in, func(b *Builder) {
		at, bm := b.Input("AT", FP32, 3, 1), b.Input("B", FP32, 3, 1)
		c := b.Output("C", FP32, 1, 1)
		sb := b.SBUFPool("sb", 3, 16)
		ps := b.PSUMPool("ps", 1, 2048)
		a, r, o := sb.Tile(FP32, 3, 1), sb.Tile(FP32, 3, 1), sb.Tile(FP32, 1, 1)
		acc := ps.Tile(FP32, 1, 1)
		b.Load(a, at.Tile(0, 0, 3, 1))
		b.Load(r, bm.Tile(0, 0, 3, 1))
		b.Matmul(acc, a, r, false)
		b.TensorCopy(Vector, o, acc)
		b.Store(c.Tile(0, 0, 1, 1), o)
	})
	expect(t, "C", out["C"], []float32{0x1p24})
}

func TestExecMatmulDoubleRow(t *testing.T) {
	// stationary [K=1][2][M=2] = [[1,2],[3,4]], moving [1][2][N=2] = [[1,1],[0.5,2]]:
	// C[m][n] = Σ_r st[r][m]·mv[r][n] = [[1+1.5, 1+6], [2+2, 2+8]].
	in := map[string][]float32{"S": {1, 2, 3, 4}, "V": {1, 1, 0.5, 2}}
	out := run(t, Trn2(), in, func(b *Builder) {
		s, v := b.Input("S", FP8E4M3, 1, 4), b.Input("V", FP8E4M3, 1, 4)
		c := b.Output("C", BF16, 2, 2)
		sb := b.SBUFPool("sb", 3, 16)
		ps := b.PSUMPool("ps", 1, 2048)
		st, mv, o := sb.Tile(FP8E4M3, 1, 2, 2), sb.Tile(FP8E4M3, 1, 2, 2), sb.Tile(BF16, 2, 2)
		acc := ps.Tile(FP32, 2, 2)
		b.Load(st, s.Tile(0, 0, 1, 4))
		b.Load(mv, v.Tile(0, 0, 1, 4))
		b.Matmul(acc, st, mv, false)
		b.TensorCopy(Vector, o, acc)
		b.Store(c.Tile(0, 0, 2, 2), o)
	})
	expect(t, "C", out["C"], []float32{2.5, 7, 4, 10})
}

func TestExecTranspose(t *testing.T) {
	in := map[string][]float32{"X": {1, 2, 3, 4, 5, 6}}
	out := run(t, Trn2(), in, func(b *Builder) {
		x, y := b.Input("X", FP32, 2, 3), b.Output("Y", FP32, 3, 2)
		sb := b.SBUFPool("sb", 2, 16)
		ps := b.PSUMPool("ps", 1, 2048)
		src, o := sb.Tile(FP32, 2, 3), sb.Tile(FP32, 3, 2)
		tp := ps.Tile(FP32, 3, 2)
		b.Load(src, x.Tile(0, 0, 2, 3))
		b.Transpose(tp, src)
		b.TensorCopy(Vector, o, tp)
		b.Store(y.Tile(0, 0, 3, 2), o)
	})
	expect(t, "Y", out["Y"], []float32{1, 4, 2, 5, 3, 6})
}

func TestExecActivationFunctions(t *testing.T) {
	for _, tc := range []struct {
		f    ActFunc
		x    float32
		want float32
	}{
		{ActCopy, 1.5, 1.5},
		{ActExp, 0, 1},
		{ActExp, 1, float32(math.E)},
		{ActTanh, 0, 0},
		{ActGelu, 0, 0},
		{ActGelu, 10, 10}, // tanh saturates to 1 in float64
		{ActSilu, 0, 0},
		{ActSigmoid, 0, 0.5},
		{ActRelu, -1, 0},
		{ActRelu, 2, 2},
		{ActRsqrt, 4, 0.5},
		{ActReciprocal, 4, 0.25},
		{ActSquare, -3, 9},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			out := run(t, Trn2(), map[string][]float32{"X": {tc.x}}, func(b *Builder) {
				roundTrip(b, FP32, 1, 1, func(tile AP) { b.Activation(tile, tile, tc.f) })
			})
			expect(t, "Y", out["Y"], []float32{tc.want})
		})
	}
}

func TestExecActivationScaleBiasReduce(t *testing.T) {
	x := []float32{0, 1, -2, 4, 0.5, -0.5, 3, -3}
	t.Run("immediates", func(t *testing.T) {
		// relu(2x + 1)
		out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) {
			roundTrip(b, FP32, 2, 4, func(tile AP) {
				b.ActivationWith(tile, tile, ActRelu, ActArgs{Scale: 2, Bias: 1})
			})
		})
		expect(t, "Y", out["Y"], []float32{1, 3, 0, 9, 2, 0, 7, 0})
	})
	t.Run("per-partition with reduce", func(t *testing.T) {
		// square(s·x + c) with s = [1, 2], c = [0, -1] per partition:
		// row 0: [0,1,4,16] (sum 21); row 1: 2x-1 = [0,-2,5,-7] → [0,4,25,49] (sum 78).
		in := map[string][]float32{"X": x, "S": {1, 2}, "C": {0, -1}}
		out := run(t, Trn2(), in, func(b *Builder) {
			sc, bi := b.Input("S", FP32, 2, 1), b.Input("C", FP32, 2, 1)
			sum := b.Output("SUM", FP32, 2, 1)
			cols := b.SBUFPool("cols", 3, 4)
			st, bt, rt := cols.Tile(FP32, 2, 1), cols.Tile(FP32, 2, 1), cols.Tile(FP32, 2, 1)
			b.Load(st, sc.Tile(0, 0, 2, 1))
			b.Load(bt, bi.Tile(0, 0, 2, 1))
			roundTrip(b, FP32, 2, 4, func(tile AP) {
				b.ActivationWith(tile, tile, ActSquare, ActArgs{ScaleAP: st, BiasAP: bt, Reduce: rt})
			})
			b.Store(sum.Tile(0, 0, 2, 1), rt)
		})
		expect(t, "Y", out["Y"], []float32{0, 1, 4, 16, 0, 4, 25, 49})
		expect(t, "SUM", out["SUM"], []float32{21, 78})
	})
}

func TestExecTensorTensor(t *testing.T) {
	a := []float32{6, -1, 2, 3}
	c := []float32{3, 2, 2, -1}
	for _, tc := range []struct {
		op   ALUOp
		want []float32
	}{
		{ALUBypass, []float32{6, -1, 2, 3}},
		{ALUAdd, []float32{9, 1, 4, 2}},
		{ALUSub, []float32{3, -3, 0, 4}},
		{ALUMul, []float32{18, -2, 4, -3}},
		{ALUMax, []float32{6, 2, 2, 3}},
		{ALUMin, []float32{3, -1, 2, -1}},
		{ALUDiv, []float32{2, -0.5, 1, -3}},
		{ALUPow, []float32{216, 1, 4, float32(1.0 / 3)}},
		{ALUIsGE, []float32{1, 0, 1, 1}},
		{ALUIsEq, []float32{0, 0, 1, 0}},
	} {
		t.Run(tc.op.String(), func(t *testing.T) {
			out := run(t, Trn2(), map[string][]float32{"X": a, "C": c}, func(b *Builder) {
				cm := b.Input("C", FP32, 1, 4)
				other := b.SBUFPool("c", 1, 16).Tile(FP32, 1, 4)
				b.Load(other, cm.Tile(0, 0, 1, 4))
				roundTrip(b, FP32, 1, 4, func(tile AP) { b.TensorTensor(tile, tile, other, tc.op) })
			})
			expect(t, "Y", out["Y"], tc.want)
		})
	}
}

func TestExecTensorTensorRoundsBF16(t *testing.T) {
	// 1 + 2^-8 is a bf16 tie: the bf16 destination holds 1.
	in := map[string][]float32{"X": {1, 1}, "C": {0x1p-8, 0x1p-7}}
	out := run(t, Trn2(), in, func(b *Builder) {
		cm := b.Input("C", FP32, 1, 2)
		pool := b.SBUFPool("c", 2, 16)
		other, dst := pool.Tile(FP32, 1, 2), pool.Tile(BF16, 1, 2)
		b.Load(other, cm.Tile(0, 0, 1, 2))
		roundTrip(b, FP32, 1, 2, func(tile AP) {
			b.TensorTensor(dst, tile, other, ALUAdd)
			b.TensorCopy(Vector, tile, dst)
		})
	})
	expect(t, "Y", out["Y"], []float32{1, 1 + 0x1p-7})
}

func TestExecTensorScalar(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	t.Run("per-partition then immediate", func(t *testing.T) {
		// (x · [10, 100]) + 1
		out := run(t, Trn2(), map[string][]float32{"X": x, "S": {10, 100}}, func(b *Builder) {
			s := b.Input("S", FP32, 2, 1)
			col := b.SBUFPool("s", 1, 4).Tile(FP32, 2, 1)
			b.Load(col, s.Tile(0, 0, 2, 1))
			roundTrip(b, FP32, 2, 2, func(tile AP) {
				b.TensorScalar(Vector, tile, tile, ALUMul, PerPartition(col), ALUAdd, Imm(1))
			})
		})
		expect(t, "Y", out["Y"], []float32{11, 21, 301, 401})
	})
	t.Run("single op", func(t *testing.T) {
		out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) {
			roundTrip(b, FP32, 2, 2, func(tile AP) {
				b.TensorScalar(Scalar, tile, tile, ALUAdd, Imm(-1), ALUBypass, Imm(0))
			})
		})
		expect(t, "Y", out["Y"], []float32{0, 1, 2, 3})
	})
}

func TestExecTensorReduce(t *testing.T) {
	// Two partitions of [2][3]: row 0 = [[1,2,3],[4,5,6]], row 1 = [[-1,-2,-3],[0,10,-10]].
	x := []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, 0, 10, -10}
	for _, tc := range []struct {
		name   string
		op     ALUOp
		axes   int
		negate bool
		want   []float32
	}{
		{"sum last", ALUAdd, 1, false, []float32{6, 15, -6, 0}},
		{"max last", ALUMax, 1, false, []float32{3, 6, -1, 10}},
		{"sum both", ALUAdd, 2, false, []float32{21, -6}},
		{"negated max both", ALUMax, 2, true, []float32{-6, -10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outer := 2
			if tc.axes == 2 {
				outer = 1
			}
			out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) {
				xt, y := b.Input("X", FP32, 2, 6), b.Output("Y", FP32, 2, outer)
				pool := b.SBUFPool("p", 2, 24)
				src, dst := pool.Tile(FP32, 2, 2, 3), pool.Tile(FP32, 2, outer)
				b.Load(src, xt.Tile(0, 0, 2, 6))
				b.TensorReduce(dst, src, tc.op, tc.axes, tc.negate)
				b.Store(y.Tile(0, 0, 2, outer), dst)
			})
			expect(t, "Y", out["Y"], tc.want)
		})
	}
}

func TestExecMemset(t *testing.T) {
	for _, tc := range []struct {
		dt   DType
		v    float32
		want float32
	}{
		{BF16, 1 + 0x1p-8, 1},    // tie to even
		{FP8E4M3, 500, 448},      // saturates
		{FP8E5M2, 1e6, posInf},   // overflows
		{FP16, 0x1p-25, 0},       // half the smallest subnormal ties to zero
		{Int32, 2.5, 2},          // half to even
		{FP32, 0.1, float32(.1)}, // unchanged
	} {
		t.Run(tc.dt.String(), func(t *testing.T) {
			out := run(t, Trn2(), map[string][]float32{"X": {0, 0}}, func(b *Builder) {
				roundTrip(b, tc.dt, 1, 2, func(tile AP) { b.Memset(GpSimd, tile, tc.v) })
			})
			expect(t, "Y", out["Y"], []float32{tc.want, tc.want})
		})
	}
}

func TestExecIota(t *testing.T) {
	// 5 + 10·p - i over [3,4].
	out := run(t, Trn2(), nil, func(b *Builder) {
		y := b.Output("Y", Int32, 3, 4)
		tile := b.SBUFPool("p", 1, 16).Tile(Int32, 3, 4)
		b.Iota(tile, Affine{Base: 5, PMul: 10, FMul: [MaxFreeDims]int{-1}})
		b.Store(y.Tile(0, 0, 3, 4), tile)
	})
	expect(t, "Y", out["Y"], []float32{5, 4, 3, 2, 15, 14, 13, 12, 25, 24, 23, 22})
}

func TestExecAffineSelect(t *testing.T) {
	ones := make([]float32, 64*2)
	for i := range ones {
		ones[i] = 1
	}
	for _, tc := range []struct {
		name string
		cmp  CmpOp
		// row 32 (p = 0 within the destination) and row 33 (p = 1) of
		// p - i over i = 0, 1: [0, -1] and [1, 0].
		want32, want33 []float32
	}{
		{"ge", CmpGE, []float32{1, -9}, []float32{1, 1}},
		{"gt", CmpGT, []float32{-9, -9}, []float32{1, -9}},
		{"eq", CmpEQ, []float32{1, -9}, []float32{-9, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, Trn2(), map[string][]float32{"X": ones}, func(b *Builder) {
				roundTrip(b, FP32, 64, 2, func(tile AP) {
					rows := tile.Rows(32, 32)
					b.AffineSelect(rows, rows, Affine{PMul: 1, FMul: [MaxFreeDims]int{-1}, Cmp: tc.cmp}, -9)
				})
			})
			y := out["Y"]
			expect(t, "row 0", y[0:2], []float32{1, 1}) // outside the destination: untouched
			expect(t, "row 32", y[64:66], tc.want32)
			expect(t, "row 33", y[66:68], tc.want33)
		})
	}
}

func TestExecDMAReshapeAndStrides(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	t.Run("flat reshape", func(t *testing.T) {
		out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) {
			xt, y := b.Input("X", FP32, 1, 6), b.Output("Y", FP32, 2, 3)
			tile := b.SBUFPool("p", 1, 12).Tile(FP32, 2, 3)
			b.Load(tile, xt.Tile(0, 0, 1, 6))
			b.Store(y.Tile(0, 0, 2, 3), tile)
		})
		expect(t, "Y", out["Y"], x)
	})
	t.Run("transposing HBM read", func(t *testing.T) {
		out := run(t, Trn2(), map[string][]float32{"X": x}, func(b *Builder) {
			xt, y := b.Input("X", FP32, 2, 3), b.Output("Y", FP32, 3, 2)
			tile := b.SBUFPool("p", 1, 8).Tile(FP32, 3, 2)
			// Row p of the pattern is column p of X: start p, then stride 3.
			col := AP{Mem: HBM, DType: FP32, Tensor: int32(xt.Index), Parts: 3, PStride: 1, NFree: 1,
				Free: [MaxFreeDims]Dim{{Stride: 3, Count: 2}}}
			b.Load(tile, col)
			b.Store(y.Tile(0, 0, 3, 2), tile)
		})
		expect(t, "Y", out["Y"], []float32{1, 4, 2, 5, 3, 6})
	})
	t.Run("reversed SBUF view", func(t *testing.T) {
		out := run(t, Trn2(), map[string][]float32{"X": x[:4]}, func(b *Builder) {
			pool := b.SBUFPool("q", 1, 16)
			rev := pool.Tile(FP32, 1, 4)
			roundTrip(b, FP32, 1, 4, func(tile AP) {
				back := tile.WithDims(Dim{Stride: -1, Count: 4})
				back.Offset += 3 * 4
				b.TensorCopy(Vector, rev, back)
				b.TensorCopy(Vector, tile, rev)
			})
		})
		expect(t, "Y", out["Y"], []float32{4, 3, 2, 1})
	})
}

// TestExecAliasedViews: SBUF holds bytes, so a bf16 view of fp32 data
// reads the halves of each word: 1.0 is 0x3F800000, little-endian, so the
// low half 0x0000 is 0 and the high half 0x3F80 is 1.
func TestExecAliasedViews(t *testing.T) {
	out := run(t, Trn2(), nil, func(b *Builder) {
		y := b.Output("Y", FP32, 1, 4)
		pool := b.SBUFPool("p", 2, 16)
		words, wide := pool.Tile(FP32, 1, 2), pool.Tile(FP32, 1, 4)
		b.Memset(Vector, words, 1)
		halves := words
		halves.DType = BF16
		halves = halves.WithDims(Dim{Stride: 1, Count: 4})
		b.TensorCopy(Vector, wide, halves)
		b.Store(y.Tile(0, 0, 1, 4), wide)
	})
	expect(t, "Y", out["Y"], []float32{0, 1, 0, 1})
}

func TestExecInputErrors(t *testing.T) {
	b := NewBuilder(Trn2(), "io")
	x := b.Input("X", BF16, 2, 3)
	y := b.Output("Y", BF16, 2, 3)
	tile := b.SBUFPool("p", 1, 8).Tile(BF16, 2, 3)
	b.Load(tile, x.Tile(0, 0, 2, 3))
	b.Store(y.Tile(0, 0, 2, 3), tile)
	p, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	six := make([]float32, 6)
	for _, tc := range []struct {
		name   string
		in     map[string][]float32
		tensor string
		msg    string
	}{
		{"missing", map[string][]float32{}, "X", "input missing"},
		{"wrong length", map[string][]float32{"X": make([]float32, 5)}, "X", "has 5 elements, shape [2 3] needs 6"},
		{"unknown", map[string][]float32{"X": six, "Z": six}, "Z", "not an input"},
		{"output given", map[string][]float32{"X": six, "Y": six}, "Y", "not an input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Exec(p, Trn2(), tc.in)
			var ee *ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("Exec error = %v, want an *ExecError", err)
			}
			if ee.Tensor != tc.tensor || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), `"`+tc.tensor+`"`) {
				t.Errorf("error %q (tensor %q), want tensor %q and %q", err, ee.Tensor, tc.tensor, tc.msg)
			}
		})
	}
}

// TestExecInputsRounded: inputs are rounded to the tensor's dtype on
// entry, as a cast would.
func TestExecInputsRounded(t *testing.T) {
	b := NewBuilder(Trn2(), "io")
	x := b.Input("X", FP8E4M3, 1, 2)
	y := b.Output("Y", FP32, 1, 2)
	tile := b.SBUFPool("p", 1, 8).Tile(FP32, 1, 2)
	b.Load(tile, x.Tile(0, 0, 1, 2))
	b.Store(y.Tile(0, 0, 1, 2), tile)
	p, _ := b.Program()
	in := []float32{1.0625, 1000}
	out, err := Exec(p, Trn2(), map[string][]float32{"X": in})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "Y", out["Y"], []float32{1, 448})
	expect(t, "caller's input", in, []float32{1.0625, 1000}) // not modified
}

// TestExecRefusesBadOperands checks the operand guards Exec applies itself
// (Validate may reject the same programs earlier with its own rules).
func TestExecRefusesBadOperands(t *testing.T) {
	a := Trn2()
	sb := func(parts, off int, dt DType, n int) AP {
		return AP{Mem: SBUF, DType: dt, Parts: int32(parts), Offset: off, NFree: 1, Free: [MaxFreeDims]Dim{{Stride: 1, Count: int32(n)}}}
	}
	hbm := AP{Mem: HBM, DType: BF16, Tensor: 0, Parts: 2, PStride: 3, NFree: 1, Free: [MaxFreeDims]Dim{{Stride: 1, Count: 3}}}
	tensors := []TensorDecl{{Name: "X", Kind: Input, DType: FP32, Shape: []int{2, 3}}}
	for _, tc := range []struct {
		name string
		in   Instr
		msg  string
	}{
		{"shape mismatch", Instr{Op: OpTensorTensor, Dst: sb(2, 0, FP32, 3), Src: [3]AP{sb(2, 0, FP32, 3), sb(2, 64, FP32, 4)}},
			"source 1 is [2,4], destination [2,3]: shapes must match"},
		{"beyond SBUF", Instr{Op: OpMemset, Dst: sb(2, a.SBUFPartitionBytes-4, FP32, 2)},
			"outside the sbuf partition's 0..229375"},
		{"too many partitions", Instr{Op: OpMemset, Dst: AP{Mem: SBUF, Start: 64, Parts: 128, NFree: 1, Free: [MaxFreeDims]Dim{{1, 1}}}},
			"partitions 64..191 outside 0..127"},
		{"HBM dtype", Instr{Op: OpDMA, Dst: sb(2, 0, BF16, 3), Src: [3]AP{hbm}}, `reads tensor "X" as bf16, declared fp32`},
		{"missing source", Instr{Op: OpTensorCopy, Dst: sb(2, 0, FP32, 3)}, "source operand missing"},
		{"matmul shapes", Instr{Op: OpMatmul, Dst: AP{Mem: PSUM, Parts: 4, NFree: 1, Free: [MaxFreeDims]Dim{{1, 8}}},
			Src: [3]AP{sb(2, 0, BF16, 3), sb(2, 64, BF16, 8)}}, "destination is [4,8], stationary and moving give [3,8]"},
		{"reduce axes", Instr{Op: OpTensorReduce, ALU: [2]ALUOp{ALUAdd}, Axes: 2, Dst: sb(2, 0, FP32, 1), Src: [3]AP{sb(2, 64, FP32, 3)}},
			"reduces 2 axes of a source with 1 free dimensions"},
		{"zero count", Instr{Op: OpMemset, Dst: sb(2, 0, FP32, 0)}, "count must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Program{Name: "bad", Tensors: tensors, Instrs: []Instr{{Op: OpMemset, Dst: sb(1, 0, FP32, 1)}, tc.in}}
			p.Instrs[1].Site = -1
			_, err := newMachine(p, a)
			var ee *ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("newMachine error = %v, want an *ExecError", err)
			}
			if ee.Index != 1 || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "instruction 1") {
				t.Errorf("error %q, want instruction 1 and %q", err, tc.msg)
			}
		})
	}
}

// TestExecStorageSizedByUse: SBUF and PSUM are as large as the bytes the
// program touches, not the architecture's capacity.
func TestExecStorageSizedByUse(t *testing.T) {
	b := NewBuilder(Trn2(), "small")
	y := b.Output("Y", FP32, 128, 256)
	tile := b.SBUFPool("p", 1, 1024).Tile(FP32, 128, 256)
	b.Memset(Vector, tile, 1)
	b.Store(y.Tile(0, 0, 128, 256), tile)
	p, _ := b.Program()
	m, err := newMachine(p, Trn2())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.sbuf.data) != 128*1024 || len(m.psum.data) != 0 {
		t.Errorf("SBUF %d bytes, PSUM %d bytes; want %d and 0", len(m.sbuf.data), len(m.psum.data), 128*1024)
	}
}

// naiveGemm is the definition: each element summed in increasing k.
func naiveGemm(a, b []float32, M, N, K int) []float32 {
	c := make([]float32, M*N)
	for i := range M {
		for j := range N {
			var s float32
			for k := range K {
				s += float32(a[k*M+i] * b[k*N+j])
			}
			c[i*N+j] = s
		}
	}
	return c
}

func randFloats(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// TestGemmBitIdentical: the blocked, parallel kernel gives the same bits
// as the definition for ragged shapes and any number of workers.
func TestGemmBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {2, 4, 3}, {3, 5, 7}, {33, 65, 17}, {128, 512, 128}, {129, 515, 256}, {7, 1000, 5}}
	if testing.Short() {
		shapes = shapes[:5]
	}
	for _, s := range shapes {
		M, N, K := s[0], s[1], s[2]
		a, b := randFloats(rng, K*M), randFloats(rng, K*N)
		want := naiveGemm(a, b, M, N, K)
		for _, w := range []int{1, 2, 3, 8} {
			c := make([]float32, M*N)
			gemm(c, a, b, M, N, K, w)
			if !same(c, want) {
				t.Errorf("M=%d N=%d K=%d workers=%d: differs from the definition", M, N, K, w)
			}
			c = make([]float32, M*N)
			gemmBlockGo(c, a, b, M, N, K, 0, M, 0, N)
			if !same(c, want) {
				t.Errorf("M=%d N=%d K=%d: pure-Go kernel differs from the definition", M, N, K)
			}
		}
	}
}

// tiledMatmul builds the tiled C = ATᵀ·B program (128×128×512 tiles) the
// matmul kernel uses, for tests and benchmarks.
func tiledMatmul(tb testing.TB, arch Arch, dt DType, M, N, K int) *Program {
	tb.Helper()
	out := dt
	if dt.IsFP8() {
		out = BF16
	}
	b := NewBuilder(arch, "matmul")
	at, bm := b.Input("AT", dt, K, M), b.Input("B", dt, K, N)
	c := b.Output("C", out, M, N)
	const tk, tm, tn = 128, 128, 512
	lhs := b.SBUFPool("lhsT", 2, tm*dt.Size())
	rhs := b.SBUFPool("rhs", 2, tn*dt.Size())
	res := b.SBUFPool("out", 2, tn*out.Size())
	acc := b.PSUMPool("acc", 2, tn*4)
	for m0 := 0; m0 < M; m0 += tm {
		mt := min(tm, M-m0)
		for n0 := 0; n0 < N; n0 += tn {
			nt := min(tn, N-n0)
			ps := acc.Tile(FP32, mt, nt)
			for k0 := 0; k0 < K; k0 += tk {
				kt := min(tk, K-k0)
				a := lhs.Tile(dt, kt, mt)
				b.Load(a, at.Tile(k0, m0, kt, mt))
				r := rhs.Tile(dt, kt, nt)
				b.Load(r, bm.Tile(k0, n0, kt, nt))
				b.Matmul(ps, a, r, k0 > 0)
			}
			o := res.Tile(out, mt, nt)
			b.TensorCopy(Vector, o, ps)
			b.Store(c.Tile(m0, n0, mt, nt), o)
		}
	}
	p, err := b.Program()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func matmulInputs(rng *rand.Rand, dt DType, M, N, K int) map[string][]float32 {
	at, b := make([]float32, K*M), make([]float32, K*N)
	for _, x := range [][]float32{at, b} {
		for i := range x {
			x[i] = dt.Round(float32(rng.Float64()*2 - 1))
		}
	}
	return map[string][]float32{"AT": at, "B": b}
}

// TestExecMatmulProgram runs a tiled matmul with ragged edges and checks it
// bit for bit against the definition: per 128-row K tile, a fp32 sum in
// increasing k, added to the running PSUM value, rounded once to C's dtype.
func TestExecMatmulProgram(t *testing.T) {
	const M, N, K = 130, 520, 300
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dt := range []DType{FP32, BF16, FP8E4M3} {
		t.Run(dt.String(), func(t *testing.T) {
			in := matmulInputs(rng, dt, M, N, K)
			out, err := Exec(tiledMatmul(t, Trn2(), dt, M, N, K), Trn2(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, M*N)
			for k0 := 0; k0 < K; k0 += 128 {
				kt := min(128, K-k0)
				part := naiveGemm(in["AT"][k0*M:(k0+kt)*M], in["B"][k0*N:(k0+kt)*N], M, N, kt)
				for i := range want {
					want[i] += part[i]
				}
			}
			cdt := dt
			if dt.IsFP8() {
				cdt = BF16
			}
			for i := range want {
				want[i] = cdt.Round(want[i])
			}
			if !same(out["C"], want) {
				t.Errorf("C differs from the definition")
			}
			again, _ := Exec(tiledMatmul(t, Trn2(), dt, M, N, K), Trn2(), in)
			if !same(again["C"], out["C"]) {
				t.Errorf("a second run gave different bits")
			}
		})
	}
}

func TestRowsIndependent(t *testing.T) {
	sb := func(start, parts, off, n int) AP {
		return AP{Mem: SBUF, DType: FP32, Start: int32(start), Parts: int32(parts), Offset: off, NFree: 1, Free: [MaxFreeDims]Dim{{Stride: 1, Count: int32(n)}}}
	}
	hbm := func(tensor, off, pstride, n int) AP {
		return AP{Mem: HBM, DType: FP32, Tensor: int32(tensor), Offset: off, Parts: 4, PStride: pstride, NFree: 1, Free: [MaxFreeDims]Dim{{Stride: 1, Count: int32(n)}}}
	}
	for _, tc := range []struct {
		name string
		dst  AP
		srcs []AP
		want bool
	}{
		{"in place", sb(0, 64, 0, 8), []AP{sb(0, 64, 0, 8)}, true},
		{"same partitions, other bytes", sb(0, 64, 0, 8), []AP{sb(0, 64, 16, 8)}, true},
		{"disjoint partitions", sb(64, 64, 0, 8), []AP{sb(0, 64, 0, 8)}, true},
		{"shifted partitions, same bytes", sb(32, 64, 0, 8), []AP{sb(0, 64, 0, 8)}, false},
		{"shifted partitions, other bytes", sb(32, 64, 0, 8), []AP{sb(0, 64, 32, 8)}, true},
		{"PSUM against SBUF", AP{Mem: PSUM, Start: 32, Parts: 8, NFree: 1, Free: [MaxFreeDims]Dim{{1, 8}}}, []AP{sb(0, 64, 0, 8)}, true},
		{"HBM rows apart", hbm(0, 0, 8, 8), []AP{sb(0, 4, 0, 8)}, true},
		{"HBM rows overlap", hbm(0, 0, 4, 8), nil, false},
		{"HBM source in the destination tensor", hbm(0, 0, 8, 8), []AP{hbm(0, 8, 8, 8)}, false},
		{"HBM source in another tensor", hbm(0, 0, 8, 8), []AP{hbm(1, 0, 8, 8)}, true},
		{"unused source", sb(0, 64, 0, 8), []AP{{}}, true},
	} {
		if got := rowsIndependent(tc.dst, tc.srcs...); got != tc.want {
			t.Errorf("%s: rowsIndependent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestExecSameBitsAnyGOMAXPROCS: splitting rows and blocks across
// goroutines never changes a bit.
func TestExecSameBitsAnyGOMAXPROCS(t *testing.T) {
	const rows, cols = 128, 384 // 48K elements: above parallelMin
	rng := rand.New(rand.NewPCG(7, 8))
	x := randFloats(rng, rows*cols)
	build := func(b *Builder) {
		xt, y := b.Input("X", FP32, rows, cols), b.Output("Y", BF16, rows, cols)
		s := b.Output("S", FP32, rows, 1)
		pool := b.SBUFPool("p", 2, cols*4)
		tile, out := pool.Tile(FP32, rows, cols), pool.Tile(BF16, rows, cols)
		sum := b.SBUFPool("s", 1, 4).Tile(FP32, rows, 1)
		b.Load(tile, xt.Tile(0, 0, rows, cols))
		b.ActivationWith(tile, tile, ActExp, ActArgs{Scale: 0.5, Reduce: sum})
		b.TensorScalar(Vector, out, tile, ALUMul, PerPartition(sum), ALUAdd, Imm(1))
		b.Store(y.Tile(0, 0, rows, cols), out)
		b.Store(s.Tile(0, 0, rows, 1), sum)
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	want := run(t, Trn2(), map[string][]float32{"X": x}, build)
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		got := run(t, Trn2(), map[string][]float32{"X": x}, build)
		for _, name := range []string{"Y", "S"} {
			if !same(got[name], want[name]) {
				t.Errorf("GOMAXPROCS=%d: %s differs from the serial run", procs, name)
			}
		}
	}
}

// fuzzProgram decodes bytes into a program of a few instructions with
// operands drawn from small ranges around every limit newMachine checks
// (invalid memories, dtypes and opcodes included), over two HBM tensors.
func fuzzProgram(data []byte) *Program {
	next := func(n int) int {
		if len(data) == 0 {
			return 0
		}
		v := int(data[0]) % n
		data = data[1:]
		return v
	}
	// pick returns the first (ordinary) value three times in four, else
	// any of them, so that many programs pass the checks and run.
	pick := func(vals ...int) int {
		if next(4) > 0 {
			return vals[0]
		}
		return vals[next(len(vals))]
	}
	ap := func() AP {
		a := AP{
			Mem:     Memory(pick(int(SBUF), int(PSUM), int(HBM), int(MemNone))),
			DType:   DType(pick(int(FP32), int(BF16), int(FP8E4M3), int(FP16), int(FP8E5M2), int(Int32), int(numDTypes))),
			Tensor:  int32(pick(0, 1, -1, 2)),
			Offset:  pick(0, 4, 64, -4, 2040, 229372, 1<<30),
			Start:   int32(pick(0, 32, 64, 96, 127, -1)),
			Parts:   int32(pick(1, 2, 3, 32, 64, 128, 0, 129)),
			PStride: pick(0, 1, 3, 8, -3),
			NFree:   uint8(pick(1, 2, 0, 3, 4, 5)),
		}
		for k := 0; k < int(min(a.NFree, MaxFreeDims)); k++ {
			a.Free[k] = Dim{Stride: int32(pick(1, 2, 0, -1, 3, 8)), Count: int32(pick(1, 2, 3, 4, 8, 0, -1))}
		}
		return a
	}
	p := &Program{Name: "random", Tensors: []TensorDecl{
		{Name: "X", Kind: Input, DType: FP32, Shape: []int{8, 8}},
		{Name: "Y", Kind: Output, DType: BF16, Shape: []int{4, 16}},
	}}
	for n := 1 + next(3); n > 0; n-- {
		in := Instr{Op: Opcode(next(int(NumOpcodes) + 1)), Dst: ap(), Site: -1}
		in.Src[0] = ap()
		for k := 1; k < len(in.Src); k++ {
			if next(3) == 0 {
				in.Src[k] = ap()
			}
		}
		if next(3) == 0 {
			in.Red = ap()
		}
		in.Act = ActFunc(next(int(NumActFuncs) + 1))
		in.ALU = [2]ALUOp{ALUOp(next(int(NumALUOps) + 1)), ALUOp(next(int(NumALUOps) + 1))}
		in.Axes = uint8(next(6))
		in.DoubleRow = next(2) == 1
		in.Accumulate = next(2) == 1
		in.Affine = Affine{Base: pick(0, -3, 5), PMul: pick(0, 1, -1), FMul: [MaxFreeDims]int{pick(0, 1, -1)}, Cmp: CmpOp(next(int(NumCmpOps) + 1))}
		in.Imm = [2]float32{float32(pick(0, 1, -2)), float32(pick(0, 3))}
		p.Instrs = append(p.Instrs, in)
	}
	return p
}

// execGuarded runs p past Validate: whatever newMachine accepts must
// execute without panicking.
func execGuarded(t *testing.T, p *Program) {
	m, err := newMachine(p, Trn2())
	if err != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic on a program newMachine accepted: %v\n%+v", r, p.Instrs)
		}
	}()
	for i := range p.Instrs {
		m.exec(&p.Instrs[i])
	}
}

// TestExecGuardsRandomPrograms: a seeded sample of random programs;
// FuzzExecGuards explores further.
func TestExecGuardsRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	accepted := 0
	for range n {
		data := make([]byte, 200)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		p := fuzzProgram(data)
		if _, err := newMachine(p, Trn2()); err == nil {
			accepted++
		}
		execGuarded(t, p)
	}
	t.Logf("%d of %d random programs passed newMachine and ran", accepted, n)
	if accepted == 0 {
		t.Errorf("no random program passed newMachine: the sample tests nothing")
	}
}

func FuzzExecGuards(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) { execGuarded(t, fuzzProgram(data)) })
}
