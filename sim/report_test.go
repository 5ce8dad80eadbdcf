package sim

import (
	"math"
	"strings"
	"testing"
)

func TestLevelNames(t *testing.T) {
	want := []string{"hbm", "l2", "sbuf", "psum"}
	for l := range NumLevels {
		if l.String() != want[l] {
			t.Errorf("level %d: %q, want %q", l, l.String(), want[l])
		}
	}
}

func TestTFLOPSAndPctPeak(t *testing.T) {
	tests := []struct {
		name        string
		r           Report
		tflops, pct float64
	}{
		// 2e9 FLOPs in 1 ms: 2 TFLOP/s; of a 4 TFLOP/s peak, 50 %.
		{"ordinary", Report{TimeNs: 1e6, FLOPs: 2e9, PeakFLOP: 4e12}, 2, 50},
		{"zero time", Report{TimeNs: 0, FLOPs: 2e9, PeakFLOP: 4e12}, 0, 0},
		{"negative time", Report{TimeNs: -1, FLOPs: 2e9, PeakFLOP: 4e12}, 0, 0},
		{"no peak", Report{TimeNs: 1e6, FLOPs: 2e9}, 2, 0},
		{"no work", Report{TimeNs: 1e6, PeakFLOP: 4e12}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.TFLOPS(); math.Abs(got-tc.tflops) > 1e-12 {
				t.Errorf("TFLOPS = %v, want %v", got, tc.tflops)
			}
			if got := tc.r.PctPeak(); math.Abs(got-tc.pct) > 1e-12 {
				t.Errorf("PctPeak = %v, want %v", got, tc.pct)
			}
		})
	}
}

func TestMetricAndEngineLookup(t *testing.T) {
	r := &Report{
		Engines: []EngineStat{{Name: "tensor", BusyNs: 5, ActivePct: 50}, {Name: "dma", BusyNs: 2}},
		Metrics: []Metric{{Name: "mfu_estimated_percent", Value: 12.5, Unit: "%"}},
	}
	if v, ok := r.Metric("mfu_estimated_percent"); !ok || v != 12.5 {
		t.Errorf("Metric = %v, %v", v, ok)
	}
	if _, ok := r.Metric("nope"); ok {
		t.Error("Metric found an absent name")
	}
	if e, ok := r.Engine("dma"); !ok || e.BusyNs != 2 {
		t.Errorf("Engine(dma) = %+v, %v", e, ok)
	}
	if _, ok := r.Engine("vector"); ok {
		t.Error("Engine found an absent name")
	}
}

// fakeSources resolves two sites over three instructions.
type fakeSources struct{}

func (fakeSources) NumSites() int  { return 2 }
func (fakeSources) NumInstrs() int { return 3 }
func (fakeSources) Location(h int32) Location {
	if h < 0 || h >= 2 {
		return Location{}
	}
	return Location{Func: "k", File: "/src/k.go", Line: 10 + int(h)}
}
func (fakeSources) Operands(i int32) Operands { return Operands{Dst: "d"} }

// validReport returns a valid report and its spans, which a test may edit
// before storing them with setSpans.
func validReport() (*Report, []Span) {
	r := &Report{TimeNs: 30, Lanes: []string{"tensor", "dma.q0"}, LaneGroups: []string{"tensor", "dma"},
		Program: "p", Sources: fakeSources{}}
	spans := []Span{
		{Lane: 1, Instr: 0, Start: 0, End: 10, Op: "dma_copy", Site: 0},
		{Lane: 0, Instr: 1, Start: 10, End: 30, Op: "nc_matmul", Site: 1},
		{Lane: 1, Instr: 2, Start: 10, End: 10, Op: "dma_copy", Site: NoSite},
	}
	spans[0].Bytes[LevelHBM].Read = 4096
	spans[0].Bytes[LevelSBUF].Write = 4096
	r.Traffic[LevelHBM].Read, r.Traffic[LevelSBUF].Write = 4096, 4096
	return r, spans
}

func TestCheck(t *testing.T) {
	if r, spans := validReport(); setSpans(r, spans).Check() != nil {
		t.Fatalf("valid report: %v", setSpans(r, spans).Check())
	}
	tests := []struct {
		name string
		edit func(r *Report, s []Span)
		want string // "" = still valid
	}{
		{"time NaN", func(r *Report, s []Span) { r.TimeNs = math.NaN() }, "report time NaN ns is not finite"},
		{"time Inf", func(r *Report, s []Span) { r.TimeNs = math.Inf(1) }, "not finite"},
		{"negative traffic", func(r *Report, s []Span) { r.Traffic[LevelL2].Write = -1 }, "l2 traffic 0 read, -1 written"},
		{"groups", func(r *Report, s []Span) { r.LaneGroups = []string{"tensor"} }, "1 lane groups for 2 lanes"},
		{"no groups", func(r *Report, s []Span) { r.LaneGroups = nil }, ""},
		{"lane high", func(r *Report, s []Span) { s[1].Lane = 2 }, "span 1: lane 2, report has 2 lanes"},
		{"lane negative", func(r *Report, s []Span) { s[0].Lane = -1 }, "span 0: lane -1"},
		{"instr", func(r *Report, s []Span) { s[2].Instr = 3 }, `span 2: instruction 3, program "p" has 3`},
		{"instr without sources", func(r *Report, s []Span) { r.Sources = nil; s[2].Instr = 3 }, ""},
		{"site", func(r *Report, s []Span) { s[1].Site = 2 }, `span 1: site 2, program "p" has 2`},
		{"site negative", func(r *Report, s []Span) { s[1].Site = -2 }, "span 1: site -2"},
		{"backwards", func(r *Report, s []Span) { s[1].End = 5 }, "span 1 (nc_matmul): [10, 5] ns"},
		{"start NaN", func(r *Report, s []Span) { s[0].Start = math.NaN() }, "span 0 (dma_copy): [NaN, 10] ns"},
		{"bytes negative", func(r *Report, s []Span) { s[0].Bytes[LevelPSUM].Write = -3 }, "span 0 (dma_copy): psum bytes 0 read, -3 written"},
		{"bytes Inf", func(r *Report, s []Span) { s[0].Bytes[LevelHBM].Read = math.Inf(1) }, "hbm bytes +Inf read"},
		{"zero-length span", func(r *Report, s []Span) { s[1].End = 10 }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, spans := validReport()
			tc.edit(r, spans)
			err := setSpans(r, spans).Check()
			if tc.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func setSpans(r *Report, spans []Span) *Report {
	r.Spans = SpansOf(spans)
	return r
}
