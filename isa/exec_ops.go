package isa

import "math"

// Semantics of the Vector, Scalar and GpSimd instructions. Each works on
// one partition row at a time in fp32 and chooses its operation outside the
// element loop.

func (m *machine) activation(in *Instr) {
	n := in.Dst.FreeElems()
	safe := rowsIndependent(in.Dst, in.Src[0], in.Src[1], in.Src[2], in.Red) && rowsIndependent(in.Red, in.Src[0], in.Src[1], in.Src[2])
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), safe, func(w, lo, hi int) { m.activationRows(in, m.work[w].row[0][:n], lo, hi) })
}

func (m *machine) activationRows(in *Instr, x []float32, lo, hi int) {
	scale, bias := in.Imm[0], in.Imm[1]
	for p := lo; p < hi; p++ {
		m.load(&in.Src[0], p, x)
		if in.Src[2].Used() {
			scale = m.loadScalar(&in.Src[2], p)
		}
		if in.Src[1].Used() {
			bias = m.loadScalar(&in.Src[1], p)
		}
		if scale != 1 || bias != 0 {
			for i, v := range x {
				x[i] = float32(v*scale) + bias // two fp32 roundings, never fused
			}
		}
		applyAct(in.Act, x)
		if in.Red.Used() {
			// The ScalarE accumulator adds the fp32 function values, before
			// the output is rounded to the destination dtype.
			var s float32
			for _, v := range x {
				s += v
			}
			m.store(&in.Red, p, []float32{s})
		}
		m.store(&in.Dst, p, x)
	}
}

// applyAct replaces every x[i] with f(x[i]), computed in float64 and rounded
// to fp32.
func applyAct(f ActFunc, x []float32) {
	switch f {
	case ActCopy:
	case ActExp:
		for i, v := range x {
			x[i] = float32(math.Exp(float64(v)))
		}
	case ActTanh:
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
	case ActGelu:
		// The tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
		const c = 0.7978845608028654 // √(2/π)
		for i, v := range x {
			u := float64(v)
			x[i] = float32(0.5 * u * (1 + math.Tanh(c*(u+0.044715*u*u*u))))
		}
	case ActSilu:
		for i, v := range x {
			u := float64(v)
			x[i] = float32(u / (1 + math.Exp(-u)))
		}
	case ActSigmoid:
		for i, v := range x {
			x[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case ActRelu:
		for i, v := range x {
			if v <= 0 { // NaN passes through
				x[i] = 0
			}
		}
	case ActRsqrt:
		for i, v := range x {
			x[i] = float32(1 / math.Sqrt(float64(v)))
		}
	case ActReciprocal:
		for i, v := range x {
			x[i] = 1 / v
		}
	case ActSquare:
		for i, v := range x {
			x[i] = v * v
		}
	}
}

func (m *machine) tensorTensor(in *Instr) {
	n := in.Dst.FreeElems()
	safe := rowsIndependent(in.Dst, in.Src[0], in.Src[1])
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), safe, func(w, lo, hi int) {
		a, b := m.work[w].row[0][:n], m.work[w].row[1][:n]
		for p := lo; p < hi; p++ {
			m.load(&in.Src[0], p, a)
			m.load(&in.Src[1], p, b)
			aluVec(in.ALU[0], a, b)
			m.store(&in.Dst, p, a)
		}
	})
}

func (m *machine) tensorScalar(in *Instr) {
	n := in.Dst.FreeElems()
	safe := rowsIndependent(in.Dst, in.Src[0], in.Src[1], in.Src[2])
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), safe, func(w, lo, hi int) {
		x := m.work[w].row[0][:n]
		a, b := in.Imm[0], in.Imm[1]
		for p := lo; p < hi; p++ {
			m.load(&in.Src[0], p, x)
			if in.Src[1].Used() {
				a = m.loadScalar(&in.Src[1], p)
			}
			if in.Src[2].Used() {
				b = m.loadScalar(&in.Src[2], p)
			}
			aluScalar(in.ALU[0], x, a)
			aluScalar(in.ALU[1], x, b)
			m.store(&in.Dst, p, x)
		}
	})
}

// alu is one ALU operation on fp32 operands (docs/hardware.md A §2.2 "ALU
// ops"); comparisons give 1 or 0.
func alu(op ALUOp, a, b float32) float32 {
	switch op {
	case ALUAdd:
		return a + b
	case ALUSub:
		return a - b
	case ALUMul:
		return a * b
	case ALUMax:
		return max(a, b)
	case ALUMin:
		return min(a, b)
	case ALUDiv:
		return a / b
	case ALUPow:
		return float32(math.Pow(float64(a), float64(b)))
	case ALUIsGE:
		if a >= b {
			return 1
		}
		return 0
	case ALUIsEq:
		if a == b {
			return 1
		}
		return 0
	}
	return a // bypass
}

// aluVec sets a[i] = a[i] op b[i]; the common operations have their own
// loops.
func aluVec(op ALUOp, a, b []float32) {
	b = b[:len(a)]
	switch op {
	case ALUBypass:
	case ALUAdd:
		for i := range a {
			a[i] += b[i]
		}
	case ALUSub:
		for i := range a {
			a[i] -= b[i]
		}
	case ALUMul:
		for i := range a {
			a[i] *= b[i]
		}
	case ALUMax:
		for i := range a {
			a[i] = max(a[i], b[i])
		}
	default:
		for i := range a {
			a[i] = alu(op, a[i], b[i])
		}
	}
}

// aluScalar sets x[i] = x[i] op s.
func aluScalar(op ALUOp, x []float32, s float32) {
	switch op {
	case ALUBypass:
	case ALUAdd:
		for i := range x {
			x[i] += s
		}
	case ALUSub:
		for i := range x {
			x[i] -= s
		}
	case ALUMul:
		for i := range x {
			x[i] *= s
		}
	default:
		for i := range x {
			x[i] = alu(op, x[i], s)
		}
	}
}

// tensorReduce reduces the last Axes free dimensions: each source row is
// [outer][inner] in row-major order and each output element folds one inner
// run from left to right in fp32.
func (m *machine) tensorReduce(in *Instr) {
	src := &in.Src[0]
	n := src.FreeElems()
	outer := in.Dst.FreeElems()
	m.parallel(int(src.Parts), src.Elems(), rowsIndependent(in.Dst, *src), func(w, lo, hi int) {
		m.reduceRows(in, m.work[w].row[0][:n], m.work[w].row[1][:outer], lo, hi)
	})
}

func (m *machine) reduceRows(in *Instr, x, out []float32, lo, hi int) {
	src := &in.Src[0]
	inner := len(x) / len(out)
	for p := lo; p < hi; p++ {
		m.load(src, p, x)
		for o := range out {
			run := x[o*inner : (o+1)*inner]
			var acc float32
			if in.ALU[0] == ALUMax {
				acc = float32(math.Inf(-1))
				for _, v := range run {
					acc = max(acc, v)
				}
			} else {
				for _, v := range run {
					acc += v
				}
			}
			if in.Negate {
				acc = -acc
			}
			out[o] = acc
		}
		m.store(&in.Dst, p, out)
	}
}

func (m *machine) memset(in *Instr) {
	x := m.work[0].row[0][:in.Dst.FreeElems()]
	for i := range x {
		x[i] = in.Imm[0]
	}
	// Every worker stores the same row buffer, which none writes.
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), rowsIndependent(in.Dst), func(w, lo, hi int) {
		for p := lo; p < hi; p++ {
			m.store(&in.Dst, p, x)
		}
	})
}

// affineRow writes into v the Affine value at every free index of row p of
// dst, in row-major order: Base + PMul·p + Σ FMul[k]·i_k, where k counts
// dst's free dimensions from the outermost.
func affineRow(aff *Affine, dst *AP, p int, v []int) {
	c, _ := dims4(dst)
	pad := MaxFreeDims - int(dst.NFree)
	var mul [MaxFreeDims]int
	for k := 0; k < int(dst.NFree); k++ {
		mul[pad+k] = aff.FMul[k]
	}
	j := 0
	for i0 := 0; i0 < c[0]; i0++ {
		for i1 := 0; i1 < c[1]; i1++ {
			for i2 := 0; i2 < c[2]; i2++ {
				base := aff.Base + aff.PMul*p + mul[0]*i0 + mul[1]*i1 + mul[2]*i2
				for i3 := 0; i3 < c[3]; i3++ {
					v[j] = base + mul[3]*i3
					j++
				}
			}
		}
	}
}

func (m *machine) iota(in *Instr) {
	n := in.Dst.FreeElems()
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), rowsIndependent(in.Dst), func(w, lo, hi int) {
		x, v := m.work[w].row[0][:n], m.work[w].ints(n)
		for p := lo; p < hi; p++ {
			affineRow(&in.Affine, &in.Dst, p, v)
			for i, a := range v {
				x[i] = float32(a)
			}
			m.store(&in.Dst, p, x)
		}
	})
}

func (m *machine) affineSelect(in *Instr) {
	n := in.Dst.FreeElems()
	m.parallel(int(in.Dst.Parts), in.Dst.Elems(), rowsIndependent(in.Dst, in.Src[0]), func(w, lo, hi int) {
		m.selectRows(in, m.work[w].row[0][:n], m.work[w].ints(n), lo, hi)
	})
}

func (m *machine) selectRows(in *Instr, x []float32, v []int, lo, hi int) {
	fill := in.Imm[0]
	for p := lo; p < hi; p++ {
		m.load(&in.Src[0], p, x)
		affineRow(&in.Affine, &in.Dst, p, v)
		switch in.Affine.Cmp {
		case CmpGE:
			for i, a := range v {
				if a < 0 {
					x[i] = fill
				}
			}
		case CmpGT:
			for i, a := range v {
				if a <= 0 {
					x[i] = fill
				}
			}
		case CmpEQ:
			for i, a := range v {
				if a != 0 {
					x[i] = fill
				}
			}
		}
		m.store(&in.Dst, p, x)
	}
}

// ints returns the worker's int buffer of length n.
func (s *scratch) ints(n int) []int {
	if cap(s.idx) < n {
		s.idx = make([]int, n)
	}
	return s.idx[:n]
}
