package isa

// BNStats appends bn_stats on VectorE: dst[P,6] = the (count, mean,
// count·variance) of src's even free elements, then of its odd ones;
// src has at most BNStatsFMax free elements (see bn.go).
func (b *Builder) BNStats(dst, src AP) {
	in := b.instr(OpBNStats, Vector)
	in.Dst, in.Src[0] = dst, src
	b.emit()
}

// BNAggr appends bn_aggr on VectorE: dst[P,2] = (mean, population
// variance) of the elements described by src's (count, mean,
// count·variance) triples, [P,3k] — k bn_stats outputs side by side.
func (b *Builder) BNAggr(dst, src AP) {
	in := b.instr(OpBNAggr, Vector)
	in.Dst, in.Src[0] = dst, src
	b.emit()
}
