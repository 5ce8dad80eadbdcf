package neuron

import (
	"math"

	"github.com/trnsim/trnsim/isa"
)

// dmaState models the core's DMA (docs/hardware.md A §3.3): every dma_copy is
// split over the DMA engines by partition (8 partitions per engine), each
// engine's share is one transfer that occupies the engine for a fixed cost
// plus bytes at the engine's peak rate, transfers of one queue run in order
// on each engine, and all transfers touching HBM share the core's HBM
// bandwidth.
//
// Issue → (descriptor generation on one of the DGE instances) →
// semaphore-to-start latency → transfers on the engines. Only the engine
// and HBM time is occupancy; the latencies overlap other transfers.
type dmaState struct {
	c     *Config
	fixed float64 // DMAFixedNs
	// DGE descriptor time and semaphore-to-start latency, on the time grid
	dgeNs, startNs float64

	// eng[e] is engine e's busy time. While every transfer so far has
	// covered all engines equally (the common case: 128-partition tiles),
	// the engines are identical and only eng[0] and qeEnd[q][0] are kept.
	eng     []timeline
	uniform bool
	qeEnd   [maxQueues][maxDMAEngines]float64 // end of queue q's last transfer on engine e
	qIssue  [maxQueues]float64                // issue time of queue q's last instruction
	hbm     timeline
	dge     []timeline
	active  timeline // union of instruction spans: "DMA active"
	pruneIn int

	transfers int64 // engine transfers (an instruction is one per engine it covers)
	moved     int64 // bytes written by all DMA instructions
	instrs    int
}

func newDMA(c *Config) dmaState {
	return dmaState{c: c, fixed: c.DMAFixedNs(), eng: make([]timeline, c.DMAEngines), uniform: true,
		dge: make([]timeline, c.DGEInstances), dgeNs: onGrid(c.DGENs), startNs: onGrid(c.DMAStartLatencyNs)}
}

// run schedules one dma_copy on queue q whose data dependencies are met at
// ready, and returns when it was issued and when it completed.
func (d *dmaState) run(in *isa.Instr, q int, ready float64, o *operands) (issue, done float64) {
	c := d.c
	d.instrs++
	d.moved += o.dstBytes
	issue = later(d.qIssue[q], ready)
	d.qIssue[q] = issue

	d.pruneIn--
	if d.pruneIn <= 0 {
		d.pruneIn = 256
		d.prune()
	}
	t := d.startAt(issue)

	// Split by partition of the SBUF side (A §3.3: 8 partitions per engine).
	E, ppe := c.DMAEngines, c.DMAPartitionsPerEngine
	side := &in.Dst
	if side.Mem != isa.SBUF {
		side = &in.Src[0]
	}
	rowBytes := float64(freeElems(side) * side.DType.Size())
	start, parts := int(side.Start), int(side.Parts)
	even := side.Mem == isa.SBUF && start == 0 && parts == E*ppe
	if even && d.uniform {
		// The common case: a full-width tile while every engine is alike.
		dur := onGrid(d.fixed + float64(ppe)*rowBytes/c.DMAPeakBytesPerNs)
		s := d.eng[0].reserve(later(t, d.qeEnd[q][0]), dur)
		d.qeEnd[q][0] = s + dur
		d.transfers += int64(E)
		return issue, d.finish(in, o, issue, s, s+dur)
	}
	var counts [maxDMAEngines]int
	if even {
		// A full-width tile after the engines have diverged: every
		// engine moves its 8 partitions (A §3.3).
		for e := 0; e < E; e++ {
			counts[e] = ppe
		}
	} else {
		e0, e1 := 0, E-1
		if side.Mem == isa.SBUF {
			e0, e1 = start/ppe, min((start+parts-1)/ppe, E-1)
			for e := e0; e <= e1; e++ {
				counts[e] = min(start+parts, (e+1)*ppe) - max(start, e*ppe)
			}
		} else {
			// HBM to HBM: rows spread evenly.
			rows := max(parts, 1)
			for e := 0; e < E; e++ {
				counts[e] = rows / E
				if e < rows%E {
					counts[e]++
				}
			}
		}
		even = e0 == 0 && e1 == E-1
		for e := 1; even && e < E; e++ {
			even = counts[e] == counts[0]
		}
	}

	sMin, eMax := math.Inf(1), math.Inf(-1)
	if d.uniform && even {
		dur := onGrid(d.fixed + float64(counts[0])*rowBytes/c.DMAPeakBytesPerNs)
		s := d.eng[0].reserve(later(t, d.qeEnd[q][0]), dur)
		d.qeEnd[q][0] = s + dur
		sMin, eMax = s, s+dur
		d.transfers += int64(E)
	} else {
		if d.uniform {
			d.split()
		}
		for e := 0; e < E; e++ {
			if counts[e] == 0 {
				continue
			}
			dur := onGrid(d.fixed + float64(counts[e])*rowBytes/c.DMAPeakBytesPerNs)
			s := d.eng[e].reserve(later(t, d.qeEnd[q][e]), dur)
			d.qeEnd[q][e] = s + dur
			sMin, eMax = earlier(sMin, s), later(eMax, s+dur)
			d.transfers++
		}
		// A §3.3/§4.2: every engine writes a 4 B semaphore for every
		// transfer, moving data or not, and the core waits for all 16.
		// An engine writes it in its queue's order, after its earlier
		// transfers on the queue: the instruction completes no earlier
		// than those. The 4 B writes themselves take no modelled time.
		for e := 0; e < E; e++ {
			eMax = later(eMax, d.qeEnd[q][e])
		}
	}
	return issue, d.finish(in, o, issue, sMin, eMax)
}

// prune drops the engine, HBM and DGE bookings that end before the
// earliest queue's last issue: no later instruction can start before it.
func (d *dmaState) prune() {
	h := math.Inf(1)
	for i := 0; i < d.c.DMAQueues; i++ {
		h = min(h, d.qIssue[i])
	}
	for i := range d.eng {
		d.eng[i].prune(h)
	}
	d.hbm.prune(h)
	for i := range d.dge {
		d.dge[i].prune(h)
	}
}

// startAt returns when the engine transfers of an instruction issued at
// issue (ns) may start: after descriptor generation on the first free DGE
// instance, if the core has any, and the semaphore-to-start latency.
func (d *dmaState) startAt(issue float64) float64 {
	t := issue
	if len(d.dge) > 0 {
		// A §1.1 / §3.3: a hardware DGE spends ≈ 600 ns per DMA instruction.
		best, bs := 0, math.Inf(1)
		for k := range d.dge {
			if s := d.dge[k].find(t, d.dgeNs); s < bs {
				best, bs = k, s
				if s == t {
					break // no instance can start earlier
				}
			}
		}
		d.dge[best].book(bs, d.dgeNs)
		t = bs + d.dgeNs
	}
	return t + d.startNs
}

// finish books the transfer's HBM traffic, which starts with its first
// engine transfer at sMin, and its in-flight span from issue; it returns
// when the transfer completes (eMax: its last engine transfer, unless HBM
// finishes later).
func (d *dmaState) finish(in *isa.Instr, o *operands, issue, sMin, eMax float64) float64 {
	var hb int64
	if in.Src[0].Mem == isa.HBM {
		hb += o.srcBytes
	}
	if in.Dst.Mem == isa.HBM {
		hb += o.dstBytes
	}
	if hb > 0 {
		dur := onGrid(float64(hb) / d.c.HBMBytesPerNs)
		s := d.hbm.reserve(sMin, dur)
		eMax = later(eMax, s+dur)
	}
	d.active.add(issue, eMax)
	return eMax
}

// split gives every engine its own copy of the shared state, the first
// time a transfer covers the engines unequally.
func (d *dmaState) split() {
	for e := 1; e < len(d.eng); e++ {
		d.eng[e] = d.eng[0].clone()
		for q := range d.qeEnd {
			d.qeEnd[q][e] = d.qeEnd[q][0]
		}
	}
	d.uniform = false
}

// engineBusy returns the busy time of the busiest DMA engine.
func (d *dmaState) engineBusy() float64 {
	if d.uniform {
		return d.eng[0].busy
	}
	b := 0.0
	for i := range d.eng {
		b = max(b, d.eng[i].busy)
	}
	return b
}
