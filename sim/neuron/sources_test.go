package neuron

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// TestSpansCarryBytesAndSites: what exporters read from a NeuronCore
// report. Each span's bytes are its instruction's operands by memory, so
// they sum to the report's traffic exactly; a DMA from HBM reads its
// source's bytes there; each span's site is its instruction's and
// resolves to the kernel source line that issued it.
func TestSpansCarryBytesAndSites(t *testing.T) {
	for _, gen := range []string{"trn1", "trn2", "trn3"} {
		t.Run(gen, func(t *testing.T) {
			c, _ := Preset(gen)
			p := tiledProgram(t, 256, 512, 384, 2)
			rep, err := Run(p, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Check(); err != nil {
				t.Fatal(err)
			}
			if rep.Program != p.Name || rep.Sources == nil || len(rep.LaneGroups) != len(rep.Lanes) {
				t.Fatalf("program %q, sources %v, %d groups for %d lanes", rep.Program, rep.Sources, len(rep.LaneGroups), len(rep.Lanes))
			}
			var sum [sim.NumLevels]sim.SpanTraffic
			for i, s := range rep.Spans.All() {
				in := &p.Instrs[s.Instr]
				for l := range sum {
					sum[l].Read += s.Bytes[l].Read
					sum[l].Write += s.Bytes[l].Write
				}
				if in.Op == isa.OpDMA && in.Src[0].Mem == isa.HBM && s.Bytes[sim.LevelHBM].Read != float64(in.Src[0].Bytes()) {
					t.Errorf("span %d: HBM read %v, the load moves %d", i, s.Bytes[sim.LevelHBM].Read, in.Src[0].Bytes())
				}
				if in.Engine != isa.DMA && (s.Bytes[sim.LevelHBM] != sim.SpanTraffic{}) {
					t.Errorf("span %d (%s): compute instruction moved HBM bytes %+v", i, s.Op, s.Bytes[sim.LevelHBM])
				}
				if s.Site != in.Site {
					t.Errorf("span %d: site %d, instruction's %d", i, s.Site, in.Site)
				}
				if want := in.Engine.String(); rep.LaneGroups[s.Lane] != want {
					t.Errorf("span %d: lane group %q, engine %q", i, rep.LaneGroups[s.Lane], want)
				}
				loc, want := rep.Sources.Location(s.Site), p.SiteOf(int(s.Instr))
				if loc.File != want.File || loc.Line != want.Line || loc.Func != want.Func || !strings.HasSuffix(filepath.Base(loc.File), "_test.go") {
					t.Errorf("span %d: location %+v, SiteOf %+v", i, loc, want)
				}
			}
			for l := range sum {
				if tr := rep.Traffic[l]; sum[l].Read != float64(tr.Read) || sum[l].Write != float64(tr.Write) {
					t.Errorf("%s: spans sum to %+v, report %+v", sim.Level(l), sum[l], tr)
				}
			}
			if o := rep.Sources.Operands(0); o.Dst == "" || len(o.Src) == 0 {
				t.Errorf("operands of instruction 0: %+v", o)
			}
			if (rep.Sources.Location(-1) != sim.Location{}) || (rep.Sources.Location(int32(len(p.Sites))) != sim.Location{}) {
				t.Error("out-of-range sites resolve")
			}
		})
	}
}
