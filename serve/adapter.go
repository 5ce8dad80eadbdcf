package serve

import (
	"fmt"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/tune"
)

// This file is the only place serve calls into kernels and bench, so that the
// refactors of those packages (typed params, Target as an interface) are
// re-pointed here alone.

// kernelTimer times kernel workloads on core targets (a NeuronCore or a GPU)
// through bench and caches each (workload, target) result for the run: the
// layers of a model repeat, and a sweep repeats shapes across batches.
// A kernelTimer is not safe for concurrent use.
type kernelTimer struct {
	registry *kernels.Registry
	targets  map[string]bench.Target
	cache    map[string]kernelTime // "target|spec" → time and HBM bytes
	tuned    *tune.Table           // nil: kernels run as given (see Estimator.WithTuned)
	// Sims counts the kernel simulations actually run (cache misses).
	Sims int
}

func newKernelTimer() *kernelTimer {
	return &kernelTimer{registry: kernels.Builtin(), targets: map[string]bench.Target{}, cache: map[string]kernelTime{}}
}

// target returns the bench target of a chip's core: its preset, with the HBM
// bandwidth overridden where the chip's part differs from the preset's
// (p4d's A100 40 GB).
func (kt *kernelTimer) target(c Chip) (bench.Target, error) {
	key := c.Name
	if t, ok := kt.targets[key]; ok {
		return t, nil
	}
	t, err := bench.TargetByName(c.CoreTarget, "")
	if err != nil {
		return nil, fmt.Errorf("chip %s: %w", c.Name, err)
	}
	if g, ok := t.(*bench.GPUTarget); ok && c.GPUHBMGBps > 0 {
		cfg := g.Config()
		cfg.HBMGBps = c.GPUHBMGBps
		if t, err = g.WithGPUConfig(cfg); err != nil {
			return nil, fmt.Errorf("chip %s: %w", c.Name, err)
		}
	}
	t = bench.WithTuned([]bench.Target{t}, kt.tuned)[0]
	kt.targets[key] = t
	return t, nil
}

// kernelTime is one kernel timed on one core: its time in µs and the HBM
// bytes it moved (read + written).
type kernelTime struct {
	us, hbmBytes float64
}

// timeUs returns the simulated time in µs of the workload spec (a kernel
// spec as `trnsim run` takes it) on one core of chip c, and its HBM bytes.
func (kt *kernelTimer) timeUs(c Chip, spec string) (kernelTime, error) {
	key := c.Name + "|" + spec
	if v, ok := kt.cache[key]; ok {
		return v, nil
	}
	t, err := kt.target(c)
	if err != nil {
		return kernelTime{}, err
	}
	p, err := kt.registry.Parse(spec)
	if err != nil {
		return kernelTime{}, err
	}
	row, _, err := bench.Run(p, t)
	if err != nil {
		return kernelTime{}, fmt.Errorf("%s on %s: %w", spec, c.CoreTarget, err)
	}
	kt.Sims++
	v := kernelTime{us: row.TimeUs, hbmBytes: float64(row.HBMReadBytes + row.HBMWriteBytes)}
	kt.cache[key] = v
	return v, nil
}
