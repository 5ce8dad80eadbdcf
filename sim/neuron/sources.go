package neuron

import (
	"runtime"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Sources returns what resolves the Site handles and instruction indices
// of a NeuronCore report's spans against p: a span's Site is its
// instruction's index into p.Sites, resolved to a kernel source line only
// when an exporter asks (a Builder records program counters, and turning
// them into file:line costs more than timing the instruction).
func Sources(p *isa.Program) sim.Sources { return programSources{p} }

type programSources struct{ p *isa.Program }

func (s programSources) NumSites() int  { return len(s.p.Sites) }
func (s programSources) NumInstrs() int { return len(s.p.Instrs) }

func (s programSources) Location(h int32) sim.Location { return siteLocation(s.p.Sites, h) }

// siteLocation resolves site h of sites, the zero Location when h is out
// of range.
func siteLocation(sites []isa.Site, h int32) sim.Location {
	if h < 0 || int(h) >= len(sites) {
		return sim.Location{}
	}
	st := sites[h]
	if st.File == "" && st.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{st.PC}).Next()
		st.Func, st.File, st.Line = f.Function, f.File, f.Line
	}
	return sim.Location{Func: st.Func, File: st.File, Line: st.Line}
}

func (s programSources) Operands(i int32) sim.Operands {
	if i < 0 || int(i) >= len(s.p.Instrs) {
		return sim.Operands{}
	}
	in := &s.p.Instrs[i]
	o := sim.Operands{Dst: in.Dst.String()}
	for _, src := range in.Src {
		if src.Used() {
			o.Src = append(o.Src, src.String())
		}
	}
	if in.Red.Used() {
		o.Red = in.Red.String()
	}
	return o
}
