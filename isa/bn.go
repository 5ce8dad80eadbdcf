package isa

// Batch-normalisation statistics on VectorE: bn_stats and bn_aggr
// (docs/hardware.md A §2.2 "bn_stats / bn_aggr | Vector | mean/var stats
// (F ≤ 512 per bn_stats)"; A §1.4 "bn_stats ≤ 512").
//
// bn_stats reads a [P,F] tile, F ≤ BNStatsFMax, and writes BNStatsWidth
// values per partition: the count, mean and count·variance (the sum of
// squared deviations, M2) of the elements at even free positions, then
// the same three of the elements at odd positions. bn_aggr reads k such
// triples per partition, [P,3k] (the outputs of k bn_stats side by side,
// the layout NKI's layernorm tutorial writes), and writes BNAggrWidth
// values: the mean and the population variance (M2/count) of all the
// elements the triples describe. Both work in fp32, as every Vector
// arithmetic does (A §2.2 Data types), and round only on the write to the
// destination dtype.
//
// The even/odd split and the count·variance encoding follow NKI's
// nki.isa.bn_stats / bn_aggr documentation, whose cost rule (A §3.2
// bn_aggr max(MIN_II, 13·(N/3))) also counts the input in triples. How
// the hardware accumulates within one bn_stats is not published; Exec
// uses Welford's one-pass update in fp32 (one read of the input, as the
// cost rule max(MIN_II, N) implies) [I], and bn_aggr combines the triples
// with Chan et al.'s pairwise formula, skipping triples of count 0.

// BNStatsFMax is the largest free size of one bn_stats input
// (docs/hardware.md A §1.4: bn_stats ≤ 512; nl.tile_size.bn_stats_fmax).
const BNStatsFMax = 512

// BNStatsWidth is the number of values bn_stats writes per partition: two
// (count, mean, count·variance) triples.
const BNStatsWidth = 6

// BNAggrWidth is the number of values bn_aggr writes per partition: mean
// and variance.
const BNAggrWidth = 2

// checkBN checks the shapes of bn_stats and bn_aggr (rule bn-shape).
func (c *instrChecker) checkBN() *ValidationError {
	in, src, d := c.in, &c.in.Src[0], &c.in.Dst
	n := satFree(src)
	if d.Parts != src.Parts {
		return c.fail(ruleBNShape, "dst covers %d partitions, src %d; %s works per partition", d.Parts, src.Parts, in.Op)
	}
	if in.Op == OpBNStats {
		if n > BNStatsFMax {
			return c.fail(ruleBNShape, "src has %d free elements; bn_stats reads at most %d (split the row and combine with bn_aggr)", n, BNStatsFMax)
		}
		if satFree(d) != BNStatsWidth {
			return c.fail(ruleBNShape, "dst has %d free elements; bn_stats writes %d (count, mean, count·var of the even and the odd elements)", satFree(d), BNStatsWidth)
		}
		return nil
	}
	if n%3 != 0 {
		return c.fail(ruleBNShape, "src has %d free elements; bn_aggr reads (count, mean, count·var) triples, a multiple of 3", n)
	}
	if satFree(d) != BNAggrWidth {
		return c.fail(ruleBNShape, "dst has %d free elements; bn_aggr writes %d (mean, var)", satFree(d), BNAggrWidth)
	}
	return nil
}

// bnShape is checkBN for Exec's own operand checks.
func (m *machine) bnShape(i int, in *Instr) error {
	src := in.Src[0]
	if err := m.need(i, "source", src); err != nil {
		return err
	}
	if in.Dst.Parts != src.Parts {
		return m.errAt(i, "destination covers %d partitions, source %d: they must match", in.Dst.Parts, src.Parts)
	}
	n, w := src.FreeElems(), in.Dst.FreeElems()
	if in.Op == OpBNStats && (n > BNStatsFMax || w != BNStatsWidth) {
		return m.errAt(i, "bn_stats of [%d,%d] into [%d,%d]: want a source of at most %d and a destination of %d free elements", src.Parts, n, in.Dst.Parts, w, BNStatsFMax, BNStatsWidth)
	}
	if in.Op == OpBNAggr && (n%3 != 0 || w != BNAggrWidth) {
		return m.errAt(i, "bn_aggr of [%d,%d] into [%d,%d]: want a source of whole triples and a destination of %d free elements", src.Parts, n, in.Dst.Parts, w, BNAggrWidth)
	}
	return nil
}

func (m *machine) bnStats(in *Instr) {
	src := &in.Src[0]
	n := src.FreeElems()
	m.parallel(int(src.Parts), src.Elems(), rowsIndependent(in.Dst, *src), func(w, lo, hi int) {
		x, out := m.work[w].row[0][:n], m.work[w].row[1][:BNStatsWidth]
		for p := lo; p < hi; p++ {
			m.load(src, p, x)
			bnStatsRow(x, out)
			m.store(&in.Dst, p, out)
		}
	})
}

// bnStatsRow writes the (count, mean, M2) triples of x's even and odd
// elements into out[0:3] and out[3:6], by Welford's update in fp32.
func bnStatsRow(x, out []float32) {
	for par := range 2 {
		var cnt, mean, m2 float32
		for i := par; i < len(x); i += 2 {
			cnt++
			d := x[i] - mean
			mean += d / cnt
			m2 += d * (x[i] - mean)
		}
		out[3*par], out[3*par+1], out[3*par+2] = cnt, mean, m2
	}
}

func (m *machine) bnAggr(in *Instr) {
	src := &in.Src[0]
	n := src.FreeElems()
	m.parallel(int(src.Parts), src.Elems(), rowsIndependent(in.Dst, *src), func(w, lo, hi int) {
		x, out := m.work[w].row[0][:n], m.work[w].row[1][:BNAggrWidth]
		for p := lo; p < hi; p++ {
			m.load(src, p, x)
			out[0], out[1] = bnAggrRow(x)
			m.store(&in.Dst, p, out)
		}
	})
}

// bnAggrRow combines (count, mean, M2) triples into the mean and the
// population variance, in fp32 (Chan et al.'s pairwise update). Triples
// of count ≤ 0 add nothing; with no elements at all the result is
// (0, 0).
func bnAggrRow(t []float32) (mean, variance float32) {
	var cnt, m2 float32
	for k := 0; k+2 < len(t); k += 3 {
		nb, mb, m2b := t[k], t[k+1], t[k+2]
		if !(nb > 0) {
			continue
		}
		tot := cnt + nb
		d := mb - mean
		mean += d * (nb / tot)
		m2 += m2b + d*d*(cnt*nb/tot)
		cnt = tot
	}
	if cnt == 0 {
		return 0, 0
	}
	return mean, m2 / cnt
}
