package gpu

import (
	"container/heap"
	"fmt"
	"math"
	"slices"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// lanesPerGroup is how many SMs one timeline lane of a Report stands for.
const lanesPerGroup = 16

// maxListCTAs is the largest non-uniform grid placed CTA by CTA.
const maxListCTAs = 1 << 18

// maxWaveSpans bounds the spans one kernel emits wave by wave; beyond it the
// kernel's waves are drawn as one span per lane.
const maxWaveSpans = 256

// Run times the kernels ks, launched back to back on one stream of cfg,
// and returns the report of the whole sequence.
func Run(cfg Config, ks []Kernel) (*sim.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("gpu.Run on %s: no kernels", cfg.Name)
	}
	nl := (cfg.SMs + lanesPerGroup - 1) / lanesPerGroup
	rep := &sim.Report{Target: cfg.Name, Clock: "sm"}
	for l := 0; l < nl; l++ {
		hi := min(cfg.SMs, (l+1)*lanesPerGroup) - 1
		rep.Lanes = append(rep.Lanes, fmt.Sprintf("sm%d-%d", l*lanesPerGroup, hi))
		rep.LaneGroups = append(rep.LaneGroups, "gpu")
	}
	var tot totals
	var cycles float64
	var spans []sim.Span // one kernel's, before they are stored
	for i := range ks {
		if err := checkKernel(&ks[i], cfg); err != nil {
			return nil, err
		}
		r := timeKernel(cfg, &ks[i])
		if r.occ == 0 {
			return nil, fmt.Errorf("kernel %s does not fit on a %s SM (%s)", ks[i].Name, cfg.Name, r.occWhy)
		}
		spans = r.emitSpans(slices.Grow(spans[:0], 1+len(r.waves)*3*r.nLanes+len(r.laneEnd)), int32(i), rep.TimeNs)
		// The kernel's first span is its launch, which moves nothing.
		spreadTraffic(spans[1:], r.tot)
		for k := range spans {
			rep.Spans.Append(&spans[k])
		}
		rep.TimeNs += r.timeNs
		cycles += r.timeNs * r.f
		rep.FLOPs += ks[i].FLOPs
		if rep.PeakFLOP == 0 && ks[i].UsesTensor() {
			rep.PeakFLOP = cfg.PeakFLOPs(ks[i].MMA.DType)
		}
		tot.add(r.tot)
	}
	if rep.PeakFLOP == 0 {
		rep.PeakFLOP = cfg.PeakFLOPs(isa.FP32)
	}
	rep.Cycles = int64(math.Round(cycles))
	if rep.TimeNs > 0 {
		rep.ClockGHz = cycles / rep.TimeNs
	}
	rep.Traffic[sim.LevelHBM] = sim.Traffic{Read: int64(tot.hbmRead), Write: int64(tot.hbmWrite)}
	rep.Traffic[sim.LevelL2] = sim.Traffic{Read: int64(tot.l2Read), Write: int64(tot.l2Write)}
	rep.Traffic[sim.LevelSBUF] = sim.Traffic{Read: int64(tot.smem)}
	pct := func(ns float64) float64 {
		if rep.TimeNs <= 0 {
			return 0
		}
		return ns / rep.TimeNs * 100
	}
	busy := []struct {
		name string
		ns   float64
	}{
		{"tensor_pipe", tot.tensorNs}, {"mufu", tot.mufuNs}, {"fp32", tot.fp32Ns},
		{"smem", tot.smemNs}, {"hbm", tot.hbmNs}, {"l2", tot.l2Ns},
	}
	bound, boundNs := "launch", tot.launchNs
	for _, b := range busy {
		rep.Engines = append(rep.Engines, sim.EngineStat{Name: b.name, BusyNs: b.ns, ActivePct: pct(b.ns), Instrs: tot.ctas})
		if b.ns > boundNs {
			bound, boundNs = b.name, b.ns
		}
	}
	// The compute pipes a CTA uses one after another (tensor, then MUFU,
	// then FP32; FP32 hidden under ping-pong) bound the run as one chain
	// when the chain is busier than any single resource: name its largest
	// part.
	if tot.chainNs > boundNs {
		boundNs = tot.chainNs
		bound = "tensor_pipe"
		if tot.mufuNs > tot.tensorNs && tot.mufuNs >= tot.fp32Ns {
			bound = "mufu"
		} else if tot.fp32Ns > tot.tensorNs && tot.fp32Ns > tot.mufuNs {
			bound = "fp32"
		}
	}
	if bound != "launch" && boundNs < 0.5*rep.TimeNs {
		// Nothing is busy half the time: the run waits on latencies
		// (pipeline fill, dependent loads, the tail wave).
		bound = "latency"
	}
	rep.Bound = bound
	hbmGBps := 0.0
	if rep.TimeNs > 0 {
		hbmGBps = (tot.hbmRead + tot.hbmWrite) / rep.TimeNs
	}
	rep.Metrics = []sim.Metric{
		{Name: "sm_occupancy_percent", Value: pct(tot.warpNs), Unit: "%"},
		{Name: "tensor_pipe_percent", Value: pct(tot.tensorNs), Unit: "%"},
		{Name: "mufu_percent", Value: pct(tot.mufuNs), Unit: "%"},
		{Name: "hbm_bandwidth_gbps", Value: hbmGBps, Unit: "GB/s"},
	}
	return rep, nil
}

// Time returns how long the kernels ks take on cfg, in nanoseconds: Run's
// TimeNs without building the report, for searches over configurations.
func Time(cfg Config, ks []Kernel) (float64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	if len(ks) == 0 {
		return 0, fmt.Errorf("gpu.Time on %s: no kernels", cfg.Name)
	}
	var t float64
	for i := range ks {
		if err := checkKernel(&ks[i], cfg); err != nil {
			return 0, err
		}
		r := timeKernel(cfg, &ks[i])
		if r.occ == 0 {
			return 0, fmt.Errorf("kernel %s does not fit on a %s SM (%s)", ks[i].Name, cfg.Name, r.occWhy)
		}
		t += r.timeNs
	}
	return t, nil
}

// totals accumulate a run's work. Busy times are SM-averaged: the time the
// resource would need at its full rate on every SM.
type totals struct {
	tensorNs, mufuNs, fp32Ns, smemNs, hbmNs, l2Ns, launchNs float64
	chainNs                                                 float64 // the compute chain (computeNs), SM-averaged
	hbmRead, hbmWrite, l2Read, l2Write, smem                float64
	warpNs                                                  float64 // ∫ resident warps dt / max warps of the GPU
	ctas                                                    int
}

func (t *totals) add(u totals) {
	t.tensorNs += u.tensorNs
	t.chainNs += u.chainNs
	t.mufuNs += u.mufuNs
	t.fp32Ns += u.fp32Ns
	t.smemNs += u.smemNs
	t.hbmNs += u.hbmNs
	t.l2Ns += u.l2Ns
	t.launchNs += u.launchNs
	t.hbmRead += u.hbmRead
	t.hbmWrite += u.hbmWrite
	t.l2Read += u.l2Read
	t.l2Write += u.l2Write
	t.smem += u.smem
	t.warpNs += u.warpNs
	t.ctas += u.ctas
}

// model holds what timing one kernel at one clock needs.
type model struct {
	cfg   Config
	k     *Kernel
	f     float64 // SM clock, GHz (cycles per ns)
	rate  float64 // tensor FLOP/clk/SM
	occ   int     // CTAs per SM
	n     int     // CTAs in the grid
	slots int     // occ × SMs
	latNs float64 // HBM latency
	bwHBM float64 // achievable HBM bytes/ns
	bwL2  float64 // L2 bytes/ns
	// hbmFrac[phase][load]: fraction of the load's bytes that come from
	// HBM (the rest hit in L2).
	hbmFrac [3][]float64
}

func (m *model) phases() [3]*Phase { return [3]*Phase{&m.k.Prologue, &m.k.Loop, &m.k.Epilogue} }

// kernelResult is one kernel's timing.
type kernelResult struct {
	occ    int
	occWhy string
	f      float64
	timeNs float64
	tot    totals
	// schedule, for spans
	launchNs, startNs float64
	waves             []wave
	laneEnd           []float64 // non-uniform grids: per lane, last CTA end (relative to startNs)
	name              string
	nLanes, sms       int
}

// wave is one wave of a uniform grid.
type wave struct {
	ctas            int
	pro, loop, epi  float64 // phase durations of its CTAs
	start, duration float64 // relative to the first CTA start
}

func newModel(cfg Config, k *Kernel, f float64) *model {
	m := &model{cfg: cfg, k: k, f: f}
	if k.UsesTensor() {
		m.rate, _ = cfg.tensorRate(k.MMA.Family, k.MMA.DType)
	}
	m.occ, _ = Occupancy(cfg, *k)
	m.n = k.CTAs()
	m.slots = m.occ * cfg.SMs
	m.latNs = cfg.HBMLatencyCycles / f
	m.bwHBM = cfg.HBMGBps * cfg.HBMEfficiency // GB/s = bytes/ns
	m.bwL2 = cfg.L2BytesPerClk * f
	m.l2Reuse()
	return m
}

// l2Reuse sets hbmFrac: sharers resident at the same time fetch a tile
// from HBM once; a kernel whose distinct reads fit in half the L2 reads
// each byte from HBM once (the other half holds outputs and lines of other
// partitions: the L2 is split in two [CNC], B §1.1) [I].
func (m *model) l2Reuse() {
	resident := min(m.n, m.slots)
	var l2, hbm float64
	for pi, ph := range m.phases() {
		m.hbmFrac[pi] = make([]float64, len(ph.Loads))
		for li, l := range ph.Loads {
			g := 1
			if l.Sharers > 1 {
				stride := max(1, l.Stride)
				g = min(l.Sharers, max(1, resident/stride))
			}
			g = max(g, max(1, l.Multicast))
			m.hbmFrac[pi][li] = 1 / float64(g)
		}
	}
	m.eachCTAWork(func(pi int, times float64) {
		for li, l := range m.phases()[pi].Loads {
			l2 += times * l.Bytes
			hbm += times * l.Bytes * m.hbmFrac[pi][li]
		}
	})
	u := m.k.UniqueReadBytes
	if u <= 0 || hbm <= 0 {
		return
	}
	target := math.Max(u, hbm)
	if u <= float64(m.cfg.L2Bytes)/2 {
		target = u
	}
	scale := target / hbm
	for pi := range m.hbmFrac {
		for li := range m.hbmFrac[pi] {
			l := m.phases()[pi].Loads[li]
			m.hbmFrac[pi][li] = math.Min(1/l.Receivers(), m.hbmFrac[pi][li]*scale)
		}
	}
}

// eachCTAWork calls fn(phase, times) with how many times each phase runs
// over the whole grid.
func (m *model) eachCTAWork(fn func(pi int, times float64)) {
	r := float64(m.k.Repeat())
	var ctas, iters float64
	for _, g := range m.k.Grid {
		ctas += float64(g.Count)
		iters += float64(g.Count) * float64(g.Iters)
	}
	fn(0, ctas*r)
	fn(1, iters*r)
	fn(2, ctas*r)
}

// computeNs is the time one CTA's compute warps need for phase p on an SM
// of their own. Without warp specialisation the phases' pipes are used one
// after another (each step waits for the previous: S, then exp, then P·V).
// With ping-pong warpgroups the FP32 work hides behind the other
// warpgroup's GEMM; MUFU and MMA still serialise when MMAs accumulate in
// registers (B §1.3), and overlap on tensor-memory devices.
func (m *model) computeNs(p *Phase) float64 {
	var tt float64
	if m.rate > 0 {
		tt = p.TensorFLOPs / m.rate / m.f
	}
	mu := p.MUFUOps / float64(m.cfg.MUFUPerClk) / m.f
	fp := p.FP32Ops / float64(m.cfg.FP32Lanes) / m.f
	if m.k.PingPong {
		base := tt + mu
		if !m.cfg.MMAAccumInRegisters {
			base = math.Max(tt, mu)
		}
		return math.Max(base, fp)
	}
	return tt + mu + fp
}

func (m *model) smemNs(p *Phase) float64 {
	return p.SmemBytes / float64(m.cfg.SmemBytesPerClk) / m.f
}

// memNs is the time `active` CTAs need to move phase pi's loads and stores
// through HBM and L2, sharing both among them.
func (m *model) memNs(pi int, active int) float64 {
	p := m.phases()[pi]
	var hbm, l2 float64
	for li, l := range p.Loads {
		l2 += l.Bytes / l.Receivers()
		hbm += l.Bytes * m.hbmFrac[pi][li]
	}
	hbm += p.StoreBytes
	l2 += p.StoreBytes
	a := float64(active)
	return math.Max(a*hbm/m.bwHBM, a*l2/m.bwL2)
}

// ctaNs returns the phase durations of one CTA that shares its SM with k-1
// others and the GPU's memory with active-1 others. steady: the CTA is in
// a wave after the first, started as an earlier CTA on its SM finished,
// so the other CTAs on the SM are mid-flight rather than starting with it.
func (m *model) ctaNs(k, active int, steady bool) (pro, iter, epi float64) {
	kk := float64(k)
	hidden := m.k.PrefetchesTiles()
	lat := m.latNs
	// Prologue: its loads and the main loop's first loads are issued
	// together. The CTAs of the first wave start together, so their
	// latency is exposed, unless the CTA is persistent and warp-specialised:
	// its producer warps load the next tile while the consumers finish
	// this one.
	pp := &m.k.Prologue
	var exposed float64
	if !hidden && (pp.LoadBytes() > 0 || m.k.Loop.LoadBytes() > 0) {
		exposed = lat
		if steady {
			exposed = lat * m.latencyUncovered(k)
		}
	}
	pro = exposed + after(m.memNs(0, active), math.Max(kk*m.computeNs(pp), kk*m.smemNs(pp)), k)

	lp := &m.k.Loop
	comp := m.computeNs(lp)
	mem := m.memNs(1, active)
	chain := comp
	if b := lp.LoadBytes(); b > 0 {
		// Little's law (B §1.2 latencies): a CTA with n iterations'
		// loads in flight gets them back a latency plus the wave's share
		// of the bandwidth after issuing them (the CTAs of a wave issue
		// together), so an iteration costs (lat + mem)/n; with less than
		// one iteration in flight (n < 1) the iteration's loads go out in
		// 1/n turns of lat + n·mem. Per SM this caps the bandwidth at
		// co-resident CTAs × bytes in flight / latency. The queue term
		// is the loaded latency: the unloaded latencies of B §1.2 alone
		// (bandwidth = min(share, in flight/latency), CTAs drifting apart)
		// would hide every load of a full grid, and predict FA2's split-KV
		// decode on A100 20% faster than Flash-Decoding measured it.
		n := m.loopInFlight() / b
		wait := lat/n + mem/math.Max(1, n)
		if m.k.Stages >= 2 {
			chain = math.Max(comp, wait)
		} else {
			chain = comp + wait
		}
	}
	iter = math.Max(math.Max(kk*comp, kk*m.smemNs(lp)), math.Max(mem, chain))

	ep := &m.k.Epilogue
	epi = after(math.Max(kk*m.computeNs(ep), kk*m.smemNs(ep)), m.memNs(2, active), k)
	return pro, iter, epi
}

// latencyUncovered returns the fraction of a later-wave CTA's prologue
// latency that stays exposed with k CTAs on its SM. Once the first wave
// has drifted apart, a CTA starts when another on its SM finishes, and its
// load latency overlaps the k-1 others' transfers. By Little's law (B §1.2
// latencies) an SM keeps its share of the HBM bandwidth busy through one
// latency when the bytes in flight cover share × latency; the k-1 others'
// prologue loads cover that fraction of the wait, the rest is exposed. A
// lone CTA per SM (k = 1) hides nothing.
func (m *model) latencyUncovered(k int) float64 {
	if k < 2 || m.latNs <= 0 {
		return 1
	}
	var inflight float64
	for li, l := range m.k.Prologue.Loads {
		inflight += l.Bytes * m.hbmFrac[0][li]
	}
	need := m.bwHBM / float64(m.cfg.SMs) * m.latNs // bytes per SM per latency
	return math.Max(0, 1-float64(k-1)*inflight/need)
}

// loopInFlight returns the bytes of main-loop loads one CTA keeps in
// flight: Stages−1 iterations' loads (one iteration's with one stage), or
// the kernel's declared LoadsInFlight when that is smaller.
func (m *model) loopInFlight() float64 {
	b := m.k.Loop.LoadBytes()
	if m.k.Stages >= 2 {
		b *= float64(m.k.Stages - 1)
	}
	if d := m.k.LoadsInFlight; d > 0 && d < b {
		return d
	}
	return b
}

// after is the time of a step b that depends on a step a in each of k
// co-resident CTAs: one after the other for a lone CTA; overlapped when
// other CTAs' a can run during one CTA's b.
func after(a, b float64, k int) float64 {
	if k >= 2 {
		return math.Max(a, b)
	}
	return a + b
}

// timeKernel times one kernel: at the tensor clock first, then again at
// the clock its tensor-pipe activity allows under the power limit.
func timeKernel(cfg Config, k *Kernel) kernelResult {
	f := cfg.BoostClockGHz
	if k.UsesTensor() {
		f = cfg.TensorClockGHz
	}
	r := timeAt(cfg, k, f)
	if k.UsesTensor() && r.occ > 0 && cfg.SustainedClockGHz < cfg.TensorClockGHz {
		span := r.timeNs - r.launchNs
		u := 0.0
		if span > 0 {
			u = math.Min(1, r.tot.tensorNs/span)
		}
		// Dynamic power is activity × C·V²·f, and voltage scales with the
		// clock, so power ∝ u·f³. The board holds the sustained clock at
		// full tensor activity (its power limit, B §1.5), so a kernel at
		// activity u may run up to sustained/∛u, capped at the tensor
		// clock [I].
		if u > 0 {
			if f2 := math.Min(cfg.TensorClockGHz, cfg.SustainedClockGHz/math.Cbrt(u)); f2 < f {
				r = timeAt(cfg, k, f2)
			}
		}
	}
	return r
}

func timeAt(cfg Config, k *Kernel, f float64) kernelResult {
	m := newModel(cfg, k, f)
	occ, why := Occupancy(cfg, *k)
	r := kernelResult{occ: occ, occWhy: why, f: f, name: k.Name, sms: cfg.SMs}
	r.nLanes = (cfg.SMs + lanesPerGroup - 1) / lanesPerGroup
	if occ == 0 {
		return r
	}
	r.launchNs = cfg.LaunchUs * 1e3
	// A persistent CTA whose producer warps prefetch pays its first tile's
	// load latency once.
	if k.PrefetchesTiles() {
		r.startNs = m.latNs
	}
	uniform := true
	for _, g := range k.Grid {
		if g.Iters != k.Grid[0].Iters {
			uniform = false
		}
	}
	var span float64
	var ctaNsSum float64 // Σ CTA durations, for occupancy
	if uniform {
		span, ctaNsSum = m.scheduleWaves(&r, k.Grid[0].Iters)
	} else {
		span, ctaNsSum = m.scheduleList(&r)
	}
	r.timeNs = r.launchNs + r.startNs + span

	// Work totals.
	t := &r.tot
	t.launchNs = r.launchNs
	t.ctas = m.n
	sms := float64(cfg.SMs)
	m.eachCTAWork(func(pi int, times float64) {
		p := m.phases()[pi]
		if m.rate > 0 {
			t.tensorNs += times * p.TensorFLOPs / m.rate / f / sms
		}
		t.mufuNs += times * p.MUFUOps / float64(cfg.MUFUPerClk) / f / sms
		t.fp32Ns += times * p.FP32Ops / float64(cfg.FP32Lanes) / f / sms
		t.smemNs += times * p.SmemBytes / float64(cfg.SmemBytesPerClk) / f / sms
		t.smem += times * p.SmemBytes
		t.chainNs += times * m.computeNs(p) / sms
		for li, l := range p.Loads {
			t.l2Read += times * l.Bytes / l.Receivers()
			t.hbmRead += times * l.Bytes * m.hbmFrac[pi][li]
		}
		t.l2Write += times * p.StoreBytes
		t.hbmWrite += times * p.StoreBytes
	})
	t.hbmNs = (t.hbmRead + t.hbmWrite) / m.bwHBM
	t.l2Ns = (t.l2Read + t.l2Write) / m.bwL2
	warps := float64((k.Threads + 31) / 32)
	t.warpNs = ctaNsSum * warps / (sms * float64(cfg.MaxWarpsSM))
	return r
}

// scheduleWaves runs a grid whose CTAs all iterate the same number of
// times: full waves of occ×SMs CTAs, then the tail wave, re-timed with the
// SMs and co-residency it actually has (CTAs are spread over SMs first).
func (m *model) scheduleWaves(r *kernelResult, iters int) (span, ctaNs float64) {
	full, tail := m.n/m.slots, m.n%m.slots
	add := func(ctas int, count int, steady bool) {
		k := (ctas + m.cfg.SMs - 1) / m.cfg.SMs
		pro, it, epi := m.ctaNs(k, ctas, steady)
		d := pro + float64(iters)*it + epi
		// One span per wave up to maxWaveSpans; the rest are drawn as one.
		each := min(count, max(0, maxWaveSpans-1-len(r.waves)))
		for i := 0; i < each; i++ {
			r.waves = append(r.waves, wave{ctas: ctas, pro: pro, loop: float64(iters) * it, epi: epi, start: span, duration: d})
			span += d
		}
		if rest := count - each; rest > 0 {
			all := float64(rest) * d
			r.waves = append(r.waves, wave{ctas: ctas, pro: pro, loop: all - pro - epi, epi: epi, start: span, duration: all})
			span += all
		}
		ctaNs += float64(ctas) * float64(count) * d
	}
	// The first wave starts together; later waves (the tail included)
	// start as CTAs of the wave before finish (see latencyUncovered).
	if full > 0 {
		add(m.slots, 1, false)
	}
	if full > 1 {
		add(m.slots, full-1, true)
	}
	if tail > 0 {
		add(tail, 1, full > 0)
	}
	return span, ctaNs
}

// scheduleList runs a grid whose CTAs differ in length (causal attention):
// each CTA, in launch order, starts on the slot that frees first, as the
// hardware block scheduler does. Durations are those of a full GPU.
func (m *model) scheduleList(r *kernelResult) (span, ctaNs float64) {
	active := min(m.n, m.slots)
	k := (active + m.cfg.SMs - 1) / m.cfg.SMs
	pro, it, epi := m.ctaNs(k, active, false)
	if m.n > maxListCTAs {
		// Too many CTAs to place one by one: the work spread evenly over
		// the slots plus half the longest CTA for the ragged end (between
		// the even spread and Graham's list-scheduling bound).
		var longest float64
		for _, g := range m.k.Grid {
			d := pro + float64(g.Iters)*it + epi
			ctaNs += float64(g.Count) * d
			longest = math.Max(longest, d)
		}
		ctaNs *= float64(m.k.Repeat())
		span = ctaNs/float64(m.slots) + longest/2
		r.laneEnd = make([]float64, r.nLanes)
		for l := range r.laneEnd {
			r.laneEnd[l] = span
		}
		return span, ctaNs
	}
	nslots := min(m.slots, m.n)
	h := make(slotHeap, nslots)
	for i := range h {
		h[i] = slot{id: i}
	}
	heap.Init(&h)
	for rep := 0; rep < m.k.Repeat(); rep++ {
		for _, g := range m.k.Grid {
			d := pro + float64(g.Iters)*it + epi
			for c := 0; c < g.Count; c++ {
				s := &h[0]
				s.end += d
				ctaNs += d
				heap.Fix(&h, 0)
			}
		}
	}
	r.laneEnd = make([]float64, r.nLanes)
	for _, s := range h {
		span = math.Max(span, s.end)
		lane := (s.id % m.cfg.SMs) / lanesPerGroup
		r.laneEnd[lane] = math.Max(r.laneEnd[lane], s.end)
	}
	return span, ctaNs
}

type slot struct {
	end float64
	id  int
}

// slotHeap orders slots by the time they free, then by id, so ties break
// the same way on every run.
type slotHeap []slot

func (h slotHeap) Len() int { return len(h) }
func (h slotHeap) Less(i, j int) bool {
	if h[i].end != h[j].end {
		return h[i].end < h[j].end
	}
	return h[i].id < h[j].id
}
func (h slotHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *slotHeap) Push(x any)   { *h = append(*h, x.(slot)) }
func (h *slotHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// spreadTraffic sets the bytes of one kernel's spans (launch excluded):
// its traffic at each level spread over them in proportion to their
// durations. The model times a CTA's phases, not its individual loads and
// stores, so a phase's share of the kernel's time is all it knows of the
// phase's share of its bytes. Bytes are the whole bytes Run reports.
func spreadTraffic(spans []sim.Span, t totals) {
	var ns float64
	for i := range spans {
		ns += spans[i].End - spans[i].Start
	}
	if ns <= 0 {
		return
	}
	var moved [sim.NumLevels]sim.SpanTraffic
	moved[sim.LevelHBM] = sim.SpanTraffic{Read: float64(int64(t.hbmRead)), Write: float64(int64(t.hbmWrite))}
	moved[sim.LevelL2] = sim.SpanTraffic{Read: float64(int64(t.l2Read)), Write: float64(int64(t.l2Write))}
	moved[sim.LevelSBUF] = sim.SpanTraffic{Read: float64(int64(t.smem))}
	for i := range spans {
		d := spans[i].End - spans[i].Start
		for l, m := range moved {
			spans[i].Bytes[l] = sim.SpanTraffic{Read: m.Read * d / ns, Write: m.Write * d / ns}
		}
	}
}

// emitSpans appends the kernel's spans, starting at t0, to spans and
// returns the result.
func (r *kernelResult) emitSpans(spans []sim.Span, idx int32, t0 float64) []sim.Span {
	spans = append(spans, sim.Span{Lane: 0, Instr: idx, Start: t0, End: t0 + r.launchNs, Op: r.name + "/launch", Site: sim.NoSite})
	base := t0 + r.launchNs + r.startNs
	if r.laneEnd != nil {
		for l, end := range r.laneEnd {
			if end > 0 {
				spans = append(spans, sim.Span{Lane: int32(l), Instr: idx, Start: base, End: base + end, Op: r.name + "/ctas", Site: sim.NoSite})
			}
		}
		return spans
	}
	for _, w := range r.waves {
		lanes := min(r.nLanes, (min(w.ctas, r.sms)+lanesPerGroup-1)/lanesPerGroup)
		for l := 0; l < lanes; l++ {
			s := base + w.start
			spans = append(spans,
				sim.Span{Lane: int32(l), Instr: idx, Start: s, End: s + w.pro, Op: r.name + "/prologue", Site: sim.NoSite},
				sim.Span{Lane: int32(l), Instr: idx, Start: s + w.pro, End: s + w.pro + w.loop, Op: r.name + "/mainloop", Site: sim.NoSite},
				sim.Span{Lane: int32(l), Instr: idx, Start: s + w.pro + w.loop, End: s + w.duration, Op: r.name + "/epilogue", Site: sim.NoSite},
			)
		}
	}
	return spans
}
