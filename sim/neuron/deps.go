package neuron

import (
	"math"

	"github.com/trnsim/trnsim/isa"
)

// region is the bounding rectangle an access pattern touches: rows are
// partitions (SBUF, PSUM) or rows of the tensor's last dimension (HBM);
// columns are bytes within a partition (SBUF, PSUM) or elements within a
// row (HBM). Space 0 is SBUF, 1 PSUM, 2+t HBM tensor t.
type region struct {
	space  int32
	r0, r1 int32
	c0, c1 int32
}

// mkRegion builds a region from 64-bit bounds; one beyond int32 becomes
// the whole space, which is conservative.
func mkRegion(sp, r0, r1, c0, c1 int64) region {
	const lim = math.MaxInt32
	if r0 < -lim || r1 > lim || c0 < -lim || c1 > lim {
		return region{int32(sp), -lim, lim, -lim, lim}
	}
	return region{int32(sp), int32(r0), int32(r1), int32(c0), int32(c1)}
}

func (a region) overlaps(b region) bool {
	return a.space == b.space && a.r0 < b.r1 && b.r0 < a.r1 && a.c0 < b.c1 && b.c0 < a.c1
}

// access is what the tracker remembers about one region: the completion
// time and lane of its last writer and the latest completion among its
// readers (and among readers other than TensorE). It is the part of an
// entry every instruction reads and updates, kept to 32 bytes so that two
// share a cache line; the region itself and its overlap list live beside
// it (tracker.regs, tracker.adj).
type access struct {
	wEnd         float64
	rEnd, rEndNT float64
	wSeq         uint32 // bumped on every write to this region or one overlapping it
	wLane        int8
	rLane        int8
	rLaneNT      int8
	overlapped   bool // adj is not empty
}

// tracker finds the data dependencies of each instruction in time
// near-linear in program length. Kernels reuse a few tiles at fixed
// offsets, so each distinct region is stored once (hash on the exact
// rectangle) together with the list of stored regions overlapping it,
// found once when the region is first seen (through a coarse grid).
//
// Keeping only the latest write and read times per region is exact, not an
// approximation: a dependency on a stale entry (bytes since overwritten)
// never binds, because the later writer of those bytes itself waited for
// that entry and so completes after it (RAW, WAR and WAW all order
// completions).
type tracker struct {
	entries []access  // per entry: its last accesses
	onChip  []int32   // the entries of SBUF and PSUM regions, in creation order
	regs    []region  // per entry: its region
	adj     [][]int32 // per entry: the other entries whose regions overlap it
	table   []int32   // open addressing: entry index + 1, 0 = empty
	grid    map[int64][]int32
	rowLen  []int64 // per HBM tensor: length of its last dimension
	tracked []bool  // per HBM tensor: written by an instruction so far
	// coarse[t] is the latest completion among reads of HBM tensor t made
	// before anything wrote it: such reads are not tracked by region, and
	// every write to t waits for them.
	coarse []dep
}

const (
	sbufCell = 1024 // bytes per grid cell along a partition
	hbmCell  = 32   // tensor rows per grid cell
)

func newTracker() tracker {
	return tracker{table: make([]int32, 1024), grid: map[int64][]int32{}}
}

// addTensor declares the next HBM tensor.
func (t *tracker) addTensor(d isa.TensorDecl) {
	rl := int64(1)
	if n := len(d.Shape); n > 0 && d.Shape[n-1] > 0 {
		rl = int64(d.Shape[n-1])
	}
	t.rowLen = append(t.rowLen, rl)
	t.tracked = append(t.tracked, false)
	t.coarse = append(t.coarse, dep{t: math.Inf(-1), lane: -1})
}

// maxRuns bounds how many separate runs one access pattern is tracked as.
const maxRuns = 4

// runs splits a's free dimensions into an innermost contiguous run and the
// outer dimensions around it. When the outer dimensions enumerate at most
// maxRuns runs, it returns their element offsets (relative to a.Offset)
// and the run's extent [lo, hi); otherwise one base 0 and the bounding
// extent, so tracking stays conservative.
func runs(a *isa.AP) (bases [maxRuns]int64, n int, lo, hi int64) {
	if a.NFree == 1 && (a.Free[0].Stride == 1 || a.Free[0].Count == 1) {
		return bases, 1, 0, int64(a.Free[0].Count)
	}
	// Innermost dimensions forming one contiguous run.
	d := int(a.NFree) - 1
	run := int64(1)
	for ; d >= 0; d-- {
		f := a.Free[d]
		if f.Count <= 1 {
			continue
		}
		if int64(f.Stride) != run {
			break
		}
		run *= int64(f.Count)
	}
	combos := int64(1)
	for i := 0; i <= d; i++ {
		combos *= int64(max(a.Free[i].Count, 1))
	}
	if d >= 0 && combos <= maxRuns {
		n = 1
		for i := 0; i <= d; i++ {
			f := a.Free[i]
			if f.Count <= 1 {
				continue
			}
			m := n
			for k := 1; k < int(f.Count); k++ {
				for j := 0; j < m; j++ {
					bases[n] = bases[j] + int64(k)*int64(f.Stride)
					n++
				}
			}
		}
		return bases, n, 0, run
	}
	for i := 0; i < int(a.NFree); i++ {
		f := a.Free[i]
		ext := int64(f.Stride) * int64(f.Count-1)
		if ext < 0 {
			lo += ext
		} else {
			hi += ext
		}
	}
	return bases, 1, lo, hi + 1
}

// regions appends the regions a touches to out; it appends nothing for
// patterns that need no tracking (unused slots, unwritten HBM tensors,
// empty patterns).
func (t *tracker) regions(a *isa.AP, out []region) []region {
	if !used(a) {
		return out
	}
	for i := 0; i < int(a.NFree); i++ {
		if a.Free[i].Count <= 0 {
			return out
		}
	}
	bases, n, lo, hi := runs(a)
	switch a.Mem {
	case isa.SBUF, isa.PSUM:
		sz := int64(a.DType.Size())
		sp := int64(0)
		if a.Mem == isa.PSUM {
			sp = 1
		}
		off := int64(a.Offset)
		for k := 0; k < n; k++ {
			out = append(out, mkRegion(sp, int64(a.Start), int64(a.Start)+int64(a.Parts), off+(bases[k]+lo)*sz, off+(bases[k]+hi)*sz))
		}
	case isa.HBM:
		if a.Tensor < 0 || int(a.Tensor) >= len(t.tracked) || !t.tracked[a.Tensor] {
			return out
		}
		for k := 0; k < n; k++ {
			out = append(out, t.hbmRegion(a, int64(a.Offset)+bases[k]+lo, hi-lo))
		}
	}
	return out
}

// hbmRegion is the rectangle of an HBM run of width elements starting at
// element first in row 0, repeated for each of a's rows.
func (t *tracker) hbmRegion(a *isa.AP, first, width int64) region {
	L := t.rowLen[a.Tensor]
	sp := int64(2 + a.Tensor)
	ps := int64(a.PStride)
	parts := int64(max(a.Parts, 1))
	if first >= 0 && ps >= 0 && (parts == 1 || ps%L == 0) && first%L+width <= L {
		r0 := first / L
		return mkRegion(sp, r0, r0+(parts-1)*(ps/L)+1, first%L, first%L+width)
	}
	// General pattern: the bounding rows, whole rows wide.
	pe := ps * (parts - 1)
	a0, a1 := first+min(pe, 0), first+width+max(pe, 0)
	return mkRegion(sp, floorDiv(a0, L), floorDiv(a1-1, L)+1, 0, L)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (r region) hash() uint64 {
	h := (uint64(uint32(r.space))<<32 | uint64(uint32(r.r0))) * 0x9E3779B97F4A7C15
	h ^= uint64(uint32(r.r1))<<32 | uint64(uint32(r.c0))
	h *= 0xBF58476D1CE4E5B9
	h ^= uint64(uint32(r.c1))
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>29
}

// lookup returns the entry of region r, creating it (and its overlap list)
// if it is new.
func (t *tracker) lookup(r region) int32 {
	mask := uint64(len(t.table) - 1)
	for h := r.hash() & mask; ; h = (h + 1) & mask {
		v := t.table[h]
		if v == 0 {
			idx := t.insert(r)
			t.table[h] = idx + 1
			if len(t.entries)*2 > len(t.table) {
				t.grow()
			}
			return idx
		}
		if t.regs[v-1] == r {
			return v - 1
		}
	}
}

// find returns the entry of region r, or -1 if it has none (lookup would
// make one).
func (t *tracker) find(r region) int32 {
	mask := uint64(len(t.table) - 1)
	for h := r.hash() & mask; ; h = (h + 1) & mask {
		v := t.table[h]
		if v == 0 {
			return -1
		}
		if t.regs[v-1] == r {
			return v - 1
		}
	}
}

func (t *tracker) grow() {
	t.table = make([]int32, 2*len(t.table))
	mask := uint64(len(t.table) - 1)
	for i := range t.entries {
		h := t.regs[i].hash() & mask
		for t.table[h] != 0 {
			h = (h + 1) & mask
		}
		t.table[h] = int32(i) + 1
	}
}

// cells returns the grid cells a region covers.
func cells(r region) (lo, hi int64) {
	if r.space < 2 {
		return int64(r.c0) / sbufCell, (int64(r.c1) - 1) / sbufCell
	}
	return floorDiv(int64(r.r0), hbmCell), floorDiv(int64(r.r1)-1, hbmCell)
}

// maxCells: a region covering more grid cells is kept on its space's wide
// list instead, which every new region of the space is checked against.
const maxCells = 1024

func (t *tracker) insert(r region) int32 {
	idx := int32(len(t.entries))
	t.entries = append(t.entries, access{wEnd: math.Inf(-1), rEnd: math.Inf(-1), rEndNT: math.Inf(-1), wLane: -1, rLane: -1, rLaneNT: -1})
	t.regs = append(t.regs, r)
	t.adj = append(t.adj, nil)
	if r.space < 2 {
		t.onChip = append(t.onChip, idx)
	}
	link := func(j int32) {
		if j == idx || !t.regs[j].overlaps(r) || containsIdx(t.adj[idx], j) {
			return
		}
		t.adj[j] = append(t.adj[j], idx)
		t.adj[idx] = append(t.adj[idx], j)
		t.entries[j].overlapped, t.entries[idx].overlapped = true, true
	}
	wideKey := int64(r.space)<<40 | 1<<39
	for _, j := range t.grid[wideKey] {
		link(j)
	}
	lo, hi := cells(r)
	if hi-lo >= maxCells {
		// A wide region: compare with every region of its space.
		for j := range t.regs[:idx] {
			if t.regs[j].space == r.space {
				link(int32(j))
			}
		}
		t.grid[wideKey] = append(t.grid[wideKey], idx)
		return idx
	}
	for c := lo; c <= hi; c++ {
		key := int64(r.space)<<40 ^ (c & (1<<39 - 1))
		for _, j := range t.grid[key] {
			link(j)
		}
		t.grid[key] = append(t.grid[key], idx)
	}
	return idx
}

func containsIdx(xs []int32, x int32) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// dep is a time an instruction must wait for and the lane it waits on.
type dep struct {
	t    float64
	lane int8
}

func (d *dep) raise(t float64, lane int8) {
	if t > d.t {
		d.t, d.lane = t, lane
	}
}

// readDepOne raises d to the completion of the writer of e, as seen by an
// instruction on lane. TensorE accumulates into PSUM in order, so a
// TensorE instruction never waits on an earlier TensorE write.
func readDepOne(e *access, lane int8, d *dep) {
	if lane == laneTensor && e.wLane == laneTensor {
		return
	}
	d.raise(e.wEnd, e.wLane)
}

// writeDepOne raises d to the completion of the writer and readers of e.
// A TensorE write, like a TensorE read, does not wait on an earlier
// TensorE write, and waits only for readers other than TensorE.
func writeDepOne(e *access, lane int8, d *dep) {
	if lane != laneTensor || e.wLane != laneTensor {
		d.raise(e.wEnd, e.wLane)
	}
	if lane == laneTensor {
		d.raise(e.rEndNT, e.rLaneNT)
	} else {
		d.raise(e.rEnd, e.rLane)
	}
}

func (t *tracker) recordRead(i int32, end float64, lane int8) {
	e := &t.entries[i]
	if end > e.rEnd {
		e.rEnd, e.rLane = end, lane
	}
	if lane != laneTensor && end > e.rEndNT {
		e.rEndNT, e.rLaneNT = end, lane
	}
}

// writeSeq sums the write counts of entries: it changes whenever any of
// their regions is written.
func (t *tracker) writeSeq(entries []int32) uint32 {
	seq := uint32(0)
	for _, e := range entries {
		seq += t.entries[e].wSeq
	}
	return seq
}

func (t *tracker) recordWrite(i int32, end float64, lane int8) {
	e := &t.entries[i]
	if end >= e.wEnd {
		e.wEnd, e.wLane = end, lane
	}
	e.wSeq++
	if e.overlapped {
		for _, j := range t.adj[i] {
			t.entries[j].wSeq++
		}
	}
}
