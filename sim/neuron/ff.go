package neuron

import (
	"fmt"
	"math"
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
// semaphore wait), the iterations of the last period have been timed as an
// exact time-shift of those before them; since the next period repeats
// the same instructions (the Builder checks their structural keys and its
// own rotation state), it is timed as the same shift again, and so on. The
// Builder then skips m whole periods (Stream.LoopSkip) and the timing
// model advances its state by m·Δ and every accumulator by m times its
// growth over one period.
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

// ffSnap is the timing state before one loop iteration.
type ffSnap struct {
	iter  int // logical iteration
	n     int // instructions timed before it
	times []float64
	kinds []uint8
	acc   []float64
	disc  []uint64
}

// ffLoop is the fast-forward state of the current loop of a Stream.
type ffLoop struct {
	loop       int // loops started
	keys       []uint64
	snaps      []*ffSnap // recent snapshots, oldest first
	spare      []*ffSnap
	stride     int // snapshot every stride iterations
	tries      int
	period, at int // the steady state found; period 0: none
	moving     []bool
	delta      []float64
	why        string // why the last match failed (tests and debugging)
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
	// The loaded stationary: the pattern, and whether it is still valid
	// (nothing wrote its regions since it was loaded).
	valid := r.statValid
	if valid {
		seq := uint32(0)
		for _, e := range r.statEnt {
			seq += r.tr.entries[e].wSeq
		}
		valid = seq == r.statSeq
	}
	w.disc(b2u(valid))
	if valid {
		a := &r.stat
		w.disc(uint64(a.Offset)<<32 | uint64(uint32(a.Start)))
		w.disc(uint64(a.Parts)<<32 | uint64(a.NFree)<<16 | uint64(a.Mem)<<8 | uint64(a.DType))
		w.disc(uint64(uint32(a.Tensor))<<32 | uint64(uint32(a.PStride)))
		for k := 0; k < int(a.NFree); k++ {
			w.disc(uint64(uint32(a.Free[k].Count))<<32 | uint64(uint32(a.Free[k].Stride)))
		}
	}
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

	// SBUF and PSUM regions: HBM regions are the loop contract's.
	t := &r.tr
	w.disc(uint64(len(t.onChip)))
	for _, x := range t.onChip {
		e := &t.entries[x]
		w.time(&e.wEnd, ffTime)
		w.time(&e.rEnd, ffTime)
		w.time(&e.rEndNT, ffTime)
		w.disc(uint64(uint8(e.wLane))<<16 | uint64(uint8(e.rLane))<<8 | uint64(uint8(e.rLaneNT)))
	}
	for k := range t.coarse {
		w.time(&t.coarse[k].t, ffTime)
		w.disc(uint64(uint8(t.coarse[k].lane)) | b2u(t.tracked[k])<<8)
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
	h := math.Inf(1)
	for q := 0; q < r.c.DMAQueues; q++ {
		w.time(&d.qIssue[q], ffLane)
		h = min(h, d.qIssue[q])
		for e := range d.eng {
			w.time(&d.qeEnd[q][e], ffTime)
		}
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

// snapshot takes the state before logical iteration iter.
func (f *ffLoop) snapshot(r *runner, iter, n int) *ffSnap {
	var s *ffSnap
	if k := len(f.spare); k > 0 {
		s, f.spare = f.spare[k-1], f.spare[:k-1]
		s.times, s.kinds, s.acc, s.disc = s.times[:0], s.kinds[:0], s.acc[:0], s.disc[:0]
	} else {
		s = &ffSnap{}
	}
	s.iter, s.n = iter, n
	r.walk(&ffWalker{s: s})
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

// match reports whether b, taken a period after a, shows a steady state
// (see the package comment above); if so it leaves in f the moving times
// and the growth of every accumulator over the period, and returns the
// shift.
func (f *ffLoop) match(r *runner, a, b *ffSnap) (float64, bool) {
	if len(a.times) != len(b.times) || len(a.acc) != len(b.acc) || len(a.disc) != len(b.disc) {
		f.why = fmt.Sprintf("state sizes differ: %d/%d/%d times/acc/disc, then %d/%d/%d", len(a.times), len(a.acc), len(a.disc), len(b.times), len(b.acc), len(b.disc))
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
	f.moving = f.moving[:0]
	frontier := math.Inf(1) // the earliest moving lane frontier at a
	for k, x := range a.times {
		if a.kinds[k] != b.kinds[k] {
			return 0, false
		}
		mv := b.times[k] == x+shift
		if !mv && b.times[k] != x {
			f.why = fmt.Sprintf("time %d (kind %d) %v then %v: neither fixed nor shifted by %v", k, a.kinds[k], x, b.times[k], shift)
			return 0, false
		}
		if a.kinds[k] == ffMove && !mv && !math.IsInf(x, -1) {
			f.why = fmt.Sprintf("time %d fixed at %v, must move", k, x)
			return 0, false
		}
		if mv && a.kinds[k] == ffLane && !math.IsInf(x, -1) {
			frontier = min(frontier, x)
		}
		f.moving = append(f.moving, mv && !math.IsInf(x, 0))
	}
	// A fixed time must never bind again: every active lane's next
	// instruction starts at or after its frontier, and a dependency binds
	// only when it ends more than the semaphore wait after that.
	var sem float64
	for _, s := range r.semNs {
		sem = max(sem, s)
	}
	for k, x := range a.times {
		if !f.moving[k] && !math.IsInf(x, -1) && x+sem > frontier {
			f.why = fmt.Sprintf("time %d fixed at %v, after the frontier %v", k, x, frontier)
			return 0, false
		}
	}
	f.delta = f.delta[:0]
	for k := range a.acc {
		f.delta = append(f.delta, b.acc[k]-a.acc[k])
	}
	return shift, true
}

// LoopMark is the isa.Looper method: the Builder is about to emit logical
// iteration i of its current loop, whose structural key is key; next is
// the index of the next instruction. The Stream snapshots its state and
// looks for a steady state.
func (s *Stream) LoopMark(i int, key uint64, next int) {
	f := &s.ff
	if s.ffOff || s.r.keep != nil || s.err != nil {
		return
	}
	if i == 0 {
		f.loop++
		f.keys = f.keys[:0]
		f.spare = append(f.spare, f.snaps...)
		f.snaps = f.snaps[:0]
		f.stride, f.tries, f.period, f.at = 1, 0, 0, 0
	}
	if i != len(f.keys) || next != s.n {
		s.err = &FastForwardError{Iter: i, Reason: fmt.Sprintf("mark for iteration %d at instruction %d, expected iteration %d at %d", i, next, len(f.keys), s.n)}
		return
	}
	f.keys = append(f.keys, key)
	if i == 0 {
		s.r.loopHBMReuse = false
	}
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
		size := len(f.snaps[0].times) + len(f.snaps[0].acc)
		for f.stride*per*4 < size && f.stride < 8 {
			f.stride *= 2
		}
	}
	if i%f.stride != 0 {
		return
	}
	b := f.snapshot(s.r, i, s.n)
	if f.period != 0 {
		return
	}
	f.tries++
	for p := f.stride; p <= ffMaxPeriod && 2*p <= i; p += f.stride {
		if !f.periodic(i, p) {
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

// periodic reports whether the keys of iterations [i−2p, i) repeat with
// period p.
func (f *ffLoop) periodic(i, p int) bool {
	for x := i - p; x < i; x++ {
		if f.keys[x] != f.keys[x-p] {
			return false
		}
	}
	return true
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
	for x := i - period; x < i; x++ {
		if f.keys[x] != f.keys[x-period] {
			fail("iteration keys not periodic")
			return
		}
	}
	shift, ok := f.match(s.r, a, b)
	if !ok {
		fail("state not steady")
		return
	}
	s.r.walk(&ffWalker{m: float64(m), shift: float64(m) * shift, moving: f.moving, delta: f.delta})
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
	f := &s.ff
	s.r.loopEntries = 0
	f.spare = append(f.spare, f.snaps...)
	f.snaps = f.snaps[:0]
	f.keys = f.keys[:0]
	f.period, f.at = 0, 0
}

// Skipped returns how many of the instructions counted by Instrs were
// fast-forwarded rather than timed one by one.
func (s *Stream) Skipped() int { return s.skipped }

// FastForward turns loop fast-forward on (the default) or off; call it
// before the first instruction.
func (s *Stream) FastForward(on bool) { s.ffOff = !on }
