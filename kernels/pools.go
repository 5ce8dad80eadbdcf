package kernels

import "github.com/trnsim/trnsim/isa"

// slotRing follows which iteration last used each slot of a rotating pool
// whose tiles live across several iterations (a KV block, a Q block), so a
// slot is never handed out again while a pending stage still reads it: if
// it would be, the pipeline is flushed first. Only tiny shapes (fewer
// iterations per block than pipeline stages) ever flush.
type slotRing struct {
	last []int
	next int
}

func newSlotRing(bufs int) *slotRing {
	r := &slotRing{last: make([]int, bufs)}
	for i := range r.last {
		r.last[i] = -1
	}
	return r
}

// take claims the next slot (call it right before Pool.Tile) and returns
// its index.
func (r *slotRing) take(p *swPipe) int {
	s := r.next
	if r.last[s] >= 0 && p.pending(r.last[s]) {
		p.flush()
	}
	r.last[s] = -1
	r.next = (s + 1) % len(r.last)
	return s
}

// use records that iteration idx reads slot s.
func (r *slotRing) use(s, idx int) { r.last[s] = max(r.last[s], idx) }

// loopState is a key of what decides the ring's next take for
// isa.Builder.LoopWithState: for each slot from the next one on, whether
// its last user is still pending in p, and how many pushes ago it was
// (the slot numbers themselves are the pool's rotation, which the Builder
// relabels).
func (r *slotRing) loopState(p *swPipe) uint64 {
	v := make([]int, 0, 2*len(r.last))
	for k := range r.last {
		s := (r.next + k) % len(r.last)
		pend, ago := 0, -1
		if r.last[s] >= 0 {
			// A user pushed depth or more pushes ago has left the
			// pipeline for good: how long ago no longer matters.
			ago = min(p.nextIdx()-r.last[s], p.depth())
			if p.pending(r.last[s]) {
				pend = 1
			}
		}
		v = append(v, pend, ago)
	}
	return isa.LoopKey(v...)
}
