package plan

import "github.com/trnsim/trnsim/isa"

// MMA instruction families (docs/hardware.md B §1.2 "MMA instruction shape").
const (
	MMASync = "mma.sync" // warp-level, register operands (Ampere; legacy on Hopper)
	WGMMA   = "wgmma"    // warpgroup-level, shared-memory operands (Hopper)
	TCGen05 = "tcgen05"  // tensor-memory accumulators (Blackwell)
)

// MMA names the tensor-core instructions a kernel issues.
type MMA struct {
	Family string    // MMASync, WGMMA or TCGen05; "" when the kernel has no tensor work
	DType  isa.DType // input dtype (bf16, fp16, fp8e4m3, fp8e5m2)
}

// Load is one stream of global→shared bytes of a phase.
type Load struct {
	Bytes float64 // per CTA, per execution of the phase
	// Sharers is how many CTAs of the grid read these same bytes (a GEMM
	// A-tile is read by every CTA of its tile row); ≤ 1 means private.
	// Co-resident sharers fetch the bytes from HBM once and hit in L2 after.
	Sharers int
	// Stride is the launch-order distance between consecutive sharers
	// (1 or 0: adjacent CTAs share). Sharers further apart than the
	// resident CTAs are not co-resident and refetch from HBM.
	Stride int
	// Multicast is how many CTAs of a cluster receive each byte the L2
	// delivers (Hopper TMA multicast; cluster sizes B §1.2); ≤ 1: none.
	Multicast int
}

// Receivers returns how many CTAs each delivered byte reaches: Multicast,
// with 0 read as 1.
func (l Load) Receivers() float64 { return float64(max(1, l.Multicast)) }

// Phase is the work of one CTA in a prologue, one main-loop iteration, or
// an epilogue.
type Phase struct {
	Loads       []Load
	StoreBytes  float64 // global stores
	TensorFLOPs float64 // tensor-core FLOPs (Kernel.MMA)
	MUFUOps     float64 // special-function ops (exp2, rcp, rsqrt, ...)
	FP32Ops     float64 // FP32-pipe lane operations (one FFMA on one element = 1)
	SmemBytes   float64 // shared-memory port traffic, reads and writes
}

// LoadBytes returns the bytes of all the phase's loads.
func (p Phase) LoadBytes() float64 {
	var b float64
	for _, l := range p.Loads {
		b += l.Bytes
	}
	return b
}

// Group is a run of CTAs, consecutive in launch order, that each run the
// main loop Iters times.
type Group struct {
	Count int
	Iters int
}

// Kernel is one kernel launch: a grid of CTAs with a resource footprint and
// a per-CTA body.
type Kernel struct {
	Name  string
	FLOPs float64 // useful (model) FLOPs the kernel contributes to the workload

	Threads       int // per CTA
	RegsPerThread int
	SmemBytes     int // per CTA

	// Stages is the depth of the main loop's global→shared pipeline: with
	// 2 or more, loads of later iterations overlap compute; with 1, each
	// iteration waits for its loads.
	Stages int
	// WarpSpecialized: producer warps issue the loads (TMA) while consumer
	// warps compute, so a persistent CTA's next tile is loaded while this
	// one finishes.
	WarpSpecialized bool
	// PingPong: two consumer warpgroups alternate, one's softmax (FP32
	// work) overlapping the other's GEMMs (FA3 §3.1, B §1.3). Needs
	// WarpSpecialized.
	PingPong bool
	// Persistent: each CTA loops over tiles (grid = tiles, scheduled as
	// CTAs). With WarpSpecialized the memory latency between tiles is
	// hidden; without it the computing warps issue the next tile's loads
	// only after finishing this one, and it is exposed.
	Persistent bool

	MMA                      MMA
	Prologue, Loop, Epilogue Phase

	// Grid lists the CTA groups in launch order; the whole list is launched
	// GridRepeat times (0 means once).
	Grid       []Group
	GridRepeat int

	// LoadsInFlight is how many bytes of main-loop loads one CTA keeps
	// in flight: the kernel's memory-level parallelism. Zero means what
	// its pipeline buffers allow: Stages−1 iterations' loads (one
	// iteration's with one stage, issued together and then waited on). A
	// kernel that issues an iteration's loads in turns declares less (FA2
	// waits for K before it issues V). Values above that bound are
	// clipped to it.
	LoadsInFlight float64

	// UniqueReadBytes is the number of distinct bytes the kernel reads from
	// global memory: the HBM read traffic when they fit in L2, and a floor
	// on it otherwise. Zero: derive HBM traffic from Load.Sharers alone.
	UniqueReadBytes float64
}

// Repeat returns GridRepeat with 0 read as 1.
func (k *Kernel) Repeat() int {
	if k.GridRepeat <= 0 {
		return 1
	}
	return k.GridRepeat
}

// CTAs returns the number of CTAs the kernel launches.
func (k *Kernel) CTAs() int {
	n := 0
	for _, g := range k.Grid {
		n += g.Count
	}
	return n * k.Repeat()
}

// PrefetchesTiles reports whether the kernel hides the load latency
// between the tiles of a persistent CTA.
func (k *Kernel) PrefetchesTiles() bool { return k.Persistent && k.WarpSpecialized }

// UsesTensor reports whether any phase does tensor-core work.
func (k *Kernel) UsesTensor() bool {
	return k.Prologue.TensorFLOPs > 0 || k.Loop.TensorFLOPs > 0 || k.Epilogue.TensorFLOPs > 0
}
