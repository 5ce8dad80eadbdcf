package neuron

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnsim/trnsim/isa"
)

// Fast-forward: exact extrapolation of a kernel loop in steady state.
//
// A kernel's main loop (isa.Builder.Loop) repeats the same iteration
// structure thousands of times. Before each iteration the Builder marks
// the loop (Stream.LoopMark) and the timing model takes a snapshot of its
// state: every time it holds (engine and queue frontiers, the last
// accesses of every SBUF and PSUM region, the DMA and port timelines, the
// power throttle), every accumulator (busy time, bytes, FLOPs, counts) and
// the discrete state (loaded stationary, activation table, …). When the
// snapshot at iteration i equals the one at i−P with every time either
// shifted by one Δ ("moving") or unchanged and too old to delay anything
// again ("fixed": at or before every active lane's frontier, less the
// semaphore wait), up to the renaming of DMA queues and pool slots the
// Builder's rotation made between them (isa.LoopRotation: no queue and no
// slot is special to the timing model), then [i−P, i) was timed as an
// exact time-shift of the period before; the Builder skips only where the
// iterations ahead repeat [i−P, i) from the same kernel state (structural
// keys, and LoopWithState's state key), so each of them would be timed as
// the same shift again. The Builder skips m whole periods (Stream.LoopSkip)
// and goes on from its rotation at i; the timing model advances its state
// by m·Δ and every accumulator by m times its growth over one period.
//
// Exactness rests on three things. Simulated time is on a grid
// (gridPerNs), so shifting a state by Δ shifts every later sum, maximum
// and comparison exactly; the snapshot holds all state that can influence
// a later instruction's timing; and the loop's contract (isa.Builder.Loop):
// an iteration's HBM writes go to regions no other iteration and no later
// instruction touches, so HBM regions need no snapshot. The skip is
// verified once more when it arrives; should that fail, timing stops with
// a *FastForwardError and the caller times the program again without
// fast-forward (bench does). Traces and profiles need every instruction's
// span: a Stream keeping spans never fast-forwards.

// ffMaxPeriod bounds the period, in loop iterations, looked for.
const ffMaxPeriod = 128

// ffMaxStride bounds how many iterations apart snapshots are taken (loops
// of short iterations over a large state): periods are multiples of it.
const ffMaxStride = 16

// ffGiveUp is how many snapshots a loop takes without finding a steady
// state before it stops looking.
const ffGiveUp = 256

// FastForwardError reports a fast-forward whose skip could not be verified:
// the caller should time the program again with fast-forward off (the
// figures of a timing that did not fail are exact either way).
type FastForwardError struct {
	Iter, Period int
	Reason       string
}

func (e *FastForwardError) Error() string {
	return fmt.Sprintf("neuron: fast-forward of loop iteration %d (period %d) not verified: %s", e.Iter, e.Period, e.Reason)
}

// Kinds of snapshot times.
const (
	ffTime = iota // may stay fixed if too old to matter
	ffLane        // a lane's frontier: where its next instruction may start at the earliest
	ffMove        // must move (timeline intervals still ahead of the frontier)
)

// ffSnap is the timing state before one loop iteration. The state the
// Builder's rotation relabels (isa.LoopRotation) is kept apart, so that two
// snapshots compare up to that relabelling: per DMA queue q its issue time
// and its last transfer's end on each engine (q, at q·(1+engines)); per
// SBUF or PSUM region entry (in creation order) its last write and reads
// and the classes of their lanes; and the loaded stationary.
type ffSnap struct {
	iter  int // logical iteration
	n     int // instructions timed before it
	times []float64
	kinds []uint8
	acc   []float64
	disc  []uint64

	rot       isa.LoopRotation // the Builder's, copied
	q         []float64
	ent       []float64 // wEnd, rEnd, rEndNT of each on-chip entry
	entLanes  []uint32  // classes of wLane, rLane, rLaneNT (laneClasses)
	statValid bool
	stat      isa.AP
}

// ffLoop is the fast-forward state of the current loop of a Stream.
type ffLoop struct {
	loop       int // loops started
	keys       []uint64
	snaps      []*ffSnap // recent snapshots, oldest first
	spare      []*ffSnap
	stride     int // snapshot every stride iterations
	tries      int
	period, at int    // the steady state found; period 0: none
	moving     []bool // per flat time of the later snapshot
	movQ       []bool // per queue time of the later snapshot
	movE       []bool // per entry time of the later snapshot
	delta      []float64
	fixedBuf   []float64
	pos        []int32 // entry index → position among the on-chip entries (those of len(pos) entries)
	why        string  // why the last match failed (tests and debugging)
}

// ffWalker visits the timing state in a fixed order: it collects a
// snapshot, or advances the state by m periods.
type ffWalker struct {
	s *ffSnap // collect into s; nil: apply
	// apply: shift moving times by shift, accumulators by m·delta
	m      float64
	shift  float64
	moving []bool
	delta  []float64
	ti, ai int
}

func (w *ffWalker) time(p *float64, kind uint8) {
	if w.s != nil {
		w.s.times = append(w.s.times, *p)
		w.s.kinds = append(w.s.kinds, kind)
		return
	}
	if w.moving[w.ti] {
		*p += w.shift
	}
	w.ti++
}

func (w *ffWalker) acc(p *float64) {
	if w.s != nil {
		w.s.acc = append(w.s.acc, *p)
		return
	}
	*p += w.m * w.delta[w.ai]
	w.ai++
}

func (w *ffWalker) accInt(p *int64) {
	if w.s != nil {
		w.s.acc = append(w.s.acc, float64(*p))
		return
	}
	*p += int64(w.m * w.delta[w.ai])
	w.ai++
}

func (w *ffWalker) accN(p *int) {
	v := int64(*p)
	w.accInt(&v)
	*p = int(v)
}

func (w *ffWalker) disc(v uint64) {
	if w.s != nil {
		w.s.disc = append(w.s.disc, v)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// timeline visits the intervals of t that a later booking may still meet
// (those ending at or after h; the older ones are folded into its total
// first) and its accumulators.
func (w *ffWalker) timeline(t *timeline, h float64) {
	if w.s != nil {
		t.fold(h)
	}
	w.disc(uint64(len(t.iv)))
	for k := range t.iv {
		w.time(&t.iv[k].lo, ffMove)
		w.time(&t.iv[k].hi, ffMove)
	}
	if w.s == nil && len(t.iv) > 0 {
		t.end = t.iv[len(t.iv)-1].hi
	}
	w.acc(&t.busy)
	w.acc(&t.folded)
}

// walk visits the whole timing state of r (see ffWalker). Collecting also
// drops what no later instruction can meet (timeline intervals and
// throttle history behind every frontier): a change the replay would make
// later anyway, or that never changes a figure.
func (r *runner) walk(w *ffWalker) {
	w.time(&r.end, ffMove)
	for l := laneTensor; l < laneDMA0; l++ {
		w.time(&r.free[l], ffLane)
		w.time(&r.busyEnd[l], ffTime)
		w.acc(&r.busy[l])
		w.accN(&r.instrs[l])
	}
	w.time(&r.lsFree, ffTime)
	w.time(&r.mmStart, ffLane)
	w.time(&r.mmFree, ffTime)
	w.disc(uint64(int64(r.actTable)))
	w.disc(b2u(r.havePeak)<<8 | uint64(r.peakDType))
	w.disc(uint64(r.nTensors))
	w.acc(&r.sbufBusy)
	w.acc(&r.psumBusy)
	w.acc(&r.peAdj)
	w.acc(&r.mmFL)
	for l := range r.traffic {
		w.accInt(&r.traffic[l].Read)
		w.accInt(&r.traffic[l].Write)
	}
	w.timeline(&r.psumPort, min(r.free[laneVector], r.free[laneScalar]))
	w.timeline(&r.sbufPort, min(r.free[laneVector], r.free[laneGpSimd]))

	// SBUF and PSUM regions (relabelled: see ffSnap.ent), HBM regions
	// the loop contract's.
	t := &r.tr
	w.disc(uint64(len(t.onChip)))
	for k := range t.coarse {
		// A coarse read's lane is a queue: all a later write asks of it
		// is that it is one (see laneClass).
		w.time(&t.coarse[k].t, ffTime)
		w.disc(b2u(t.coarse[k].lane >= 0) | b2u(t.tracked[k])<<8)
	}

	th := &r.th
	w.disc(b2u(th.on) | b2u(th.started)<<1)
	w.time(&th.rampStart, ffTime)
	w.time(&th.rampEnd, ffTime)
	w.time(&th.lastEnd, ffTime)
	w.acc(&th.throttledNs)
	if w.s != nil && th.on {
		// Every later TensorE instruction starts at or after mmFree, so
		// its window begins at or after w0: busyIn drops the intervals
		// ending by w0 and counts the one across w0 from w0 on, which
		// clipping it to w0 does not change. histSum is their total.
		w0 := r.mmFree - th.window
		th.busyIn(r.mmFree)
		th.hist = append(th.hist[:0], th.hist[th.head:]...)
		th.head = 0
		if len(th.hist) > 0 && th.hist[0].lo < w0 {
			th.histSum -= w0 - th.hist[0].lo
			th.hist[0].lo = w0
		}
	}
	w.disc(uint64(len(th.hist) - th.head))
	for k := th.head; k < len(th.hist); k++ {
		w.time(&th.hist[k].lo, ffMove)
		w.time(&th.hist[k].hi, ffMove)
	}

	d := &r.dm
	h := math.Inf(1) // queues are relabelled: see ffSnap.q
	for q := 0; q < r.c.DMAQueues; q++ {
		h = min(h, d.qIssue[q])
	}
	w.disc(b2u(d.uniform))
	for e := range d.eng {
		w.timeline(&d.eng[e], h)
	}
	w.timeline(&d.hbm, h)
	for k := range d.dge {
		w.timeline(&d.dge[k], h)
	}
	w.timeline(&d.active, h)
	w.accInt(&d.transfers)
	w.accInt(&d.moved)
	w.accN(&d.instrs)
}

// snapshot takes the state before logical iteration iter, with the
// Builder's rotation rot.
func (f *ffLoop) snapshot(r *runner, iter, n int, rot *isa.LoopRotation) *ffSnap {
	var s *ffSnap
	if k := len(f.spare); k > 0 {
		s, f.spare = f.spare[k-1], f.spare[:k-1]
		s.times, s.kinds, s.acc, s.disc = s.times[:0], s.kinds[:0], s.acc[:0], s.disc[:0]
		s.q, s.ent, s.entLanes = s.q[:0], s.ent[:0], s.entLanes[:0]
	} else if k := len(f.snaps); k > 0 {
		// Sized as the last one: the state grows little once a loop runs.
		l := f.snaps[k-1]
		s = &ffSnap{times: make([]float64, 0, len(l.times)), kinds: make([]uint8, 0, len(l.kinds)),
			acc: make([]float64, 0, len(l.acc)), disc: make([]uint64, 0, len(l.disc)),
			q: make([]float64, 0, len(l.q)), ent: make([]float64, 0, len(l.ent)), entLanes: make([]uint32, 0, len(l.entLanes))}
	} else {
		s = &ffSnap{}
	}
	s.iter, s.n = iter, n
	s.rot.Queue = rot.Queue
	s.rot.Pools = append(s.rot.Pools[:0], rot.Pools...)
	r.walk(&ffWalker{s: s})
	d := &r.dm
	for q := 0; q < r.c.DMAQueues; q++ {
		s.q = append(s.q, d.qIssue[q])
		for _, e := range d.qeEnd[q][:len(d.eng)] {
			// A queue's next transfer starts at or after its last
			// issue: an end before that can no longer hold it back
			// (dmaState.run), and is kept as "never".
			if e <= d.qIssue[q] {
				e = math.Inf(-1)
			}
			s.q = append(s.q, e)
		}
	}
	t := &r.tr
	for _, x := range t.onChip {
		e := &t.entries[x]
		s.ent = append(s.ent, e.wEnd, e.rEnd, e.rEndNT)
		s.entLanes = append(s.entLanes, laneClasses(e.wLane, e.rLane, e.rLaneNT))
	}
	// The loaded stationary, if it still is (nothing wrote its regions
	// since it was loaded).
	s.statValid = r.statValid && t.writeSeq(r.statEnt) == r.statSeq
	s.stat = r.stat
	f.snaps = append(f.snaps, s)
	// Keep the snapshots of the last ffMaxPeriod iterations.
	drop := 0
	for drop < len(f.snaps) && f.snaps[drop].iter < iter-ffMaxPeriod {
		drop++
	}
	if drop > 0 {
		f.spare = append(f.spare, f.snaps[:drop]...)
		f.snaps = append(f.snaps[:0], f.snaps[drop:]...)
	}
	return s
}

// snap returns the snapshot before logical iteration iter, or nil.
func (f *ffLoop) snap(iter int) *ffSnap {
	for _, s := range f.snaps {
		if s.iter == iter {
			return s
		}
	}
	return nil
}

// relabel maps the rotation of snapshot a onto that of b
// (isa.LoopRotation.MoveQueue, MoveBytes).
type relabel struct{ a, b *isa.LoopRotation }

// newRelabel returns the relabelling from a to b, if their pools are the
// same and a queue rotation is one of the core's queues.
func newRelabel(a, b *ffSnap, nq int) (relabel, bool) {
	if len(a.rot.Pools) != len(b.rot.Pools) {
		return relabel{}, false
	}
	for k := range a.rot.Pools {
		pa, pb := a.rot.Pools[k], b.rot.Pools[k]
		pa.Next, pb.Next = 0, 0
		if pa != pb {
			return relabel{}, false
		}
	}
	if a.rot.Queue != b.rot.Queue && nq != isa.NumDMAQueues {
		// A core with fewer queues folds the Builder's onto its own: not a
		// rotation of them.
		return relabel{}, false
	}
	return relabel{a: &a.rot, b: &b.rot}, true
}

// queue maps queue q.
func (l relabel) queue(q int) int { return l.a.MoveQueue(q, l.b) }

// laneClass is what the timing of a later instruction can tell of the
// lane that last wrote or read a region: none, TensorE, or another engine
// or queue (readDepOne, writeDepOne and the semaphore waits ask no more;
// which one is named only in a trace's waits, and traces are never
// fast-forwarded).
func laneClass(x int8) uint32 {
	switch {
	case x < 0:
		return 0
	case x == laneTensor:
		return 1
	}
	return 2
}

// laneClasses packs the classes of an entry's three lanes.
func laneClasses(w, r, nt int8) uint32 {
	return laneClass(w)<<4 | laneClass(r)<<2 | laneClass(nt)
}

// region maps an on-chip region.
func (l relabel) region(g region) (region, bool) {
	m := isa.SBUF
	if g.space == 1 {
		m = isa.PSUM
	}
	c0, ok := l.a.MoveBytes(m, int(g.c0), int(g.c1), l.b)
	if !ok {
		return g, false
	}
	g.c1 += int32(c0) - g.c0
	g.c0 = int32(c0)
	return g, true
}

// ffCheck classifies the times of a snapshot against those a period
// before it (see match).
type ffCheck struct {
	f        *ffLoop
	shift    float64
	frontier float64 // the earliest moving lane frontier at a
	fixed    []float64
}

// pair classifies a's time x against b's y: moving (y = x + shift) or
// fixed (y = x); anything else, or a ffMove time that stays, fails.
func (c *ffCheck) pair(x, y float64, kind uint8, what string, k int) (moving, ok bool) {
	mv := y == x+c.shift
	if !mv && y != x {
		c.f.why = fmt.Sprintf("%s %d (kind %d) %v then %v: neither fixed nor shifted by %v", what, k, kind, x, y, c.shift)
		return false, false
	}
	if math.IsInf(x, 0) {
		return false, true
	}
	if !mv {
		if kind == ffMove {
			c.f.why = fmt.Sprintf("%s %d fixed at %v, must move", what, k, x)
			return false, false
		}
		c.fixed = append(c.fixed, x)
	} else if kind == ffLane {
		c.frontier = min(c.frontier, x)
	}
	return mv, true
}

// match reports whether b, taken a period after a, shows a steady state
// (see the package comment above) up to the relabelling of queues and pool
// slots the Builder's rotation made between them; if so it leaves in f
// the moving times of b and the growth of every accumulator over the
// period, and returns the shift.
func (f *ffLoop) match(r *runner, a, b *ffSnap) (float64, bool) {
	if len(a.times) != len(b.times) || len(a.acc) != len(b.acc) || len(a.disc) != len(b.disc) ||
		len(a.q) != len(b.q) || len(a.ent) != len(b.ent) {
		f.why = fmt.Sprintf("state sizes differ: %d/%d/%d/%d times/acc/disc/entries, then %d/%d/%d/%d",
			len(a.times), len(a.acc), len(a.disc), len(a.ent), len(b.times), len(b.acc), len(b.disc), len(b.ent))
		return 0, false
	}
	for k := range a.disc {
		if a.disc[k] != b.disc[k] {
			f.why = fmt.Sprintf("discrete state %d differs: %#x then %#x", k, a.disc[k], b.disc[k])
			return 0, false
		}
	}
	shift := b.times[0] - a.times[0] // r.end
	if !(shift > 0) || math.IsInf(shift, 0) {
		f.why = "no progress"
		return 0, false
	}
	nq := r.c.DMAQueues
	l, ok := newRelabel(a, b, nq)
	if !ok {
		f.why = "pools or queues cannot be relabelled"
		return 0, false
	}
	c := ffCheck{f: f, shift: shift, frontier: math.Inf(1), fixed: f.fixedBuf[:0]}
	defer func() { f.fixedBuf = c.fixed }()

	f.moving = f.moving[:0]
	for k, x := range a.times {
		if a.kinds[k] != b.kinds[k] {
			f.why = "time kinds differ"
			return 0, false
		}
		mv, ok := c.pair(x, b.times[k], a.kinds[k], "time", k)
		if !ok {
			return 0, false
		}
		f.moving = append(f.moving, mv)
	}
	// Queues: a's queue q is b's l.queue(q); its issue time is a lane
	// frontier.
	per := len(a.q) / max(nq, 1)
	f.movQ = resized(f.movQ, len(b.q))
	for q := 0; q < nq; q++ {
		qb := l.queue(q)
		for e := 0; e < per; e++ {
			kind := uint8(ffTime)
			if e == 0 {
				kind = ffLane
			}
			mv, ok := c.pair(a.q[q*per+e], b.q[qb*per+e], kind, "queue", q)
			if !ok {
				return 0, false
			}
			f.movQ[qb*per+e] = mv
		}
	}
	// On-chip regions: a's entry in a slot is b's entry of the same region
	// in the relabelled slot.
	t := &r.tr
	if len(f.pos) != len(t.entries) {
		// Entries are only ever added: the map stands until they are.
		f.pos = slices.Grow(f.pos[:0], len(t.entries))[:len(t.entries)]
		for k, x := range t.onChip {
			f.pos[x] = int32(k)
		}
	}
	n := len(a.ent) / 3
	f.movE = resized(f.movE, len(b.ent))
	for k, x := range t.onChip[:n] {
		g, ok := l.region(t.regs[x])
		y := int32(-1)
		if ok {
			y = t.find(g)
		}
		if y < 0 || t.regs[y].space >= 2 {
			f.why = "a region has no relabelled counterpart"
			return 0, false
		}
		kb := int(f.pos[y])
		if a.entLanes[k] != b.entLanes[kb] {
			f.why = "region lanes differ"
			return 0, false
		}
		for j := range 3 {
			mv, ok := c.pair(a.ent[3*k+j], b.ent[3*kb+j], ffTime, "region", k)
			if !ok {
				return 0, false
			}
			f.movE[3*kb+j] = mv
		}
	}
	// The loaded stationary.
	if a.statValid != b.statValid {
		f.why = "stationary validity differs"
		return 0, false
	}
	if a.statValid {
		st := a.stat
		off, ok := l.a.MoveBytes(st.Mem, st.Offset, st.Offset+1, l.b)
		st.Offset = off
		if !ok || !sameAP(&st, &b.stat) {
			f.why = "loaded stationary differs"
			return 0, false
		}
	}
	// A fixed time must never bind again: every active lane's next
	// instruction starts at or after its frontier, and a dependency binds
	// only when it ends more than the semaphore wait after that.
	var sem float64
	for _, s := range r.semNs {
		sem = max(sem, s)
	}
	for _, x := range c.fixed {
		if x+sem > c.frontier {
			f.why = fmt.Sprintf("a time fixed at %v, after the frontier %v", x, c.frontier)
			return 0, false
		}
	}
	f.delta = f.delta[:0]
	for k := range a.acc {
		f.delta = append(f.delta, b.acc[k]-a.acc[k])
	}
	return shift, true
}

// resized returns v with length n, cleared, reusing its array.
func resized(v []bool, n int) []bool {
	if cap(v) < n {
		return make([]bool, n)
	}
	v = v[:n]
	clear(v)
	return v
}

// advance moves the current state (that of snapshot b in the last
// successful match) on by m periods of shift each.
func (f *ffLoop) advance(r *runner, m int, shift float64) {
	sh := float64(m) * shift
	r.walk(&ffWalker{m: float64(m), shift: sh, moving: f.moving, delta: f.delta})
	d := &r.dm
	per := 1 + len(d.eng)
	for q := 0; q < r.c.DMAQueues; q++ {
		if f.movQ[q*per] {
			d.qIssue[q] += sh
		}
		for e := range d.eng {
			if f.movQ[q*per+1+e] {
				d.qeEnd[q][e] += sh
			}
		}
	}
	t := &r.tr
	for k, x := range t.onChip[:len(f.movE)/3] {
		e := &t.entries[x]
		if f.movE[3*k] {
			e.wEnd += sh
		}
		if f.movE[3*k+1] {
			e.rEnd += sh
		}
		if f.movE[3*k+2] {
			e.rEndNT += sh
		}
	}
}

// LoopMark is the isa.Looper method: the Builder is about to emit logical
// iteration i of its current loop, whose structural key is key; next is
// the index of the next instruction. The Stream snapshots its state and
// looks for a steady state.
func (s *Stream) LoopMark(i int, key uint64, next int, rot *isa.LoopRotation) {
	f := &s.ff
	if s.ffOff || s.r.keep != nil || s.err != nil {
		return
	}
	if i == 0 {
		f.loop++
		f.reset()
		f.stride, f.tries = 1, 0
		s.r.loopHBMReuse = false
	}
	if i != len(f.keys) || next != s.n {
		s.err = &FastForwardError{Iter: i, Reason: fmt.Sprintf("mark for iteration %d at instruction %d, expected iteration %d at %d", i, next, len(f.keys), s.n)}
		return
	}
	f.keys = append(f.keys, key)
	s.r.loopEntries = int32(len(s.r.tr.entries))
	if s.r.loopHBMReuse {
		// The loop breaks its contract: never skip any of it.
		f.period, f.at = 0, 0
		f.why = "an iteration touched an HBM region of an earlier one"
		return
	}
	if f.tries > ffGiveUp && f.period == 0 {
		return
	}
	if i == 1 && len(f.snaps) == 1 {
		// Snapshot every stride iterations, so that taking them costs at
		// most about a quarter of timing the instructions between them.
		per := max(s.n-f.snaps[0].n, 1)
		s0 := f.snaps[0]
		size := len(s0.times) + len(s0.acc) + len(s0.q) + len(s0.ent)
		for f.stride*per*4 < size && f.stride < ffMaxStride {
			f.stride *= 2
		}
	}
	if p := f.period; p != 0 && i > p && f.keys[i-1] != f.keys[i-1-p] {
		// The keys broke the period before the Builder skipped: look
		// again.
		f.period, f.at = 0, 0
	}
	if i%f.stride != 0 {
		return
	}
	b := f.snapshot(s.r, i, s.n, rot)
	if f.period != 0 {
		return
	}
	f.tries++
	for p := f.stride; p <= ffMaxPeriod && p <= i; p += f.stride {
		// The Builder skips only where the iterations ahead repeat
		// [i−p, i) from the same kernel state (the mark keys include
		// it); the key of iteration i is the first of them.
		if f.keys[i] != f.keys[i-p] {
			continue
		}
		a := f.snap(i - p)
		if a == nil {
			continue
		}
		if _, ok := f.match(s.r, a, b); ok {
			f.period, f.at = p, i
			return
		}
	}
}

// LoopSteady is the isa.Looper method: the period of the steady state found
// in the current loop and the iteration it was found at (period 0: none).
func (s *Stream) LoopSteady() (period, at int) { return s.ff.period, s.ff.at }

// LoopSkip is the isa.Looper method: iterations [i, i+count) repeat the
// period before i and are not emitted. The Stream verifies the steady
// state at i and advances its state by count/period periods.
func (s *Stream) LoopSkip(i, count, period, instrs int) {
	f := &s.ff
	if s.err != nil {
		return
	}
	fail := func(why string) { s.err = &FastForwardError{Iter: i, Period: period, Reason: why} }
	switch {
	case s.ffOff || s.r.keep != nil:
		fail("fast-forward is off")
		return
	case period <= 0 || period != f.period || count%period != 0 || count <= 0 || (i-f.at)%period != 0:
		fail(fmt.Sprintf("skip of %d iterations does not fit the steady state found (period %d at %d)", count, f.period, f.at))
		return
	case i != len(f.keys)-1:
		fail("skip does not follow its mark")
		return
	case s.r.loopHBMReuse:
		fail("an iteration touched an HBM region of an earlier one")
		return
	}
	a, b := f.snap(i-period), f.snap(i)
	if a == nil || b == nil || b.n != s.n {
		fail("no snapshot a period before")
		return
	}
	m := count / period
	if per := b.n - a.n; instrs != m*per {
		fail(fmt.Sprintf("%d instructions skipped, %d periods of %d expected", instrs, m, per))
		return
	}
	if f.keys[i] != f.keys[i-period] {
		fail("iteration key differs from the one a period before")
		return
	}
	shift, ok := f.match(s.r, a, b)
	if !ok {
		fail("state not steady")
		return
	}
	f.advance(s.r, m, shift)
	// The skipped iterations' keys repeat the period; the last mark
	// (iteration i) is dropped: LoopMark(i+count) follows.
	f.keys = f.keys[:i]
	for x := i; x < i+count; x++ {
		f.keys = append(f.keys, f.keys[x-period])
	}
	s.n += instrs
	s.skipped += instrs
	f.period, f.at, f.tries = 0, 0, 0
}

// LoopEnd is the isa.Looper method: the current loop has ended.
func (s *Stream) LoopEnd() {
	s.r.loopEntries = 0
	s.ff.reset()
}

// reset forgets the current loop: its keys, snapshots (kept for reuse)
// and steady state.
func (f *ffLoop) reset() {
	f.keys = f.keys[:0]
	f.spare = append(f.spare, f.snaps...)
	f.snaps = f.snaps[:0]
	f.period, f.at = 0, 0
}

// Skipped returns how many of the instructions counted by Instrs were
// fast-forwarded rather than timed one by one.
func (s *Stream) Skipped() int { return s.skipped }

// FastForward turns loop fast-forward on (the default) or off; call it
// before the first instruction.
func (s *Stream) FastForward(on bool) { s.ffOff = !on }
