package bench

import (
	"math"
	"strings"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/tune"
)

// WithTuned returns ts with every NeuronCore target replaced by one that
// runs a workload leaving its tunables at their defaults (variant=best,
// automatic tiles) in the configuration tab holds for that target and
// shape; composite workloads (layer) get it part by part. Shapes tab does
// not hold, and workloads that name a variant or tiles, run as before.
// A chip target (trn2-chip) runs its busiest core's shard in the
// configuration the file holds for the core's preset and the shard's
// shape. GPU targets are returned as they are: a GPU's best is already the
// fastest of its candidate plans (tune.GPU), so there is nothing to reuse.
// A nil or empty tab returns ts unchanged.
func WithTuned(ts []Target, tab *tune.Table) []Target {
	if tab.Len() == 0 {
		return append([]Target(nil), ts...)
	}
	// A chip's busiest core's shard is looked up under the core's preset
	// (trn2 for trn2-chip): tuned per core, not per chip.
	return withCores(ts, func(c *NeuronTarget) { c.tuned = tab })
}

// withCores returns ts with every NeuronCore target, and every chip
// target's core, replaced by a copy that set has changed; other targets
// are returned as they are.
func withCores(ts []Target, set func(*NeuronTarget)) []Target {
	out := make([]Target, len(ts))
	for i, t := range ts {
		out[i] = t
		switch t := t.(type) {
		case *NeuronTarget:
			c := *t
			set(&c)
			out[i] = &c
		case *ChipTarget:
			c, core := *t, *t.core
			set(&core)
			c.core = &core
			out[i] = &c
		}
	}
	return out
}

// Exact returns ts with every NeuronCore target, and every chip target's
// cores, timing each instruction one by one: no kernel loop is
// fast-forwarded (neuron.Stream.LoopSkip). The figures are the same bit
// for bit, only slower to get; `trnsim run -exact` and `sweep -exact` use
// it to check that.
func Exact(ts []Target) []Target {
	return withCores(ts, func(c *NeuronTarget) { c.exact = true })
}

// tunedDetail says which tuned configuration ran: the tunable parameters
// of p.
func tunedDetail(p kernels.Params) string {
	var kv []string
	for _, d := range p.Kernel.Tunables() {
		kv = append(kv, d.Name+"="+p.Str(d.Name))
	}
	return "tuned: " + strings.Join(kv, ",")
}

// RunGPUPlans times every candidate plan of workload p on the GPU target t
// (what tune.GPU chooses among), in the order the kernel lists them, and
// returns one result per plan with the plan's variant and detail. A plan
// that fails to time is returned with NaN times and its error in errs.
func RunGPUPlans(p kernels.Params, t *GPUTarget) ([]Result, []error, error) {
	plans, err := kernels.GPUPlans(t.cfg.Device(), p)
	if err != nil {
		return nil, nil, err
	}
	res := make([]Result, len(plans))
	errs := make([]error, len(plans))
	for i, pl := range plans {
		rep, err := gpu.Run(t.cfg, pl.Kernels)
		if err != nil {
			errs[i] = err
			r := results.Row{Kernel: p.Kernel.Name, Target: t.Name(), Spec: p.String(), Variant: pl.Variant, TimeUs: math.NaN()}
			res[i] = Result{Row: r, Detail: pl.Detail}
			continue
		}
		rep.FLOPs = p.Kernel.FLOPs(p)
		rep.PeakFLOP = t.PeakFLOPs(dtypeOf(p))
		rep.Target = t.Name()
		row := rowOf(p, t, rep, t.HBMBytesPerSec())
		row.Variant = pl.Variant
		res[i] = Result{Row: row, Report: rep, Detail: pl.Detail}
	}
	return res, errs, nil
}
