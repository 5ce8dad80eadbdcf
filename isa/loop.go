package isa

// Looper is a Sink that can fast-forward the iterations of Builder.Loop.
// Calls arrive in program order with the instructions (a Looper may time
// on another goroutine: LoopSteady reports what it has found so far).
type Looper interface {
	Sink
	// LoopMark: the Builder is about to emit iteration i (0 ≤ i < n) of the
	// current loop; key is the iteration's structural key (see Loop), next the
	// index of the next instruction, rot the Builder's rotation state (valid
	// during the call only). i == 0 starts a loop.
	LoopMark(i int, key uint64, next int, rot *LoopRotation)
	// LoopSteady reports the period (in iterations) of a steady state the
	// Looper has found in the current loop and the iteration it was found
	// at; period 0: none yet.
	LoopSteady() (period, at int)
	// LoopSkip: iterations [i, i+count) are not emitted; they repeat the
	// period before i exactly (count is a multiple of period) and hold
	// instrs instructions. The next call is LoopMark(i+count, ...) or LoopEnd.
	LoopSkip(i, count, period, instrs int)
	// LoopEnd: the current loop has ended.
	LoopEnd()
}

// LoopRotation is the Builder state that decides where an iteration's
// tiles and transfers go without changing what they are: the DMA queue
// the next transfer takes and, per pool, the slot its next tile takes.
// Two iterations with equal keys emit the same instructions up to a
// relabelling of queues (a rotation by the difference of Queue, modulo
// NumDMAQueues) and of each pool's slots (a rotation by the difference of
// its Next, modulo its Bufs), so a Looper compares their states up to that
// relabelling (see Loop).
type LoopRotation struct {
	Queue int         // DMA queue of the next transfer, in [0, NumDMAQueues)
	Pools []PoolSlots // every pool made before the loop, in order
}

// PoolSlots is a pool's geometry and rotation: Bufs slots of SlotBytes
// bytes per partition from byte Base of Mem; Next is the slot its next tile
// takes.
type PoolSlots struct {
	Mem                         Memory
	Base, SlotBytes, Bufs, Next int
}

// Clone returns a copy of r that shares no memory with it (a Looper
// keeping a rotation past LoopMark keeps a clone).
func (r *LoopRotation) Clone() LoopRotation {
	return LoopRotation{Queue: r.Queue, Pools: append([]PoolSlots(nil), r.Pools...)}
}

// MoveQueue returns DMA queue q, used at rotation r, as the Builder uses it at
// rotation to: rotated by the difference of the queues.
func (r *LoopRotation) MoveQueue(q int, to *LoopRotation) int {
	return ((q+to.Queue-r.Queue)%NumDMAQueues + NumDMAQueues) % NumDMAQueues
}

// MoveBytes returns byte c0 of the range [c0, c1) of memory m, used at
// rotation r, as the Builder uses it at rotation to: within one slot of a
// pool it moves on by as many slots as the pool's rotation did (pools
// match by position); outside every pool it stays. A range across slots
// maps only if the pool did not rotate (ok false otherwise).
func (r *LoopRotation) MoveBytes(m Memory, c0, c1 int, to *LoopRotation) (int, bool) {
	for k, p := range r.Pools {
		end := p.Base + p.Bufs*p.SlotBytes
		if p.Mem != m || c1 <= p.Base || c0 >= end || k >= len(to.Pools) {
			continue
		}
		d := ((to.Pools[k].Next-p.Next)%p.Bufs + p.Bufs) % p.Bufs
		if d == 0 {
			return c0, true
		}
		s := (c0 - p.Base) / p.SlotBytes
		if c0 < p.Base || c1 > end || (c1-1-p.Base)/p.SlotBytes != s {
			return 0, false
		}
		return c0 + ((s+d)%p.Bufs-s)*p.SlotBytes, true
	}
	return c0, true
}

// Relabel returns in, emitted at rotation r, as the Builder emits it at
// rotation to: a DMA's queue and its SBUF and PSUM operands moved as
// MoveQueue and MoveBytes say (an operand is placed by its first byte).
func (r *LoopRotation) Relabel(in Instr, to *LoopRotation) Instr {
	if in.Engine == DMA {
		in.Queue = uint8(r.MoveQueue(int(in.Queue), to))
	}
	for _, ap := range []*AP{&in.Dst, &in.Src[0], &in.Src[1], &in.Src[2], &in.Red} {
		if ap.Mem == SBUF || ap.Mem == PSUM {
			ap.Offset, _ = r.MoveBytes(ap.Mem, ap.Offset, ap.Offset+1, to)
		}
	}
	return in
}

// LoopKey mixes integers into a structural key for Builder.Loop
// (splitmix64's finaliser over a running sum): cheap, and keys of
// different value lists collide with probability about 2⁻⁶⁴.
func LoopKey(vals ...int) uint64 {
	h := uint64(0x9e3779b97f4a7c15) ^ uint64(len(vals))
	for _, v := range vals {
		h = mix64(h ^ uint64(v))
	}
	return h
}

// mix64 is splitmix64's finaliser: a bijection of uint64 whose every
// output bit depends on every input bit.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// loopState is what Loop records per iteration i, at LoopMark(i): the
// kernel's key, its state key (LoopWithState) and the instructions emitted
// before the iteration.
type loopState struct {
	key, state uint64
	n          int
}

// loopRun is the record of the Loop being run.
type loopRun struct {
	it  []loopState
	rot LoopRotation // handed to LoopMark, reused
	// keys beyond the recorded iterations that a skip scan computed
	// (ahead[j] is key(len(it)+j)), so each key is computed once.
	ahead []uint64
	// stop: key(stop) != key(stop-stopP), found by a scan for period
	// stopP; a later scan for the same period stops there without looking.
	stop, stopP int
}

// Loop calls body(i) for i = 0 … n-1, in order: a kernel's main loop whose
// iterations a timing-only run may fast-forward. key(i) is the structural
// key of iteration i: two iterations with equal keys must emit the same
// instructions but for HBM offsets (same opcodes, engines, SBUF/PSUM
// operands, shapes, dtypes, counts), given the same Builder state (pool
// rotations, DMA queue rotation: Loop adds those itself). Contract: an
// iteration's HBM writes go to regions no other iteration and no later
// instruction reads or writes (each output tile written once).
//
// The key also covers whatever kernel state an iteration reads that
// earlier iterations left (a software pipeline's pending stages, tiles
// allocated by an earlier iteration): after a skip of whole periods the
// kernel's body runs on with the state the last emitted period left,
// which must be what the skipped periods would have left but for HBM
// offsets, and a body must compute its HBM offsets from i alone.
//
// Loop runs plain (every body, no marks) unless the Builder streams into
// a Looper, has no error and is not already inside a Loop (a nested Loop
// runs plain). Otherwise, before iteration i it calls LoopMark with the
// key and the Builder's rotation state (LoopRotation), asks LoopSteady,
// and where the Looper has found a period P at iteration at (its state at
// at is the one at at−P up to a time shift; with at ≤ i, i ≡ at mod P: a
// Looper that times on another goroutine may report the steady state
// late, and it checks a skip against its state whole periods from at)
// skips the largest number m ≥ 1 of whole periods for which the state key
// at i is the one at i−P and key(x) == key(x−P) for every x in
// [i, i+m·P): each skipped period repeats [i−P, i) from the same state.
// The skipped iterations are handed to LoopSkip, not emitted (see skip).
//
// The rotation state need not repeat: a period may move the DMA queues
// and a pool's slots on by any number of places. The Looper compares its
// state up to that relabelling, and after a skip the Builder goes on from
// the rotation it had at i, so what follows is the program a full build
// emits relabelled (queues and slots renamed), which times identically: no
// queue or slot is special. A pool made inside the loop ends the
// skipping: it is not in the LoopRotation, so the rest of the loop runs
// plain.
func (b *Builder) Loop(n int, key func(i int) uint64, body func(i int)) {
	b.LoopWithState(n, key, nil, body)
}

// LoopWithState is Loop for a kernel that carries state from one iteration
// to the next that its keys cannot describe ahead of time (a software
// pipeline's pending stages, which decide what the next iteration emits
// besides its own work): state, called before each iteration, returns a
// key of that state (relative to the iteration: counts and distances,
// never absolute indices). Loop skips at i only where the state key is the
// one at i−P: given the same state and keys, the iterations that follow
// emit the same instructions (up to the rotation), so their states repeat
// too.
func (b *Builder) LoopWithState(n int, key func(i int) uint64, state func() uint64, body func(i int)) {
	lp, ok := b.sink.(Looper)
	if !ok || b.err != nil || b.loop != nil {
		for i := 0; i < n && b.err == nil; i++ {
			body(i)
		}
		return
	}
	r := &loopRun{stop: -1}
	b.loop = r
	defer func() { b.loop = nil }()
	np := len(b.pools)
	for i := 0; i < n && b.err == nil; {
		if len(b.pools) != np {
			// A pool made inside the loop is not in the rotation the
			// Looper compares states under: run the rest plain.
			for ; i < n && b.err == nil; i++ {
				body(i)
			}
			break
		}
		var k uint64
		if len(r.ahead) > 0 {
			k, r.ahead = r.ahead[0], r.ahead[1:]
		} else {
			k = key(i)
		}
		st := loopState{key: k, n: b.n}
		if state != nil {
			st.state = state()
		}
		r.it = append(r.it, st)
		r.rot.Queue = b.dmaNext % NumDMAQueues
		r.rot.Pools = r.rot.Pools[:0]
		for _, p := range b.pools {
			r.rot.Pools = append(r.rot.Pools, PoolSlots{Mem: p.Mem, Base: p.Base, SlotBytes: p.SlotBytes, Bufs: p.Bufs, Next: p.next % p.Bufs})
		}
		lp.LoopMark(i, mix64(k^st.state), b.n, &r.rot)
		if P, at := lp.LoopSteady(); n >= 3 && P > 0 && at <= i && (i-at)%P == 0 && i >= P {
			if m := r.periods(i, n, P, key); m > 0 {
				b.skip(lp, r, i, m, P)
				i += m * P
				continue
			}
		}
		body(i)
		i++
	}
	lp.LoopEnd()
}

// periods returns how many whole periods of P iterations Loop may skip
// at i (0: none): the kernel's state key at i is the one at i−P, and keys
// repeat with period P from i on, up to n (so [i, i+P) is [i−P, i) again,
// from the same state: the Looper has checked its own state).
func (r *loopRun) periods(i, n, P int, key func(int) uint64) int {
	if i+P > n {
		return 0
	}
	if r.it[i].state != r.it[i-P].state {
		return 0
	}
	// keyAt is key(x) for x ≥ i: recorded (x == i), computed ahead, or
	// computed now and kept ahead.
	keyAt := func(x int) uint64 {
		if x < len(r.it) {
			return r.it[x].key
		}
		j := x - len(r.it)
		for len(r.ahead) <= j {
			r.ahead = append(r.ahead, key(len(r.it)+len(r.ahead)))
		}
		return r.ahead[j]
	}
	end := n
	if r.stopP == P && r.stop >= i {
		end = min(end, r.stop)
	}
	x := i
	for ; x < end; x++ {
		if keyAt(x) != keyAt(x-P) {
			r.stop, r.stopP = x, P
			break
		}
	}
	return (x - i) / P
}

// skip hands iterations [i, i+m·P) to the Looper as skipped and moves the
// Builder on:
//   - n (instructions emitted) by m times the instructions of the last
//     period;
//   - the DMA queue counter and each pool's rotation stay where they are
//     at i (see Loop: the rest of the program is the full one relabelled),
//     and with them the kernel's own state, which the last emitted
//     iteration left for that rotation. Pool.made, a per-slot cache of the
//     last tile made there, stays valid: it is keyed by Tile's arguments
//     and the slot alone, whatever iteration made it;
//   - the source sites (storing Builders and KeepSites) stay: a skipped
//     iteration repeats lines the last period already recorded;
//   - the stream checker has no per-instruction state to move (it is
//     handed the instruction index at each emit; its shape cache depends
//     on shapes alone).
//
// The skipped iterations are recorded as the period before them repeated,
// so a later skip in the same Loop sees them.
func (b *Builder) skip(lp Looper, r *loopRun, i, m, P int) {
	a, c := r.it[i], r.it[i-P]
	dn := a.n - c.n
	lp.LoopSkip(i, m*P, P, m*dn)
	// Iteration i was marked before the skip was decided: drop its record
	// and record [i, i+m·P) as copies shifted by whole periods.
	r.it = r.it[:i]
	for x := i; x < i+m*P; x++ {
		s := r.it[x-P]
		s.n += dn
		r.it = append(r.it, s)
	}
	// Kernel keys of the skipped range were computed ahead: take them in
	// order (the recorded key of x is key(x), equal to key(x−P)).
	for x := i + 1; x < i+m*P && len(r.ahead) > 0; x++ {
		r.it[x].key, r.ahead = r.ahead[0], r.ahead[1:]
	}
	b.n += m * dn
}
