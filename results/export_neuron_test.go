package results

import (
	"testing"

	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/neuron"
)

// TestExportersOnNeuronRun writes the profile and the trace of a report
// from the NeuronCore timing model (sim/neuron.Run) rather than a fake:
// the profile's per-line totals are the spans' durations summed by source
// line, and the trace has every span, a track per lane and HBM counters
// that add up to the report's HBM traffic.
func TestExportersOnNeuronRun(t *testing.T) {
	prog := tinyKernel(t)
	cfg, err := neuron.Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := neuron.Run(prog, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Spans.Len() != len(prog.Instrs) {
		t.Fatalf("%d spans for %d instructions", rep.Spans.Len(), len(prog.Instrs))
	}

	// Expected ns per source line: the spans' durations, rounded as the
	// profile rounds them (once per (site, opcode, lane) sample).
	type key struct {
		line int
		lane int32
	}
	perSample := map[key]float64{}
	for _, s := range rep.Spans.All() {
		perSample[key{prog.SiteOf(int(s.Instr)).Line, s.Lane}] += s.End - s.Start
	}
	want := map[int]int64{}
	for k, ns := range perSample {
		want[k.line] += int64(ns + 0.5)
	}
	path := writeProfileFile(t, "trn2.pb.gz", rep)
	got := lineTotals(t, pprofOut(t, "-list", "tinyKernel", "-unit=ns", path))
	for line, ns := range want {
		if got[line] != ns {
			t.Errorf("line %d: %d ns in the profile, spans sum to %d", line, got[line], ns)
		}
	}

	tf := parseTrace(t, rep)
	th := threads(tf, 1)
	for i, lane := range rep.Lanes {
		if th[i+1] != lane {
			t.Errorf("tid %d named %q, want lane %q", i+1, th[i+1], lane)
		}
	}
	if n := len(spans(tf, 1)); n != rep.Spans.Len() {
		t.Errorf("%d trace spans, report has %d", n, rep.Spans.Len())
	}
	hbm := rep.Traffic[sim.LevelHBM]
	r, w, _ := hbmBytes(t, tf, 1)
	if !near(r, float64(hbm.Read), 1) || !near(w, float64(hbm.Write), 1) {
		t.Errorf("counters add up to %.1f B read, %.1f B written; report: %d, %d", r, w, hbm.Read, hbm.Write)
	}
}
