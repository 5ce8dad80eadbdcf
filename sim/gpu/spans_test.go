package gpu

import (
	"math"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// TestSpansCarryBytes: each kernel's traffic is spread over its own
// phases by duration, none on its launch, so every level's span bytes sum
// to the report's traffic (to within a byte per kernel) and a kernel's
// spans hold its own bytes, not its neighbour's.
func TestSpansCarryBytes(t *testing.T) {
	cfg, _ := Preset("h100")
	k := func(name string, loadBytes float64, ctas int) Kernel {
		return Kernel{Name: name, Threads: 128, Stages: 2, MMA: MMA{Family: WGMMA, DType: isa.BF16},
			Loop: Phase{TensorFLOPs: 1e6, Loads: []Load{{Bytes: loadBytes}}}, Grid: []Group{{Count: ctas, Iters: 4}}}
	}
	ks := []Kernel{k("big", 1e5, 264), k("small", 1e3, 132)}
	rep, err := Run(cfg, ks)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	if rep.Sources != nil || rep.Program != "" || len(rep.LaneGroups) != len(rep.Lanes) || rep.LaneGroups[0] != "gpu" {
		t.Errorf("sources %v, program %q, groups %v", rep.Sources, rep.Program, rep.LaneGroups)
	}
	var sum [sim.NumLevels]sim.SpanTraffic
	perKernel := make([]float64, len(ks))
	for i, s := range rep.Spans.All() {
		if s.Site != sim.NoSite {
			t.Errorf("span %d: site %d, GPU phases have none", i, s.Site)
		}
		if strings.HasSuffix(s.Op, "/launch") && s.Bytes != ([sim.NumLevels]sim.SpanTraffic{}) {
			t.Errorf("span %d (%s) moved %+v", i, s.Op, s.Bytes)
		}
		for l := range sum {
			sum[l].Read += s.Bytes[l].Read
			sum[l].Write += s.Bytes[l].Write
		}
		perKernel[s.Instr] += s.Bytes[sim.LevelHBM].Read
	}
	for l := range sum {
		tr := rep.Traffic[l]
		if math.Abs(sum[l].Read-float64(tr.Read)) > float64(len(ks))+1e-6*float64(tr.Read) ||
			math.Abs(sum[l].Write-float64(tr.Write)) > float64(len(ks))+1e-6*float64(tr.Write) {
			t.Errorf("%s: spans sum to %+v, report %+v", sim.Level(l), sum[l], tr)
		}
	}
	if sum[sim.LevelHBM].Read <= 0 || perKernel[0] < 10*perKernel[1] {
		t.Errorf("HBM bytes per kernel %v: the big kernel's loads are 100× the small one's", perKernel)
	}
}
