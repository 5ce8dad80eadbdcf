package main

import (
	"io"
	"strings"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim/gpu"
)

// gpuFitParam is a GPU hardware parameter calibrate may move, with the
// range docs/hardware.md Part B allows it.
type gpuFitParam struct {
	calParam
	set func(c *gpu.Config, v float64)
}

// gpuFitParams returns the GPU parameters a calibration of c may move.
func gpuFitParams(c gpu.Config) []gpuFitParam {
	return []gpuFitParam{
		{calParam{"hbm_efficiency", "fraction", "B §1.5 best published 89.6% of spec (upper: the spec itself); lower 60%", 0.6, 1, c.HBMEfficiency},
			func(c *gpu.Config, v float64) { c.HBMEfficiency = v }},
		{calParam{"launch_us", "µs", "B §1.4 ~2–5 µs device-side per kernel, 4–6 µs per launch measured [PEG]", 1, 6, c.LaunchUs},
			func(c *gpu.Config, v float64) { c.LaunchUs = v }},
		{calParam{"sustained_clock_ghz", "GHz", "B §1.5 clocks under load: A100 ~1.2 of 1.41 GHz, H100 PCIe 1.395 of 1.62 (lower: 80% of the tensor clock); the tensor clock (upper)", 0.8 * c.TensorClockGHz, c.TensorClockGHz, c.SustainedClockGHz},
			func(c *gpu.Config, v float64) { c.SustainedClockGHz = v }},
		{calParam{"hbm_latency_cycles", "cycles", "B §1.2 measured global latency 466–479 cycles [LUO] (± 25%)", 350, 600, c.HBMLatencyCycles},
			func(c *gpu.Config, v float64) { c.HBMLatencyCycles = v }},
	}
}

// gpuCalModel is a GPU preset with the parameters of gpuFitParams.
type gpuCalModel struct {
	name   string
	base   *bench.GPUTarget
	preset gpu.Config
	ps     []gpuFitParam
	work   []kernels.Params
}

func newGPUCalModel(target string, ms []results.Measured, names []string, skipped []string) (calModel, []results.Measured, []string, error) {
	rt, err := bench.TargetByName(target, "")
	t, isGPU := rt.(*bench.GPUTarget)
	if err != nil || !isGPU {
		return nil, nil, nil, usagef("calibrate: -target %q: want a NeuronCore or GPU target (%s)", target, strings.Join(bench.AllTargets(), ", "))
	}
	all := gpuFitParams(t.Config())
	var ps []gpuFitParam
	seen := map[string]bool{}
	for _, n := range names {
		found := false
		for _, p := range all {
			if p.name == n && !seen[n] {
				ps, found = append(ps, p), true
			}
		}
		if !found {
			allowed := make([]string, len(all))
			for i, p := range all {
				allowed[i] = p.name
			}
			rule := "unknown"
			if seen[n] {
				rule = "repeated"
			}
			return nil, nil, nil, usagef("calibrate: -params: parameter %q %s (allowed: %s)", n, rule, strings.Join(allowed, ", "))
		}
		seen[n] = true
	}
	m := &gpuCalModel{name: target, base: t, preset: t.Config(), ps: ps}
	ok, skipped := usableRows(ms, skipped, func(p kernels.Params) error {
		_, _, err := bench.Run(p, t)
		if err == nil {
			m.work = append(m.work, p)
		}
		return err
	})
	return m, ok, skipped, nil
}

func (m *gpuCalModel) params() []calParam {
	out := make([]calParam, len(m.ps))
	for i, p := range m.ps {
		out[i] = p.calParam
	}
	return out
}

func (m *gpuCalModel) config(x []float64) gpu.Config {
	cfg := m.preset
	for i, p := range m.ps {
		p.set(&cfg, x[i])
	}
	return cfg
}

func (m *gpuCalModel) timeUs(x []float64, row int) (float64, error) {
	t, err := m.base.WithGPUConfig(m.config(x))
	if err != nil {
		return 0, err
	}
	r, _, err := bench.Run(m.work[row], t)
	if err != nil {
		return 0, err
	}
	return r.TimeUs, nil
}

func (m *gpuCalModel) writeHW(w io.Writer, x []float64) error {
	fields := map[string]any{}
	for i, p := range m.ps {
		fields[p.name] = x[i]
	}
	return writeJSON(w, fields)
}
