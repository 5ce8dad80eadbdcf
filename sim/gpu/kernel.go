package gpu

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// The kernel description types are package plan's: descriptions are
// written below the kernels, without timing, and timed here.
type (
	// MMA names the tensor-core instructions a kernel issues.
	MMA = plan.MMA
	// Load is one stream of global→shared bytes of a phase.
	Load = plan.Load
	// Phase is the work of one CTA in a prologue, one main-loop iteration,
	// or an epilogue.
	Phase = plan.Phase
	// Group is a run of CTAs that each run the main loop Iters times.
	Group = plan.Group
	// Kernel is one kernel launch: a grid of CTAs with a resource
	// footprint and a per-CTA body.
	Kernel = plan.Kernel
)

// MMA instruction families (docs/hardware.md B §1.2 "MMA instruction shape").
const (
	MMASync = plan.MMASync
	WGMMA   = plan.WGMMA
	TCGen05 = plan.TCGen05
)

// Device returns the architectural facts of c that kernel descriptions
// may depend on.
func (c Config) Device() plan.Device {
	return plan.Device{
		Name:          c.Name,
		SMs:           c.SMs,
		MMAFamily:     c.MMAFamily,
		MMASync:       c.MMAFamily == MMASync || c.MMASyncFraction > 0,
		TensorFP16:    c.Tensor.FP16 > 0,
		TensorFP8:     c.Tensor.FP8 > 0,
		SmemPerSM:     c.SmemPerSM,
		SmemPerCTA:    c.SmemPerCTA,
		RegsPerSM:     c.RegsPerSM,
		MaxRegsThread: c.MaxRegsThread,
		MaxThreadsSM:  c.MaxThreadsSM,
		MaxWarpsSM:    c.MaxWarpsSM,
		MaxCTAsSM:     c.MaxCTAsSM,
		MaxThreadsCTA: c.MaxThreadsCTA,
	}
}

// checkKernel validates k's description against cfg's limits.
func checkKernel(k *Kernel, cfg Config) error {
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
	if k.UsesTensor() {
		if _, err := cfg.tensorRate(k.MMA.Family, k.MMA.DType); err != nil {
			return fmt.Errorf("kernel %s: %w", k.Name, err)
		}
	}
	return nil
}

// Occupancy returns how many CTAs of k fit on one SM and the resource that
// limits it ("threads", "warps", "registers", "smem", "ctas").
func Occupancy(cfg Config, k Kernel) (int, string) { return plan.Occupancy(cfg.Device(), k) }
