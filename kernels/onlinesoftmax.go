package kernels

import "github.com/trnsim/trnsim/isa"

// The stages of the online softmax that attention (attnItem) and decode
// attention (decodeItem) share, written once. A query tile keeps a ring
// of three −scale·max columns (the current one, the previous one, and one
// a pipelined later tile may already be writing) and a row sum l; each KV
// tile computes S = QᵀK, its row max, and then:
//
//	stage 2  nb_new = min(−scale·rowmax, nb_old)          (VectorE)
//	stage 3  α = exp(nb_new − nb_old); P = exp(scale·S + nb_new), Σ_row P  (ScalarE)
//	stage 4  Pᵀ by TensorE transposes, 128 keys at a time
//	stage 7  O ← O·α + PV, l ← l·α + Σ_row P                (GpSimdE, VectorE)
//
// On the first KV tile there is no old maximum: nb_new is the tile's, α
// is not computed and O, l are set rather than rescaled.

// tileStats are the columns of a KV tile's [rows, 3] fp32 statistics
// tile: −rowmax (nr), α and the row sum (rs). They are cut once, in place
// (see window), when the tile is allocated, and read by later stages.
type tileStats struct{ nr, alpha, rs isa.AP }

// cut sets the columns from the statistics tile its.
func (t *tileStats) cut(its *isa.AP) {
	rows := int(its.Parts)
	window(&t.nr, its, 0, rows, 0, 1)
	window(&t.alpha, its, 0, rows, 1, 1)
	window(&t.rs, its, 0, rows, 2, 1)
}

// onlineMax emits stage 2: the new running −scale·max from the tile's
// −rowmax nr, in the ring st (columns 0..2) at position *n, which it
// advances. It returns the previous and the new column.
func onlineMax(b *isa.Builder, st isa.AP, n *int, nr isa.AP, scale float32, first bool) (nbOld, nbNew isa.AP) {
	nbOld = st.Col((*n + 2) % 3)
	nbNew = st.Col(*n % 3)
	*n++
	if first {
		b.TensorScalar(isa.Vector, nbNew, nr, isa.ALUMul, isa.Imm(scale), isa.ALUBypass, isa.Imm(0))
	} else {
		b.TensorScalar(isa.Vector, nbNew, nr, isa.ALUMul, isa.Imm(scale), isa.ALUMin, isa.PerPartition(nbOld))
	}
	return nbOld, nbNew
}

// onlineAlpha emits the first half of stage 3: α = exp(nb_new − nb_old)
// into ts.alpha (nothing on the first tile).
func onlineAlpha(b *isa.Builder, ts *tileStats, nbOld, nbNew isa.AP, first bool) {
	if !first {
		b.ActivationWith(ts.alpha, nbOld, isa.ActExp, isa.ActArgs{Scale: -1, BiasAP: nbNew})
	}
}

// onlineExp emits the second half of stage 3: P = exp(scale·S + nb_new)
// into p, with its row sum into ts.rs.
func onlineExp(b *isa.Builder, p, s isa.AP, ts *tileStats, nbNew isa.AP, scale float32) {
	b.ActivationWith(p, s, isa.ActExp, isa.ActArgs{Scale: scale, BiasAP: nbNew, Reduce: ts.rs})
}

// onlineTranspose emits stage 4: Pᵀ of the [rows, keys] tile p into tp,
// key chunk c (128 keys) at columns [c·rows, (c+1)·rows).
func onlineTranspose(b *isa.Builder, tp, p isa.AP, keys, rows int) {
	var dst, src isa.AP // cut in place: see window
	for c := range (keys + lanes - 1) / lanes {
		kc := min(lanes, keys-c*lanes)
		window(&dst, &tp, 0, kc, c*rows, rows)
		window(&src, &p, 0, int(p.Parts), c*lanes, kc)
		b.Transpose(dst, src)
	}
}

// onlineUpdate emits stage 7's accumulation: O ← O·α + PV and
// l ← l·α + Σ_row P (α and the row sum in ts), or, on the first tile,
// O = PV and l = Σ_row P.
func onlineUpdate(b *isa.Builder, o, l, pv isa.AP, ts *tileStats, first bool) {
	alpha, rs := ts.alpha, ts.rs
	if first {
		b.TensorCopy(isa.Vector, o, pv)
		b.TensorCopy(isa.GpSimd, l, rs)
		return
	}
	b.TensorScalar(isa.GpSimd, o, o, isa.ALUMul, isa.PerPartition(alpha), isa.ALUBypass, isa.Imm(0))
	b.TensorScalar(isa.GpSimd, l, l, isa.ALUMul, isa.PerPartition(alpha), isa.ALUAdd, isa.PerPartition(rs))
	b.TensorTensor(o, o, pv, isa.ALUAdd)
}
