package sim

import (
	"fmt"
	"math"
)

// Level is a memory level whose traffic a Report counts.
type Level uint8

const (
	LevelHBM  Level = iota
	LevelL2         // GPU only
	LevelSBUF       // NeuronCore SBUF; GPU shared memory
	LevelPSUM       // NeuronCore only
	NumLevels
)

var levelNames = [NumLevels]string{"hbm", "l2", "sbuf", "psum"}

func (l Level) String() string { return levelNames[l] }

// Traffic is bytes read and written at one memory level.
type Traffic struct {
	Read  int64
	Write int64
}

// EngineStat is what one engine (or DMA queue group, or GPU pipe) did.
type EngineStat struct {
	Name      string  // "tensor", "vector", "scalar", "gpsimd", "dma", "sm", "tensor_pipe", "mufu", ...
	BusyNs    float64 // time the engine was executing
	ActivePct float64 // BusyNs / Report.TimeNs × 100
	Instrs    int     // instructions (or phases) it ran
}

// Metric is a named extra figure of a report (e.g. "sm_occupancy_percent").
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

// Report is the result of timing one program or kernel on one target.
type Report struct {
	Target   string  // "trn2", "h100", ...
	TimeNs   float64 // total simulated time
	Cycles   int64   // TimeNs in cycles of Clock
	Clock    string  // which clock Cycles counts ("tensor", "sm")
	ClockGHz float64

	FLOPs    float64 // useful FLOPs of the workload (model FLOPs)
	PeakFLOP float64 // peak FLOP/s of the target for the workload's dtype

	Traffic [NumLevels]Traffic
	Engines []EngineStat

	// Bound names the resource that bounds the run: an engine ("tensor",
	// "vector", "scalar", "gpsimd"), "dma" or "hbm", or on GPUs "tensor_pipe",
	// "mufu", "smem", "l2", "hbm", "launch", "latency".
	Bound string

	Metrics []Metric
	// Lanes names the timeline rows Spans refer to ("tensor", "dma.q3", "sm0-15").
	Lanes []string
	// LaneGroups, when set, has one entry per lane: the unit the lane
	// belongs to, which viewers group lanes by — the engine on a NeuronCore
	// ("dma" for every queue "dma.qN"), "gpu" for a GPU's SM groups.
	LaneGroups []string
	// Spans is the timeline, one span per instruction or phase, stored
	// compactly; empty where the run kept none (timing-only runs).
	Spans Spans

	// Program names what ran where it is one program (a NeuronCore run);
	// "" for a GPU run (several kernels, named in the spans' Op).
	Program string
	// Sources resolves the spans' Site handles and describes the
	// instructions they ran; nil where spans are phases with no source
	// (GPU runs).
	Sources Sources
}

// Span is one instruction (NeuronCore) or one phase (GPU) on one lane: what
// a timing model appends to Report.Spans and Spans.At returns.
type Span struct {
	Lane   int32   // index into Report.Lanes
	Instr  int32   // instruction index in the program, or kernel index
	Start  float64 // ns
	End    float64 // ns
	Op     string  // opcode or phase name
	Waited string  // what it waited for before starting ("" if it started when its lane was free)
	// Site is the source-location handle of what the span ran, resolved
	// by Report.Sources; NoSite when there is none.
	Site int32
	// Bytes is what the span moved at each memory level, in bytes. On a
	// NeuronCore it is exact: the bytes of the instruction's operands, by
	// memory. On a GPU a kernel's traffic is spread over its phases in
	// proportion to their durations (launch excluded): the model times
	// phases, not individual loads. Summed over spans, each level gives
	// Report.Traffic (up to the rounding of fractional bytes).
	Bytes [NumLevels]SpanTraffic
}

// NoSite is the Site of a span with no source location.
const NoSite int32 = -1

// SpanTraffic is bytes read and written at one memory level during one
// span; fractional where a model spreads traffic over spans.
type SpanTraffic struct {
	Read  float64
	Write float64
}

// Location is a place in a kernel's source.
type Location struct {
	Func string // fully qualified function name
	File string // absolute path
	Line int
}

// Operands are an instruction's operands as text, for viewers.
type Operands struct {
	Dst string
	Src []string
	Red string // "" when the instruction has no reduce output
}

// Sources resolves what a report's spans point to. A timing model whose
// spans are instructions provides it; resolving is lazy, because only
// exporters need it.
type Sources interface {
	// NumSites is the number of site handles: a span's Site is NoSite or
	// in [0, NumSites()).
	NumSites() int
	// Location returns where site h is in the kernel source; the zero
	// Location when h is out of range or was not recorded.
	Location(h int32) Location
	// NumInstrs is the number of instructions: a span's Instr is in [0,
	// NumInstrs()).
	NumInstrs() int
	// Operands returns instruction i's operands.
	Operands(i int32) Operands
}

// TFLOPS returns the achieved TFLOP/s.
func (r *Report) TFLOPS() float64 {
	if r.TimeNs <= 0 {
		return 0
	}
	return r.FLOPs / r.TimeNs / 1e3
}

// PctPeak returns achieved FLOP/s as a percentage of PeakFLOP.
func (r *Report) PctPeak() float64 {
	if r.PeakFLOP <= 0 || r.TimeNs <= 0 {
		return 0
	}
	return r.FLOPs / (r.TimeNs * 1e-9) / r.PeakFLOP * 100
}

// Metric returns the value of the named metric and whether it is present.
func (r *Report) Metric(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// Engine returns the statistics of the named engine, if present.
func (r *Report) Engine(name string) (EngineStat, bool) {
	for _, e := range r.Engines {
		if e.Name == name {
			return e, true
		}
	}
	return EngineStat{}, false
}

// Check reports the first broken invariant of r, the properties exporters
// rely on: TimeNs finite; traffic not negative; LaneGroups, when set, one
// per lane; every span on a lane of Lanes, with finite Start ≤ End and
// bytes that are finite and not negative, and, where Sources is set, an
// instruction and a site it resolves.
func (r *Report) Check() error {
	if !finite(r.TimeNs) {
		return fmt.Errorf("report time %v ns is not finite", r.TimeNs)
	}
	for l := range NumLevels {
		if t := r.Traffic[l]; t.Read < 0 || t.Write < 0 {
			return fmt.Errorf("%s traffic %d read, %d written: must not be negative", l, t.Read, t.Write)
		}
	}
	if r.LaneGroups != nil && len(r.LaneGroups) != len(r.Lanes) {
		return fmt.Errorf("%d lane groups for %d lanes", len(r.LaneGroups), len(r.Lanes))
	}
	nInstrs, nSites := -1, -1
	if r.Sources != nil {
		nInstrs, nSites = r.Sources.NumInstrs(), r.Sources.NumSites()
	}
	for i := range r.Spans.Len() {
		sp := r.Spans.At(i)
		s := &sp
		if s.Lane < 0 || int(s.Lane) >= len(r.Lanes) {
			return fmt.Errorf("span %d: lane %d, report has %d lanes", i, s.Lane, len(r.Lanes))
		}
		if nInstrs >= 0 && (s.Instr < 0 || int(s.Instr) >= nInstrs) {
			return fmt.Errorf("span %d: instruction %d, program %q has %d", i, s.Instr, r.Program, nInstrs)
		}
		if nSites >= 0 && s.Site != NoSite && (s.Site < 0 || int(s.Site) >= nSites) {
			return fmt.Errorf("span %d: site %d, program %q has %d", i, s.Site, r.Program, nSites)
		}
		if !finite(s.Start) || !finite(s.End) || s.End < s.Start {
			return fmt.Errorf("span %d (%s): [%v, %v] ns: times must be finite and End ≥ Start", i, s.Op, s.Start, s.End)
		}
		for l, b := range s.Bytes {
			if !finite(b.Read) || !finite(b.Write) || b.Read < 0 || b.Write < 0 {
				return fmt.Errorf("span %d (%s): %s bytes %v read, %v written: must be finite and not negative", i, s.Op, Level(l), b.Read, b.Write)
			}
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
