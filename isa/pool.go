package isa

import "fmt"

// Pool is a region of SBUF or PSUM split into Bufs equal slots. Each Tile
// call returns the next slot in rotation, so with Bufs ≥ 2 the load of the
// next tile can overlap compute on this one.
type Pool struct {
	b         *Builder
	Name      string
	Mem       Memory
	Base      int // byte offset of slot 0 in each partition
	SlotBytes int // bytes per partition of one slot
	Bufs      int
	next      int
	made      []madeTile // per slot: the last tile Tile made there
}

// madeTile is a tile Tile made in a slot and what it was made from.
type madeTile struct {
	key tileKey
	ap  AP
}

// tileKey is what a tile depends on besides its slot: Tile's arguments.
// ok is false for a slot with no tile yet.
type tileKey struct {
	ok    bool
	dt    DType
	parts int
	nfree int
	free  [MaxFreeDims]int
}

func (k *tileKey) is(dt DType, parts int, free []int) bool {
	if !k.ok || k.dt != dt || k.parts != parts || k.nfree != len(free) {
		return false
	}
	for i, f := range free {
		if k.free[i] != f {
			return false
		}
	}
	return true
}

// SBUFPool reserves bufs slots of bytesPerPartition bytes in every SBUF
// partition.
func (b *Builder) SBUFPool(name string, bufs, bytesPerPartition int) *Pool {
	return b.pool(SBUF, name, bufs, bytesPerPartition)
}

// PSUMPool reserves bufs slots in PSUM, each rounded up to whole 2 KiB
// banks so an accumulation group never straddles a bank boundary.
func (b *Builder) PSUMPool(name string, bufs, bytesPerPartition int) *Pool {
	bank := b.arch.PSUMBankBytes
	if bank > 0 {
		bytesPerPartition = (bytesPerPartition + bank - 1) / bank * bank
	}
	return b.pool(PSUM, name, bufs, bytesPerPartition)
}

// PSUMPieces reserves banks whole PSUM banks cut into rotating slots of
// pieceBytes bytes per partition, pieceBytes dividing the bank size, so
// tiles much smaller than a bank do not each hold one and no tile
// straddles a bank boundary (a matmul's accumulation group stays in its
// bank). Slots rotate through the first bank's pieces, then the next
// bank's.
func (b *Builder) PSUMPieces(name string, banks, pieceBytes int) *Pool {
	bank := b.arch.PSUMBankBytes
	if pieceBytes <= 0 || bank <= 0 || bank%pieceBytes != 0 {
		b.Fail(fmt.Errorf("PSUM pool %q: pieces of %d bytes per partition must divide the %d-byte bank", name, pieceBytes, bank))
		return &Pool{b: b, Name: name, Mem: PSUM}
	}
	return b.pool(PSUM, name, banks*(bank/pieceBytes), pieceBytes)
}

func (b *Builder) pool(mem Memory, name string, bufs, slot int) *Pool {
	p := &Pool{b: b, Name: name, Mem: mem, SlotBytes: slot, Bufs: bufs}
	if bufs <= 0 || slot <= 0 {
		b.Fail(fmt.Errorf("%s pool %q: %d buffers of %d bytes per partition: both must be positive", mem, name, bufs, slot))
		return p
	}
	used, capacity := &b.sbufUsed, b.arch.SBUFPartitionBytes
	if mem == PSUM {
		used, capacity = &b.psumUsed, b.arch.PSUMPartitionBytes()
	}
	need := bufs * slot
	if *used+need > capacity {
		b.Fail(&CapacityError{Mem: mem, Pool: name, Asked: need, Free: capacity - *used, Capacity: capacity})
		return p
	}
	p.Base = *used
	*used += need
	p.made = make([]madeTile, bufs)
	b.pools = append(b.pools, p)
	return p
}

// CapacityError reports a pool that does not fit in SBUF or PSUM.
type CapacityError struct {
	Mem      Memory
	Pool     string
	Asked    int // bytes per partition
	Free     int
	Capacity int
}

func (e *CapacityError) Error() string {
	return fmt.Sprintf("%s pool %q: asked for %d bytes per partition, %d of %d free",
		e.Mem, e.Pool, e.Asked, e.Free, e.Capacity)
}

// Tile returns the next slot as a tile of parts partitions with the given
// free dimensions laid out row-major (the last one contiguous).
//
// A slot asked again for the tile it last made (kernels allocate the same
// shape from a pool over and over) gets a copy of that tile: the tile is a
// function of Tile's arguments and the slot alone, so the copy is exact,
// and copying a stored AP is cheaper than building one field by field,
// which the caller would then copy whole before its writes reach the cache
// (the CPU cannot forward them to the copy's wider loads, and waits).
func (p *Pool) Tile(dt DType, parts int, free ...int) (a AP) {
	k := p.next
	if k < len(p.made) && p.made[k].key.is(dt, parts, free) {
		p.advance()
		return p.made[k].ap
	}
	a = AP{Mem: p.Mem, DType: dt, Parts: Narrow(parts)}
	if len(free) == 0 || len(free) > MaxFreeDims {
		p.b.Fail(fmt.Errorf("%s pool %q: tile needs 1 to %d free dimensions, got %d", p.Mem, p.Name, MaxFreeDims, len(free)))
		return a
	}
	n := 1
	for i := len(free) - 1; i >= 0; i-- {
		a.Free[i] = Dim{Stride: Narrow(n), Count: Narrow(free[i])}
		n *= free[i]
	}
	a.NFree = uint8(len(free))
	if bytes := n * dt.Size(); bytes > p.SlotBytes {
		// A copy of free goes into the message, so that free itself does
		// not escape and the kernel's variadic call allocates nothing.
		p.b.Fail(fmt.Errorf("%s pool %q: tile %v of %s needs %d bytes per partition, slots hold %d", p.Mem, p.Name, append([]int(nil), free...), dt, bytes, p.SlotBytes))
		return a
	}
	if parts <= 0 || parts > p.b.arch.Partitions {
		p.b.Fail(fmt.Errorf("%s pool %q: tile of %d partitions, allowed 1..%d", p.Mem, p.Name, parts, p.b.arch.Partitions))
		return a
	}
	a.Offset = p.Base + k*p.SlotBytes
	if k < len(p.made) {
		m := &p.made[k]
		m.key = tileKey{ok: true, dt: dt, parts: parts, nfree: len(free)}
		copy(m.key.free[:], free)
		m.ap = a
	}
	p.advance()
	return a
}

// advance moves to the next slot in rotation; a failed pool (no Bufs)
// stays at slot 0.
func (p *Pool) advance() {
	if p.next++; p.next >= p.Bufs {
		p.next = 0
	}
}
