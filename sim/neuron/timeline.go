package neuron

import "sort"

// interval is [lo, hi) in ns.
type interval struct{ lo, hi float64 }

// timeline is the busy time of one shared resource (a DMA engine, the HBM
// port, a descriptor generator): sorted, disjoint, non-touching intervals.
// Transfers become ready out of program order (a store waits for compute
// while later loads are ready at once), so a resource is booked by
// reservation: a transfer takes the earliest free gap at or after its ready
// time, as the hardware's round-robin over queues would let it.
type timeline struct {
	iv   []interval
	busy float64 // total reserved time
	gone float64 // length of the intervals prune dropped
}

// touchNs: gaps shorter than this are closed, so rounding does not
// fragment the timeline.
const touchNs = 1e-6

// find returns the earliest start ≥ ready of a free gap of length d.
func (t *timeline) find(ready, d float64) float64 {
	n := len(t.iv)
	if n == 0 || ready >= t.iv[n-1].hi {
		return ready
	}
	i := sort.Search(n, func(j int) bool { return t.iv[j].hi > ready })
	start := ready
	for ; i < n; i++ {
		if t.iv[i].lo-start >= d {
			return start
		}
		if t.iv[i].hi > start {
			start = t.iv[i].hi
		}
	}
	return start
}

// reserve books the earliest gap of length d at or after ready and returns
// its start.
func (t *timeline) reserve(ready, d float64) float64 {
	s := t.find(ready, d)
	t.add(s, s+d)
	t.busy += d
	return s
}

// add marks [lo, hi) busy, merging with the intervals it touches or
// overlaps (it may overlap them: add is also a union).
func (t *timeline) add(lo, hi float64) {
	if hi <= lo {
		return
	}
	n := len(t.iv)
	if n == 0 || lo > t.iv[n-1].hi+touchNs {
		t.iv = append(t.iv, interval{lo, hi})
		return
	}
	if lo >= t.iv[n-1].lo-touchNs {
		last := &t.iv[n-1]
		last.lo = min(last.lo, lo)
		last.hi = max(last.hi, hi)
		return
	}
	// First interval that ends at or after lo, and first that starts after hi.
	i := sort.Search(n, func(j int) bool { return t.iv[j].hi+touchNs >= lo })
	j := sort.Search(n, func(j int) bool { return t.iv[j].lo-touchNs > hi })
	if i == j {
		t.iv = append(t.iv, interval{})
		copy(t.iv[i+1:], t.iv[i:])
		t.iv[i] = interval{lo, hi}
		return
	}
	merged := interval{min(lo, t.iv[i].lo), max(hi, t.iv[j-1].hi)}
	t.iv[i] = merged
	t.iv = append(t.iv[:i+1], t.iv[j:]...)
}

// prune forgets intervals that end before horizon, the earliest time any
// future request can be ready; it keeps the search short on long programs.
func (t *timeline) prune(horizon float64) {
	if len(t.iv) < 64 {
		return
	}
	i := sort.Search(len(t.iv), func(j int) bool { return t.iv[j].hi >= horizon })
	if i > len(t.iv)/2 {
		for _, v := range t.iv[:i] {
			t.gone += v.hi - v.lo
		}
		t.iv = append(t.iv[:0], t.iv[i:]...)
	}
}

// total returns the length of the union of the intervals.
func (t *timeline) total() float64 {
	s := t.gone
	for _, v := range t.iv {
		s += v.hi - v.lo
	}
	return s
}

// clone returns an independent copy.
func (t *timeline) clone() timeline {
	return timeline{iv: append([]interval(nil), t.iv...), busy: t.busy, gone: t.gone}
}
