package gpu

import (
	"fmt"
	"math"
)

// MMA names the tensor-core instructions a kernel issues.
type MMA struct {
	Family string // MMASync, WGMMA or TCGen05; "" when the kernel has no tensor work
	DType  string // input dtype: "bf16", "fp16", "fp8", "tf32"
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

func (l Load) multicast() float64 { return float64(max(1, l.Multicast)) }

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

func (p Phase) loadBytes() float64 {
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

// repeat returns GridRepeat with 0 read as 1.
func (k *Kernel) repeat() int {
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
	return n * k.repeat()
}

// prefetchesTiles reports whether the kernel hides the load latency
// between the tiles of a persistent CTA.
func (k *Kernel) prefetchesTiles() bool { return k.Persistent && k.WarpSpecialized }

func (k *Kernel) usesTensor() bool {
	return k.Prologue.TensorFLOPs > 0 || k.Loop.TensorFLOPs > 0 || k.Epilogue.TensorFLOPs > 0
}

// check validates the kernel's description against cfg's limits.
func (k *Kernel) check(cfg Config) error {
	if k.Threads <= 0 || k.Threads > cfg.MaxThreadsCTA {
		return fmt.Errorf("kernel %s: %d threads per CTA (allowed 1..%d)", k.Name, k.Threads, cfg.MaxThreadsCTA)
	}
	if k.RegsPerThread < 0 || k.RegsPerThread > cfg.MaxRegsThread {
		return fmt.Errorf("kernel %s: %d registers per thread (allowed 0..%d)", k.Name, k.RegsPerThread, cfg.MaxRegsThread)
	}
	if k.SmemBytes < 0 || k.SmemBytes > cfg.SmemPerCTA {
		return fmt.Errorf("kernel %s: %d bytes of shared memory per CTA (allowed 0..%d on %s)", k.Name, k.SmemBytes, cfg.SmemPerCTA, cfg.Name)
	}
	if k.Stages < 1 {
		return fmt.Errorf("kernel %s: %d pipeline stages, want at least 1", k.Name, k.Stages)
	}
	if k.PingPong && !k.WarpSpecialized {
		return fmt.Errorf("kernel %s: ping-pong consumer warpgroups need warp specialisation", k.Name)
	}
	if len(k.Grid) == 0 || k.GridRepeat < 0 {
		return fmt.Errorf("kernel %s: empty grid", k.Name)
	}
	for i, g := range k.Grid {
		if g.Count <= 0 || g.Iters < 0 {
			return fmt.Errorf("kernel %s: grid group %d has %d CTAs of %d iterations (want ≥ 1 CTA, ≥ 0 iterations)", k.Name, i, g.Count, g.Iters)
		}
	}
	if k.CTAs() <= 0 || k.CTAs() > 1<<31-1 {
		return fmt.Errorf("kernel %s: %d CTAs", k.Name, k.CTAs())
	}
	if !(k.LoadsInFlight >= 0) || math.IsInf(k.LoadsInFlight, 0) {
		return fmt.Errorf("kernel %s: %v bytes of loads in flight, want a non-negative number", k.Name, k.LoadsInFlight)
	}
	for _, ph := range []struct {
		name string
		p    Phase
	}{{"prologue", k.Prologue}, {"loop", k.Loop}, {"epilogue", k.Epilogue}} {
		vals := []float64{ph.p.StoreBytes, ph.p.TensorFLOPs, ph.p.MUFUOps, ph.p.FP32Ops, ph.p.SmemBytes}
		for _, l := range ph.p.Loads {
			vals = append(vals, l.Bytes)
		}
		for _, v := range vals {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("kernel %s: %s has a negative or non-finite amount of work (%v)", k.Name, ph.name, v)
			}
		}
	}
	if k.usesTensor() {
		if _, err := cfg.tensorRate(k.MMA.Family, k.MMA.DType); err != nil {
			return fmt.Errorf("kernel %s: %w", k.Name, err)
		}
	}
	return nil
}

// Occupancy returns how many CTAs of k fit on one SM and the resource that
// limits it ("threads", "warps", "registers", "smem", "ctas").
func Occupancy(cfg Config, k Kernel) (int, string) {
	warps := (k.Threads + 31) / 32
	best, why := cfg.MaxCTAsSM, "ctas"
	lim := func(n int, name string) {
		if n < best {
			best, why = n, name
		}
	}
	lim(cfg.MaxThreadsSM/k.Threads, "threads")
	lim(cfg.MaxWarpsSM/warps, "warps")
	if k.RegsPerThread > 0 {
		lim(cfg.RegsPerSM/(k.RegsPerThread*warps*32), "registers")
	}
	if k.SmemBytes > 0 {
		lim(cfg.SmemPerSM/k.SmemBytes, "smem")
	}
	return best, why
}
