package kernels

import "github.com/trnsim/trnsim/isa"

// carvedPool hands out small PSUM tiles carved from bank-sized slots of
// a pool, so tiles much smaller than a bank do not each hold a whole bank
// (PSUMPool rounds slots to banks). Every piece starts at a multiple of its
// size within the bank, so a matmul into it never crosses a bank.
type carvedPool struct {
	pool      *isa.Pool
	per, k    int
	pieceSize int
	cur       isa.AP
}

func newCarved(p *isa.Pool, pieceBytes int) *carvedPool {
	return &carvedPool{pool: p, per: max(1, p.SlotBytes/pieceBytes), pieceSize: pieceBytes}
}

// tile returns the next [parts, free] piece of dtype dt (4-byte dtypes).
func (c *carvedPool) tile(dt isa.DType, parts, free int) isa.AP {
	if c.k%c.per == 0 {
		c.cur = c.pool.Tile(isa.FP32, lanes, c.per*c.pieceSize/4)
	}
	t := view(c.cur.Rows(0, parts), (c.k%c.per)*c.pieceSize, isa.Dim{Stride: 1, Count: isa.Narrow(free)})
	t.DType = dt
	c.k++
	return t
}

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
