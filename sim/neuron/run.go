package neuron

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Lanes: the four compute engines, then the DMA queues.
const (
	laneTensor int8 = iota
	laneVector
	laneScalar
	laneGpSimd
	laneDMA0

	maxQueues     = 16
	maxDMAEngines = 32
)

var computeLaneNames = [laneDMA0]string{"tensor", "vector", "scalar", "gpsimd"}

// runner is the state of one replay.
type runner struct {
	p        *isa.Program // the stored program replayed; nil when streaming
	nTensors int          // HBM tensors declared so far
	c        Config
	tr       tracker
	th       throttle
	dm       dmaState

	ns      [laneDMA0]float64 // ns per cycle of each compute engine
	semNs   [laneDMA0]float64 // semaphore wait of each compute engine, on the time grid
	latNs   [laneDMA0]float64 // access latency of each compute engine, on the time grid
	actNs   float64           // ScalarE activation-table load, on the time grid
	free    [laneDMA0]float64 // when each compute engine may issue its next instruction
	busyEnd [laneDMA0]float64
	busy    [laneDMA0]float64
	instrs  [laneDMA0]int

	// TensorE: LoadStationary and MultiplyMoving pipeline.
	lsFree, mmStart, mmFree float64
	stat                    isa.AP
	statEnt                 []int32 // the tracker entries of stat
	statSeq                 uint32
	statValid               bool

	actTable int // ScalarE's loaded activation table, -1 none
	// NC-v2 shared access ports (A §1.3): SBUF for Vector and GpSimd, PSUM
	// for Vector and Scalar.
	sbufPort, psumPort timeline
	sbufBusy, psumBusy float64 // time each shared port was held
	parts              int     // partitions of the architecture

	traffic     [sim.NumLevels]sim.Traffic
	peAdj, mmFL float64 // PE FLOPs: all (BF16-equivalent), matmuls only (raw)
	peakDType   isa.DType
	havePeak    bool
	end         float64

	lanes     []string
	waitNames []string
	keep      *spanKeeper // the spans kept for a trace or profile; nil: none
	memo      memo
	o         operands // the current instruction's, reused

	// Fast-forward (ff.go): the tracker entries that existed when the
	// current loop iteration began (0 outside a loop), and whether an
	// iteration touched an HBM region of an earlier one.
	loopEntries  int32
	loopHBMReuse bool
}

// Run replays p on one NeuronCore configured by cfg and returns its
// timing. A program that breaks the generation's layout or capacity rules
// is an error, never a number: Run returns the error
// isa.Program.Validate would. It checks each instruction just before it
// times it, so a long program streams through the cache once, and checks
// nothing when isa.Builder.Program has already validated p for the same
// architecture (isa.Program.ValidatedFor). Run allocates no tensor data.
func Run(p *isa.Program, cfg Config) (*sim.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("neuron.Run: nil program")
	}
	arch := cfg.Arch()
	if p.ValidatedFor(arch) {
		return replay(p, cfg)
	}
	v, err := p.Validator(arch)
	if err != nil {
		return nil, err
	}
	r := newRunner(p, cfg)
	for i := range p.Instrs {
		if err := v.Check(i); err != nil {
			return nil, err
		}
		if err := r.step(i); err != nil {
			return nil, err
		}
	}
	return r.report(), nil
}

// replay times a program already validated for cfg's architecture.
func replay(p *isa.Program, cfg Config) (*sim.Report, error) {
	r := newRunner(p, cfg)
	for i := range p.Instrs {
		if err := r.step(i); err != nil {
			return nil, err
		}
	}
	return r.report(), nil
}

// newRunner starts a replay of the stored program p, keeping one span per
// instruction.
func newRunner(p *isa.Program, c Config) *runner {
	r := newTimer(c)
	r.p = p
	for i, d := range p.Tensors {
		r.addTensor(i, d)
	}
	r.keep = &spanKeeper{}
	return r
}

// newTimer starts a run with no tensors declared and no spans kept.
func newTimer(c Config) *runner {
	r := &runner{c: c, tr: newTracker(), th: newThrottle(c), actTable: -1, parts: c.Arch().Partitions}
	r.dm = newDMA(&r.c)
	r.ns = [laneDMA0]float64{1 / c.TensorGHz, 1 / c.VectorGHz, 1 / c.ScalarGHz, 1 / c.GpSimdGHz}
	for l, ns := range r.ns {
		r.semNs[l] = onGrid(float64(c.SemaphoreCycles) * ns)
		r.latNs[l] = onGrid(float64(c.AccessLatencyCycles) * ns)
	}
	r.actNs = onGrid(c.ActTableLoadNs)
	nl := int(laneDMA0) + c.DMAQueues
	r.lanes = make([]string, nl)
	r.waitNames = make([]string, nl)
	for i := range r.lanes {
		if i < int(laneDMA0) {
			r.lanes[i] = computeLaneNames[i]
		} else {
			r.lanes[i] = fmt.Sprintf("dma.q%d", i-int(laneDMA0))
		}
		r.waitNames[i] = "sem:" + r.lanes[i]
	}
	r.memo.sets = new([memoSets]memoSet)
	return r
}

// operands lists the tracker entries an instruction reads and writes; the
// matmul stationary's are the first nStat reads. It also holds the data
// dependencies of those entries, raised as addOperand adds each, so that
// the entries are visited once before the instruction is timed.
type operands struct {
	rd, wr             [16]int32
	nrd, nwr           int
	nStat              int
	lane               int8  // the lane the instruction runs on
	toStat             bool  // reads being added are the matmul stationary's
	all, stat          dep   // dependencies of the entries added, as tracker.deps returns them
	srcBytes, dstBytes int64 // bytes of Src[0] and Dst
	wide               bool  // a source or Dst has a wide stride (Config.anyWide)
	extra              dep   // a dependency beyond the entries
	coarseRead         int32 // HBM tensor read without tracking, or -1
}

// rw is how an instruction uses an operand: read, written or both.
type rw uint8

const (
	accRead      rw = 1 << iota // read
	accWrite                    // written
	accReadWrite = accRead | accWrite
)

// addOperand checks a used operand, counts its traffic and records the
// tracker entries of the regions it touches, as read, written or both. It
// returns the operand's bytes. It looks the pattern up in the memo (see
// memo) itself: one call less per operand on the hot path.
func (r *runner) addOperand(o *operands, a *isa.AP, acc rw) (int64, error) {
	if a.Mem == isa.HBM && acc != accReadWrite {
		if n, ok := r.coarseOperand(o, a, acc == accWrite); ok {
			return n, nil
		}
	}
	k := memoSetOf(a)
	set := &r.memo.sets[k]
	w := r.memo.mru[k] & 1
	var m *memoVal
	switch {
	case sameWords(&set.key[w], a):
		m = &set.val[w]
	case sameWords(&set.key[w^1], a):
		r.memo.mru[k] = w ^ 1
		m = &set.val[w^1]
	default:
		var err error
		if m, err = r.memoMiss(k, a); err != nil {
			return 0, err
		}
	}
	// The entries are appended to the reads or the writes (a list keeps
	// at most 16: no instruction touches more regions) and o's
	// dependencies raised to theirs, as tracker.deps would over the
	// finished lists. That is exact: gather adds every read before every
	// write, in the order deps visits them, so ties resolve alike; and
	// no operand added later may change an earlier entry's dependency: a
	// memo miss may create entries and link them to earlier ones, but a
	// new entry has no accesses, and raising to it changes nothing.
	t := &r.tr
	ents := t.entries
	if a.Mem == isa.HBM {
		for _, x := range m.idx[:m.n] {
			// An HBM region an earlier loop iteration touched: the
			// loop breaks fast-forward's contract (see ff.go).
			r.loopHBMReuse = r.loopHBMReuse || x < r.loopEntries
		}
	}
	if acc&accRead != 0 {
		r.traffic[m.level].Read += m.bytes
		d := &o.all
		if o.toStat {
			d = &o.stat
		}
		for _, x := range m.idx[:m.n] {
			if o.nrd < len(o.rd) {
				o.rd[o.nrd] = x
				o.nrd++
				e := &ents[x]
				readDepOne(e, o.lane, d)
				if e.overlapped {
					for _, j := range t.adj[x] {
						readDepOne(&ents[j], o.lane, d)
					}
				}
			}
		}
	}
	if acc&accWrite != 0 {
		r.traffic[m.level].Write += m.bytes
		for _, x := range m.idx[:m.n] {
			if o.nwr < len(o.wr) {
				o.wr[o.nwr] = x
				o.nwr++
				e := &ents[x]
				writeDepOne(e, o.lane, &o.all)
				if e.overlapped {
					for _, j := range t.adj[x] {
						writeDepOne(&ents[j], o.lane, &o.all)
					}
				}
			}
		}
	}
	o.wide = o.wide || m.wide
	return m.bytes, nil
}

// coarseOperand handles an HBM operand of a declared tensor outside the
// memo: a read of a tensor nothing has written yet is counted and not
// tracked (ok: it returns the bytes); the first write starts tracking the
// tensor by region.
func (r *runner) coarseOperand(o *operands, a *isa.AP, write bool) (n int64, ok bool) {
	t := a.Tensor
	if t < 0 || int(t) >= r.nTensors {
		return 0, false
	}
	if write {
		// Tensors are tracked by region from their first write on
		// (inputs, never written, never are); every write also waits
		// for the untracked reads made before.
		r.tr.tracked[t] = true
		o.extra.raise(r.tr.coarse[t].t, r.tr.coarse[t].lane)
		return 0, false
	}
	if r.tr.tracked[t] {
		return 0, false
	}
	n = apBytes(a)
	r.traffic[sim.LevelHBM].Read += n
	o.coarseRead = int32(t)
	return n, true
}

// sameAP reports whether two access patterns are identical.
func sameAP(a, b *isa.AP) bool {
	if a.Offset != b.Offset || a.Start != b.Start || a.Parts != b.Parts || a.NFree != b.NFree ||
		a.Mem != b.Mem || a.DType != b.DType || a.Tensor != b.Tensor || a.PStride != b.PStride {
		return false
	}
	for i := 0; i < int(a.NFree); i++ {
		if a.Free[i] != b.Free[i] {
			return false
		}
	}
	return true
}

// addTensor declares HBM tensor i (the next one) to the dependency
// tracker.
func (r *runner) addTensor(i int, d isa.TensorDecl) {
	r.tr.addTensor(d)
	r.nTensors = i + 1
}

// step times stored instruction i and fills its span.
func (r *runner) step(i int) error {
	in := &r.p.Instrs[i]
	moved := r.traffic // what this instruction moves is the difference
	lane, start, end, waited, err := r.time(i, in)
	if err != nil {
		return err
	}
	site := sim.NoSite
	if in.Site >= 0 && int(in.Site) < len(r.p.Sites) {
		site = in.Site
	}
	r.record(i, in, lane, start, end, waited, site, &moved)
	return nil
}

// time times instruction i, in, and returns the lane it ran on, when it
// started and ended (ns) and what it waited for.
func (r *runner) time(i int, in *isa.Instr) (lane int8, start, end float64, waited string, err error) {
	switch {
	case in.Engine < isa.DMA:
		lane = int8(in.Engine)
	case in.Engine == isa.DMA:
		q := int(in.Queue)
		if q >= r.c.DMAQueues {
			q %= r.c.DMAQueues
		}
		lane = laneDMA0 + int8(q)
	default:
		return 0, 0, 0, "", fmt.Errorf("instruction %d (%s): unknown engine %d", i, in.Op, in.Engine)
	}
	o := &r.o
	if e := r.gather(in, lane); e != nil {
		return 0, 0, 0, "", fmt.Errorf("instruction %d (%s): %w", i, in.Op, e)
	}
	all, statDep := o.all, o.stat
	all.raise(o.extra.t, o.extra.lane)

	var done float64
	switch {
	case lane == laneTensor:
		start, end, done, waited = r.tensor(in, o.rd[:o.nStat], statDep, all)
	case lane < laneDMA0:
		all.raise(statDep.t, statDep.lane)
		start, end, done, waited = r.compute(in, lane, all)
	default:
		all.raise(statDep.t, statDep.lane)
		q := int(lane - laneDMA0)
		if all.t > r.dm.qIssue[q] {
			waited = r.waitNames[all.lane]
		}
		start, done = r.dm.run(in, q, later(all.t, 0), o)
		end = done
	}

	for k := 0; k < o.nrd; k++ {
		r.tr.recordRead(o.rd[k], done, lane)
	}
	for k := 0; k < o.nwr; k++ {
		r.tr.recordWrite(o.wr[k], done, lane)
	}
	if t := o.coarseRead; t >= 0 {
		r.tr.coarse[t].raise(done, lane)
	}
	r.end = later(r.end, done)
	return lane, start, end, waited, nil
}

// gather fills r.o with the operands of in, run on lane, reads first,
// then writes, with their dependencies (o.all and o.stat, but for
// o.extra), and counts the bytes each moves in r.traffic. A matmul's
// stationary entries come first among the reads (o.nStat of them); an
// accumulating matmul reads its destination as well as writing it. Every
// operand is gathered even after one fails; the last failure is returned.
func (r *runner) gather(in *isa.Instr, lane int8) (err error) {
	o := &r.o
	// The entry lists are not cleared: only their first nrd and nwr
	// entries are read.
	o.nrd, o.nwr, o.nStat, o.srcBytes, o.dstBytes = 0, 0, 0, 0, 0
	none := dep{t: math.Inf(-1), lane: -1}
	o.extra, o.coarseRead, o.wide = none, -1, false
	o.all, o.stat, o.lane = none, none, lane
	// Unused slots are skipped here rather than in addOperand: most
	// instructions leave two or three of the five empty.
	if used(&in.Src[0]) {
		o.toStat = in.Op == isa.OpMatmul
		n, e := r.addOperand(o, &in.Src[0], accRead)
		o.toStat = false
		o.srcBytes = n
		if in.Op == isa.OpMatmul {
			o.nStat = o.nrd
		}
		if e != nil {
			err = e
		}
	}
	if used(&in.Src[1]) {
		if _, e := r.addOperand(o, &in.Src[1], accRead); e != nil {
			err = e
		}
	}
	if used(&in.Src[2]) {
		if _, e := r.addOperand(o, &in.Src[2], accRead); e != nil {
			err = e
		}
	}
	if used(&in.Dst) {
		acc := accWrite
		if in.Op == isa.OpMatmul && in.Accumulate {
			if in.Dst.Mem == isa.HBM {
				// A read that may start the tensor's tracking by
				// region, then the write.
				if _, e := r.addOperand(o, &in.Dst, accRead); e != nil {
					err = e
				}
			} else {
				acc = accReadWrite // one memo lookup serves both
			}
		}
		n, e := r.addOperand(o, &in.Dst, acc)
		o.dstBytes = n
		if e != nil {
			err = e
		}
	}
	if used(&in.Red) {
		// The reduction's stride costs nothing (stridePenalty).
		wide := o.wide
		if _, e := r.addOperand(o, &in.Red, accWrite); e != nil {
			err = e
		}
		o.wide = wide
	}
	return err
}

// addBusy accumulates the union of an engine's busy segments, which arrive
// in start order.
func (r *runner) addBusy(lane int8, s, e float64) {
	if e > r.busyEnd[lane] {
		r.busy[lane] += e - later(s, r.busyEnd[lane])
		r.busyEnd[lane] = e
	}
}

// compute schedules a Vector, Scalar or GpSimd instruction: in order on
// its engine, after its producers completed plus a semaphore wait.
func (r *runner) compute(in *isa.Instr, lane int8, d dep) (start, end, done float64, waited string) {
	c := &r.c
	ns := r.ns[lane]
	start = r.free[lane]
	if d.lane >= 0 {
		if t := d.t + r.semNs[lane]; t > start {
			start, waited = t, r.waitNames[d.lane]
		}
	}
	if lane == laneScalar && in.Op == isa.OpActivation {
		// A §3.2 activation-table switch: the load is hoisted into the
		// engine's idle time before the instruction.
		if tb := actTable(in.Act); tb != r.actTable {
			ls := r.free[lane]
			if t := ls + r.actNs; t > start {
				start, waited = t, "act_table_load"
			}
			r.addBusy(lane, ls, ls+r.actNs)
			r.actTable = tb
		}
	}
	ii := onGrid(c.engineCyclesWide(in, r.o.wide) * ns)
	if p1, p2 := r.sharedPorts(in, lane); p1 != nil {
		// The earliest time every port the instruction needs is free
		// for its whole interval.
		s := start
		for {
			s1 := p1.find(s, ii)
			s2 := s1
			if p2 != nil {
				s2 = p2.find(s1, ii)
			}
			if s2 == s1 {
				s = s1
				break
			}
			s = s2
		}
		if s > start {
			start, waited = s, "port"
		}
		p1.add(start, start+ii)
		r.holdPort(p1, ii)
		if p2 != nil {
			p2.add(start, start+ii)
			r.holdPort(p2, ii)
		}
	}
	end = start + ii
	done = end + r.latNs[lane]
	r.free[lane] = end
	r.addBusy(lane, start, end)
	r.instrs[lane]++
	return start, end, done, waited
}

// holdPort counts d ns of use of shared port p.
func (r *runner) holdPort(p *timeline, d float64) {
	if p == &r.psumPort {
		r.psumBusy += d
	} else {
		r.sbufBusy += d
	}
}

// sharedPorts returns the NC-v2 access ports (A §1.3) an instruction must
// hold alone: none, one or two.
func (r *runner) sharedPorts(in *isa.Instr, lane int8) (p1, p2 *timeline) {
	c := &r.c
	if !c.SharedPSUMVectorScalar && !c.SharedSBUFVectorGpSimd {
		return nil, nil
	}
	uses := func(m isa.Memory) bool {
		if in.Dst.Mem == m || in.Red.Mem == m {
			return true
		}
		for i := range in.Src {
			if in.Src[i].Mem == m {
				return true
			}
		}
		return false
	}
	var ports []*timeline
	if c.SharedPSUMVectorScalar && (lane == laneVector || lane == laneScalar) && uses(isa.PSUM) {
		r.psumPort.prune(min(r.free[laneVector], r.free[laneScalar]))
		ports = append(ports, &r.psumPort)
	}
	if c.SharedSBUFVectorGpSimd && (lane == laneVector || lane == laneGpSimd) && uses(isa.SBUF) {
		r.sbufPort.prune(min(r.free[laneVector], r.free[laneGpSimd]))
		ports = append(ports, &r.sbufPort)
	}
	switch len(ports) {
	case 0:
		return nil, nil
	case 1:
		return ports[0], nil
	}
	return ports[0], ports[1]
}

// tensor schedules a TensorE instruction. A matmul is LoadStationary (LS)
// then MultiplyMoving (MM) (A §3.1): LS runs in the background during the
// previous MM and is skipped when the same stationary is reused
// back-to-back; MM issues every II = max(MIN_II, N_moving) cycles (×4 for
// fp32), slowed by the power throttle.
func (r *runner) tensor(in *isa.Instr, stat []int32, statDep, d dep) (start, end, done float64, waited string) {
	c := &r.c
	ns := r.ns[laneTensor]
	sem := r.semNs[laneTensor]
	start = r.mmFree
	if d.lane >= 0 && d.t+sem > start {
		start, waited = d.t+sem, r.waitNames[d.lane]
	}
	spanStart := math.Inf(1)
	var mm float64 // MM cycles at full speed
	if in.Op == isa.OpMatmul {
		k, m, n := matmulShape(in)
		passes := float64(c.matmulPasses(in))
		mm = float64(max(c.TensorMinIICycles, n)) * passes
		// The loaded stationary is reused if it is the same pattern and
		// nothing wrote it since it was loaded.
		seq := r.tr.writeSeq(stat)
		reuse := r.statValid && seq == r.statSeq && sameAP(&in.Src[0], &r.stat)
		if !reuse {
			ls := onGrid(math.Ceil(float64(m)/float64(c.LoadStationaryColsPerCycle)) * passes * ns)
			lsStart := later(r.lsFree, r.mmStart)
			if statDep.lane >= 0 && statDep.t+sem > lsStart {
				lsStart = statDep.t + sem
				if lsStart+ls > start {
					waited = r.waitNames[statDep.lane]
				}
			}
			r.statEnt = append(r.statEnt[:0], stat...)
			r.lsFree = lsStart + ls
			start = later(start, r.lsFree)
			spanStart = later(lsStart, r.mmFree)
			r.addBusy(laneTensor, lsStart, lsStart+ls)
		} else if statDep.lane >= 0 && statDep.t+sem > start {
			start, waited = statDep.t+sem, r.waitNames[statDep.lane]
		}
		r.stat, r.statValid, r.statSeq = in.Src[0], len(stat) > 0, seq
		fl := 2 * float64(k) * float64(m) * float64(n)
		r.mmFL += fl
		adj := fl * passes
		if in.DoubleRow {
			adj /= 2 // A §4.3 adjusted_flops: FP8 ×0.5 on Trn2/3
		}
		r.peAdj += adj
		if !r.havePeak {
			r.peakDType, r.havePeak = in.Src[0].DType, true
		}
	} else {
		// A §3.1 nc_transpose: max(P, min(64, F)) cycles back-to-back; the
		// identity it multiplies by replaces the loaded stationary.
		p, f := int(in.Src[0].Parts), freeElems(&in.Src[0])
		passes := 1.0
		if in.Src[0].DType == isa.FP32 {
			passes = float64(c.FP32TransposePasses)
		}
		mm = float64(max(p, min(64, f))) * passes
		r.statValid = false
		fl := 2 * float64(p) * float64(f) * float64(p)
		r.peAdj += fl * passes
	}
	dur := r.th.run(start, onGrid(mm*ns))
	end = start + dur
	r.mmStart, r.mmFree = start, end
	done = end + r.latNs[laneTensor]
	r.addBusy(laneTensor, start, end)
	r.instrs[laneTensor]++
	return earlier(spanStart, start), end, done, waited
}

func (r *runner) report() *sim.Report {
	c := &r.c
	T := r.end
	rep := &sim.Report{
		Target: c.Name, TimeNs: T, Cycles: int64(math.Round(T * c.TensorGHz)), Clock: "tensor", ClockGHz: c.TensorGHz,
		FLOPs: r.mmFL, Traffic: r.traffic, Lanes: r.lanes,
		LaneGroups: r.laneGroups(),
	}
	if r.keep != nil {
		rep.Spans = r.keep.spans
	}
	if r.p != nil { // a stored program; a Stream has no spans to resolve
		rep.Program, rep.Sources = r.p.Name, Sources(r.p)
	}
	if r.havePeak {
		rep.PeakFLOP = c.PeakFLOPs(r.peakDType)
	}
	pct := func(x float64) float64 {
		if T <= 0 {
			return 0
		}
		return x / T * 100
	}
	for l := laneTensor; l < laneDMA0; l++ {
		rep.Engines = append(rep.Engines, sim.EngineStat{Name: computeLaneNames[l], BusyNs: r.busy[l], ActivePct: pct(r.busy[l]), Instrs: r.instrs[l]})
	}
	dmaActive := r.dm.active.total()
	rep.Engines = append(rep.Engines, sim.EngineStat{Name: "dma", BusyNs: dmaActive, ActivePct: pct(dmaActive), Instrs: r.dm.instrs})
	// A §1.3 NC-v2 shared access ports, listed where the config shares
	// them, so a port named as the bound has its statistics beside it.
	if c.SharedPSUMVectorScalar {
		rep.Engines = append(rep.Engines, sim.EngineStat{Name: "psum_port", BusyNs: r.psumBusy, ActivePct: pct(r.psumBusy)})
	}
	if c.SharedSBUFVectorGpSimd {
		rep.Engines = append(rep.Engines, sim.EngineStat{Name: "sbuf_port", BusyNs: r.sbufBusy, ActivePct: pct(r.sbufBusy)})
	}
	rep.Bound = r.bound()

	peak := 2 * float64(c.PERows) * float64(c.PECols) * c.TensorGHz // FLOP/ns
	hbm := float64(r.traffic[sim.LevelHBM].Read + r.traffic[sim.LevelHBM].Write)
	avgDMA := 0.0
	if r.dm.transfers > 0 {
		avgDMA = float64(r.dm.moved) / float64(r.dm.transfers)
	}
	rep.Metrics = []sim.Metric{
		{Name: "hfu_estimated_percent", Value: pct(r.peAdj / peak), Unit: "%"},
		{Name: "mfu_estimated_percent", Value: rep.PctPeak(), Unit: "%"},
		{Name: "mbu_estimated_percent", Value: pct(hbm / c.HBMBytesPerNs), Unit: "%"},
		{Name: "average_dma_size", Value: avgDMA, Unit: "bytes"},
		{Name: "throttle_time_percent", Value: pct(r.th.throttledNs), Unit: "%"},
		{Name: "dma_engine_busy_percent", Value: pct(r.dm.engineBusy()), Unit: "%"},
		{Name: "hbm_busy_percent", Value: pct(r.dm.hbm.busy), Unit: "%"},
		// A §1.3 NC-v2 shared access ports: zero where they are not shared.
		{Name: "psum_port_busy_percent", Value: pct(r.psumBusy), Unit: "%"},
		{Name: "sbuf_port_busy_percent", Value: pct(r.sbufBusy), Unit: "%"},
	}
	return rep
}

// laneGroups names the engine of each lane: the compute engines, then
// "dma" for every queue.
func (r *runner) laneGroups() []string {
	g := make([]string, len(r.lanes))
	for i := range g {
		if i < int(laneDMA0) {
			g[i] = computeLaneNames[i]
		} else {
			g[i] = isa.DMA.String()
		}
	}
	return g
}

// bound names the resource that bounds the run: the compute engine with
// the largest busy time, unless the DMA side is busier. The DMA side's
// busy time is that of its busiest engine ("dma") or of the core's HBM
// share ("hbm"), whichever is larger. In-flight DMA time ("DMA active")
// is not used: it includes the trigger latencies that queued transfers
// overlap, and so is near 100% whenever loads are issued ahead.
func (r *runner) bound() string {
	name, best := "", 0.0
	for l := laneTensor; l < laneDMA0; l++ {
		if r.busy[l] > best {
			name, best = computeLaneNames[l], r.busy[l]
		}
	}
	// NC-v2's shared access ports (A §1.3) bound a run when two engines
	// queue for one port longer than any engine computes.
	for _, port := range []struct {
		name string
		busy float64
	}{{"psum_port", r.psumBusy}, {"sbuf_port", r.sbufBusy}} {
		if port.busy > best {
			name, best = port.name, port.busy
		}
	}
	eng, hbm := r.dm.engineBusy(), r.dm.hbm.busy
	if max(eng, hbm) > best {
		if hbm >= eng {
			return "hbm"
		}
		return "dma"
	}
	if name == "" {
		return "tensor"
	}
	return name
}
