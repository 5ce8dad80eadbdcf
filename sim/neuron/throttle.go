package neuron

import "math"

// throttle is the Trn2/Trn3 TensorE power limit (docs/hardware.md A §3.1): when
// work begins after idle, the array runs at rate r0 of full speed and ramps
// linearly to full speed over ramp ns; the limit re-engages when the
// engine's utilisation over the last window ns falls below util.
type throttle struct {
	on                     bool
	r0, ramp, window, util float64
	rampStart, rampEnd     float64
	hist                   []interval // TensorE busy intervals inside the window, oldest first
	head                   int
	histSum                float64 // total length of hist[head:]
	lastEnd                float64
	throttledNs            float64 // busy time spent under the limit
	started                bool
}

func newThrottle(c Config) throttle {
	return throttle{on: c.Throttle && c.ThrottleRate < 1 && c.ThrottleRampNs > 0,
		r0: c.ThrottleRate, ramp: onGrid(c.ThrottleRampNs), window: onGrid(c.ThrottleWindowNs), util: c.ThrottleUtil,
		rampStart: math.Inf(-1), rampEnd: math.Inf(-1)}
}

// run returns the time an instruction needing d ns at full speed takes
// when it starts at s, and records it as busy.
func (t *throttle) run(s, d float64) float64 {
	if !t.on {
		return d
	}
	if s >= t.rampEnd && (!t.started || s-t.lastEnd >= t.window || t.busyIn(s)/t.window < t.util) {
		t.rampStart, t.rampEnd = s, s+t.ramp
	}
	t.started = true
	e := rampEnd(s, d, t.rampStart, t.r0, t.ramp)
	if s < t.rampEnd {
		t.throttledNs += min(e, t.rampEnd) - s
	}
	t.record(s, e)
	return e - s
}

// rampEnd returns the end of d ns of full-speed work started at s under a
// limit that rises linearly from r0 at rs to 1 at rs+ramp: the e with
// ∫ₛᵉ r(t) dt = d. The time taken, e − s, is computed from differences of
// times only and rounded to the time grid (gridPerNs), so it does not
// depend on where in time s lies.
func rampEnd(s, d, rs, r0, ramp float64) float64 {
	re := rs + ramp
	if s >= re {
		return s + d
	}
	b := (1 - r0) / ramp // slope of the limit, 1/ns
	rs0 := r0 + b*(s-rs) // limit at s
	left := re - s       // ramp time left at s
	work := left * (rs0 + 1) / 2
	if d > work {
		return s + onGrid(left+(d-work))
	}
	// rs0·x + b·x²/2 = d
	return s + onGrid((math.Sqrt(rs0*rs0+2*b*d)-rs0)/b)
}

// busyIn returns TensorE busy time in [s−window, s].
func (t *throttle) busyIn(s float64) float64 {
	w0 := s - t.window
	for t.head < len(t.hist) && t.hist[t.head].hi <= w0 {
		t.histSum -= t.hist[t.head].hi - t.hist[t.head].lo
		t.head++
	}
	busy := t.histSum
	if t.head < len(t.hist) && t.hist[t.head].lo < w0 {
		busy -= w0 - t.hist[t.head].lo
	}
	return busy
}

func (t *throttle) record(s, e float64) {
	if t.head > 1024 && t.head > len(t.hist)/2 {
		t.hist = append(t.hist[:0], t.hist[t.head:]...)
		t.head = 0
	}
	if n := len(t.hist); n > t.head && s <= t.hist[n-1].hi+touchNs {
		t.histSum += e - t.hist[n-1].hi
		t.hist[n-1].hi = e
	} else {
		t.hist = append(t.hist, interval{s, e})
		t.histSum += e - s
	}
	t.lastEnd = e
}
