package neuron

import (
	"fmt"
	"math"
	"strings"
)

// FitParam is one hardware parameter a calibration may move, with the
// physical range docs/hardware.md allows it. Get and Set read and write it in
// a Config in the parameter's own unit (Unit); integer fields are rounded
// on Set.
type FitParam struct {
	Name   string  // the -hw JSON field it writes, or a derived name (dma_fixed_ns)
	Unit   string  // ns, B/ns, cycles
	Lo, Hi float64 // bounds, in Unit
	Source string  // the docs/hardware.md rows the bounds come from
	Get    func(Config) float64
	Set    func(*Config, float64)
}

// theoreticalDMA is the published theoretical rate of one DMA engine, B/ns
// (A §1.1 [P DMAov]: 27.2 GB/s on NC-v2 and NC-v3, 38.4 on NC-v4).
func theoreticalDMA(name string) float64 {
	if name == "trn3" {
		return 38.4
	}
	return 27.2
}

// FitParams returns the parameters a calibration of c may move, in the
// order they are listed and written. Bounds depend on the generation.
//
// dma_fixed_ns is derived: the fixed engine time per transfer
// (Config.DMAFixedNs). Setting it rewrites dma_sustained_bytes_per_ns so
// that the asymptote (dma_peak_bytes_per_ns) stays; set the asymptote
// first.
func FitParams(c Config) []FitParam {
	th := theoreticalDMA(c.Name)
	share := map[string]float64{"trn1": 410, "trn2": 362.5, "trn3": 612.5}[c.Name]
	if share == 0 {
		share = c.HBMBytesPerNs
	}
	return []FitParam{
		{
			Name: "dma_peak_bytes_per_ns", Unit: "B/ns", Lo: 0.6 * th, Hi: th,
			Source: "A §1.1 theoretical engine rate (upper); A §3.3 Trn1 ~70% utilisation (lower: 60%)",
			Get:    func(c Config) float64 { return c.DMAPeakBytesPerNs },
			Set: func(c *Config, v float64) {
				f := c.DMAFixedNs()
				c.DMAPeakBytesPerNs = v
				setDMAFixed(c, f)
			},
		},
		{
			Name: "dma_fixed_ns", Unit: "ns", Lo: 0, Hi: 1300,
			Source: "A §3.3 per-transfer overhead, at most the ~1300 ns semaphore-to-start latency; A §5 fixed cost ~1–1.3 µs",
			Get:    func(c Config) float64 { return c.DMAFixedNs() },
			Set:    setDMAFixed,
		},
		{
			Name: "hbm_bytes_per_ns", Unit: "B/ns", Lo: 0.5 * share, Hi: share,
			Source: "A §1.1 HBM per NC (upper); A §3.4 MBU ≥ 60% is a good kernel (lower: 50%)",
			Get:    func(c Config) float64 { return c.HBMBytesPerNs },
			Set:    func(c *Config, v float64) { c.HBMBytesPerNs = v },
		},
		{
			Name: "semaphore_cycles", Unit: "cycles", Lo: 50, Hi: 300,
			Source: "A §3.2 +100 cycles per dependent instruction (≈, one figure); A §3.3 [3P] semaphore blocks ~200–243 ns",
			Get:    func(c Config) float64 { return float64(c.SemaphoreCycles) },
			Set:    func(c *Config, v float64) { c.SemaphoreCycles = int(math.Round(v)) },
		},
		{
			Name: "access_latency_cycles", Unit: "cycles", Lo: 30, Hi: 120,
			Source: "A §3.2 tensor access static overhead ≈ 60 cycles (± 2×)",
			Get:    func(c Config) float64 { return float64(c.AccessLatencyCycles) },
			Set:    func(c *Config, v float64) { c.AccessLatencyCycles = int(math.Round(v)) },
		},
		{
			Name: "dma_start_latency_ns", Unit: "ns", Lo: 650, Hi: 1950,
			Source: "A §3.3 semaphore-to-start latency ~1300 ns (± 50%)",
			Get:    func(c Config) float64 { return c.DMAStartLatencyNs },
			Set:    func(c *Config, v float64) { c.DMAStartLatencyNs = v },
		},
	}
}

// setDMAFixed sets the fixed engine time per transfer to f ns, keeping
// the asymptote: the sustained rate at the reference size follows.
func setDMAFixed(c *Config, f float64) {
	ref := float64(c.DMARefBytes)
	c.DMASustainedBytesPerNs = ref / (max(f, 0) + ref/c.DMAPeakBytesPerNs)
}

// SelectFitParams returns the parameters of FitParams(c) named in names,
// in FitParams order; an unknown or repeated name is an error listing the
// allowed ones.
func SelectFitParams(c Config, names []string) ([]FitParam, error) {
	all := FitParams(c)
	want := map[string]bool{}
	for _, n := range names {
		found := false
		for _, p := range all {
			found = found || p.Name == n
		}
		if !found || want[n] {
			allowed := make([]string, len(all))
			for i, p := range all {
				allowed[i] = p.Name
			}
			rule := "unknown"
			if found {
				rule = "repeated"
			}
			return nil, fmt.Errorf("parameter %q %s (allowed: %s)", n, rule, strings.Join(allowed, ", "))
		}
		want[n] = true
	}
	var out []FitParam
	for _, p := range all {
		if want[p.Name] {
			out = append(out, p)
		}
	}
	return out, nil
}
