package neuron

import (
	"math"
	"sort"
)

// interval is [lo, hi) in ns.
type interval struct{ lo, hi float64 }

// gridPerNs is the resolution of simulated time: every duration the model
// computes (cycles × ns per cycle, bytes ÷ bandwidth, the throttle's ramp)
// is rounded to a multiple of 1/gridPerNs ns (2^-16 ns ≈ 15 fs, far below
// any clock period) before it is added to a time. Sums, differences and
// maxima of such times are exact in float64 up to 2^37 ns (≈ 137 s of
// simulated time), so the replay's arithmetic does not depend on where in
// time it runs: after a repeated loop iteration the state is the state
// before it shifted by a constant, bit for bit, which fast-forward
// (ff.go) relies on.
const gridPerNs = 1 << 16

// onGrid rounds a duration d (ns) to the time grid (gridPerNs).
func onGrid(d float64) float64 { return math.Round(d*gridPerNs) / gridPerNs }

// timeline is the busy time of one shared resource (a DMA engine, the HBM
// port, a descriptor generator): sorted, disjoint, non-touching intervals.
// Transfers become ready out of program order (a store waits for compute
// while later loads are ready at once), so a resource is booked by
// reservation: a transfer takes the earliest free gap at or after its ready
// time, as the hardware's round-robin over queues would let it.
type timeline struct {
	iv     []interval
	end    float64 // iv's last hi while iv is not empty (any value while it is)
	busy   float64 // total reserved time
	folded float64 // total length of the intervals fold dropped
	pruned bool    // prune dropped intervals: total no longer knows the union
}

// later returns the later of two times (ns). Times are never NaN and
// never −0 (they are sums of non-negative durations starting from +0, or
// −Inf for "nothing to wait for"), so it is max(a, b) bit for bit, without
// the built-in's handling of NaNs and signed zeros, which costs several
// instructions on the hot path.
func later(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

// earlier returns the earlier of two times (ns): min(a, b) for times, as
// later is max.
func earlier(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

// touchNs: gaps shorter than this are closed, so rounding does not
// fragment the timeline.
const touchNs = 1e-6

// find returns the earliest start ≥ ready of a free gap of length d. The
// common case, ready after every booking, is small enough to inline.
func (t *timeline) find(ready, d float64) float64 {
	if ready >= t.end {
		return ready
	}
	return t.findInside(ready, d)
}

// findInside is find for a ready time before the end of the last booking.
func (t *timeline) findInside(ready, d float64) float64 {
	iv := t.iv
	n := len(iv)
	if n == 0 || ready >= iv[n-1].hi {
		return ready
	}
	// Requests arrive nearly in time order: the first interval ending
	// after ready is almost always one of the last few.
	i := n - 1
	for i > 0 && iv[i-1].hi > ready && n-i < 8 {
		i--
	}
	if i > 0 && iv[i-1].hi > ready {
		i = t.firstEndingAfter(ready)
	}
	start := ready
	for ; i < n; i++ {
		if iv[i].lo-start >= d {
			return start
		}
		if iv[i].hi > start {
			start = iv[i].hi
		}
	}
	return start
}

// firstEndingAfter returns the index of the first interval with hi > x
// (len(t.iv) if none): sort.Search without the closure call per probe.
func (t *timeline) firstEndingAfter(x float64) int {
	lo, hi := 0, len(t.iv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.iv[m].hi > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// reserve books the earliest gap of length d at or after ready and returns
// its start.
func (t *timeline) reserve(ready, d float64) float64 {
	s := t.find(ready, d)
	t.book(s, d)
	return s
}

// book reserves [s, s+d), a gap find returned.
func (t *timeline) book(s, d float64) {
	t.add(s, s+d)
	t.busy += d
}

// add marks [lo, hi) busy, merging with the intervals it touches or
// overlaps (it may overlap them: add is also a union).
func (t *timeline) add(lo, hi float64) {
	if hi <= lo {
		return
	}
	n := len(t.iv)
	switch {
	case n == 0 || lo > t.iv[n-1].hi+touchNs:
		t.iv = append(t.iv, interval{lo, hi})
	case lo >= t.iv[n-1].lo-touchNs:
		last := &t.iv[n-1]
		last.lo = earlier(last.lo, lo)
		last.hi = later(last.hi, hi)
	default:
		t.addInside(lo, hi)
	}
	t.end = t.iv[len(t.iv)-1].hi
}

// addInside is add for an interval that starts before the last one.
func (t *timeline) addInside(lo, hi float64) {
	n := len(t.iv)
	// First interval that ends at or after lo, and first that starts after
	// hi; both are usually near the end.
	iv := t.iv
	i := n - 1
	for i > 0 && iv[i-1].hi+touchNs >= lo && n-i < 8 {
		i--
	}
	if i > 0 && iv[i-1].hi+touchNs >= lo {
		i = sort.Search(n, func(j int) bool { return iv[j].hi+touchNs >= lo })
	}
	j := n
	for j > i && iv[j-1].lo-touchNs > hi && n-j < 8 {
		j--
	}
	if j > i && iv[j-1].lo-touchNs > hi {
		j = sort.Search(n, func(j int) bool { return iv[j].lo-touchNs > hi })
	}
	if i == j {
		t.iv = append(t.iv, interval{})
		copy(t.iv[i+1:], t.iv[i:])
		t.iv[i] = interval{lo, hi}
		return
	}
	merged := interval{earlier(lo, t.iv[i].lo), later(hi, t.iv[j-1].hi)}
	t.iv[i] = merged
	t.iv = append(t.iv[:i+1], t.iv[j:]...)
}

// prune forgets intervals that end before horizon, the earliest time any
// future request can be ready; it keeps the search short on long programs.
// The booked time (busy) stays; the union (total) of a pruned timeline is
// no longer known, so timelines that report it are never pruned.
func (t *timeline) prune(horizon float64) {
	if len(t.iv) < 64 {
		return
	}
	i := t.firstEndingAfter(math.Nextafter(horizon, math.Inf(-1))) // first with hi ≥ horizon
	if i > len(t.iv)/2 {
		t.iv = append(t.iv[:0], t.iv[i:]...)
		t.pruned = true
	}
}

// total returns the length of the union of the intervals of a timeline
// that was never pruned.
func (t *timeline) total() float64 {
	if t.pruned {
		panic("neuron: total of a pruned timeline")
	}
	s := t.folded
	for _, v := range t.iv {
		s += v.hi - v.lo
	}
	return s
}

// clone returns an independent copy.
func (t *timeline) clone() timeline {
	return timeline{iv: append([]interval(nil), t.iv...), end: t.end, busy: t.busy, folded: t.folded, pruned: t.pruned}
}

// fold drops the intervals ending before h, which no booking at or after h
// can meet (times are on the grid, so they end more than touchNs before
// h), and clips an interval running across h to start at h, keeping the
// length removed for total. For bookings at or after h nothing changes:
// a clipped interval still covers them, and still absorbs what it would
// have merged.
func (t *timeline) fold(h float64) {
	i := t.firstEndingAfter(math.Nextafter(h, math.Inf(-1))) // first with hi ≥ h
	for _, v := range t.iv[:i] {
		t.folded += v.hi - v.lo
	}
	if i > 0 {
		t.iv = append(t.iv[:0], t.iv[i:]...)
	}
	if len(t.iv) > 0 && t.iv[0].lo < h {
		t.folded += h - t.iv[0].lo
		t.iv[0].lo = h
	}
}
