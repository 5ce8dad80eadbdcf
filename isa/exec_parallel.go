package isa

import "sync"

// Row parallelism. Most instructions compute each destination row
// (partition) from the same row of their sources, so rows can run on
// separate goroutines without changing a bit: every element is computed by
// exactly the same operations in the same order, whichever goroutine runs
// it. Instructions whose rows could interfere (a destination row that
// overlaps another row of a source or of the destination) run serially, in
// increasing row order, as documented in exec.go.

// parallelMin is the number of elements an instruction must touch before
// its rows are split across goroutines; below it the goroutine start-up
// costs more than it saves.
const parallelMin = 1 << 15

// scratch is one worker's row buffers.
type scratch struct {
	row [3][]float32
	idx []int
}

// parallel runs f over rows [0,n) split into contiguous chunks, one per
// worker w (which owns m.work[w]), when safe and work (elements touched) is
// large enough; otherwise f(0, 0, n) runs on the calling goroutine.
func (m *machine) parallel(n, work int, safe bool, f func(w, lo, hi int)) {
	workers := min(len(m.work), n)
	if !safe || workers <= 1 || work < parallelMin {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { f(w, lo, hi) })
	}
	wg.Wait()
}

// rowsIndependent reports whether the rows of dst may be written
// concurrently while srcs are read: no two rows of dst overlap, and no
// source overlaps dst except row for row (SBUF/PSUM patterns that start at
// the same partition, so row p of each is the same partition).
func rowsIndependent(dst AP, srcs ...AP) bool {
	if dst.Mem == HBM && dst.Parts > 1 {
		r := dst
		r.Parts = 1
		lo, hi := r.Span()
		if dst.PStride > -(hi-lo) && dst.PStride < hi-lo {
			return false
		}
	}
	for _, s := range srcs {
		if !s.Used() || !overlaps(dst, s) {
			continue
		}
		if dst.Mem != HBM && s.Start == dst.Start {
			continue
		}
		return false
	}
	return true
}

// overlaps reports whether two patterns may touch a common byte (SBUF,
// PSUM) or element (HBM): same memory (same tensor), intersecting
// partition ranges and intersecting spans.
func overlaps(a, b AP) bool {
	if a.Mem != b.Mem {
		return false
	}
	if a.Mem == HBM {
		if a.Tensor != b.Tensor {
			return false
		}
	} else if a.Start+a.Parts <= b.Start || b.Start+b.Parts <= a.Start {
		return false
	}
	alo, ahi := a.Span()
	blo, bhi := b.Span()
	return alo < bhi && blo < ahi
}
