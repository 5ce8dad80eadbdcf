package results

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/trnsim/trnsim/sim"
)

// WriteProfile writes rep as a gzipped pprof profile
// (github.com/google/pprof/profile), so that `go tool pprof -top`, `-list`,
// `-tags`, `-peek` and `-diff_base` work on simulated time.
//
// Sample types are "time" in nanoseconds of simulated time (the default)
// and "cycles" of rep's clock (rep.ClockGHz). Each span contributes its
// own duration, End − Start, on its lane: the time the lane (an engine, a
// DMA queue, an SM group's pipe) spent on that instruction or phase. Lanes
// run concurrently, so the profile's total is the summed busy time of all
// lanes, not rep.TimeNs — the way a CPU profile of a parallel program sums
// its threads. Time a lane spends idle or waiting is not sampled.
//
// The profile reads the report only. Where the report resolves source
// sites (rep.Sources != nil: a NeuronCore run), each span is an
// instruction and its stack is, root first:
//
//	kernel                       a function named by the kernel argument
//	kernel source line           rep.Sources.Location(span.Site): Func, File, Line
//	instruction                  a function named by the opcode (span.Op: "nc_matmul")
//
// so `go tool pprof -list matmulNeuron` shows the Go kernel source with
// simulated time per line. Samples carry the labels engine (the lane's
// group, rep.LaneGroups: "tensor", "dma", ...), opcode and lane
// (rep.Lanes: "dma.q3", ...).
//
// Otherwise (a GPU run) the stack is kernel → phase (span.Op: "load",
// "mma", "exp", ...), one frame per "/"-separated component of the phase
// ("matmul/mainloop" is kernel → matmul → matmul/mainloop, so the GPU
// kernels of a workload are told apart), and samples carry the labels lane
// and phase.
//
// Spans with the same stack and labels are summed into one sample; time
// and cycles are rounded to integers once per sample. The output depends
// only on rep and kernel.
func WriteProfile(w io.Writer, rep *sim.Report, kernel string) error {
	p, err := buildProfile(rep, kernel)
	if err != nil {
		return err
	}
	return p.Write(w)
}

// profileKey identifies one aggregated sample.
type profileKey struct {
	site int32 // site handle, sim.NoSite when unknown; unused on GPUs
	op   string
	lane int32
}

// profileBuilder allocates functions and locations in order of first use,
// so IDs (and the encoded bytes) depend only on the span order.
type profileBuilder struct {
	p     *profile.Profile
	funcs map[profile.Function]*profile.Function
	locs  map[locKey]*profile.Location
	root  *profile.Location // the kernel's frame, under every sample
	// siteLoc holds each source site's location, resolved once.
	siteLoc map[int32]*profile.Location
}

type locKey struct {
	fn   *profile.Function
	line int64
}

func (b *profileBuilder) function(name, file string) *profile.Function {
	k := profile.Function{Name: name, SystemName: name, Filename: file}
	if f, ok := b.funcs[k]; ok {
		return f
	}
	f := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name, SystemName: name, Filename: file}
	b.p.Function = append(b.p.Function, f)
	b.funcs[k] = f
	return f
}

func (b *profileBuilder) location(fn *profile.Function, line int64) *profile.Location {
	k := locKey{fn, line}
	if l, ok := b.locs[k]; ok {
		return l
	}
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Mapping: b.p.Mapping[0], Line: []profile.Line{{Function: fn, Line: line}}}
	b.p.Location = append(b.p.Location, l)
	b.locs[k] = l
	return l
}

// laneGroup returns the group of rep's lane (its engine, "dma" for every
// DMA queue): Report.LaneGroups, or the lane's own name when the report
// has no groups.
func laneGroup(rep *sim.Report, lane int32) string {
	if rep.LaneGroups == nil {
		return rep.Lanes[lane]
	}
	return rep.LaneGroups[lane]
}

// cyclesPerNs returns the clock that cycles count: ClockGHz, or the ratio
// Cycles/TimeNs when the report leaves ClockGHz unset.
func cyclesPerNs(rep *sim.Report) float64 {
	if rep.ClockGHz > 0 {
		return rep.ClockGHz
	}
	if rep.TimeNs > 0 && rep.Cycles > 0 {
		return float64(rep.Cycles) / rep.TimeNs
	}
	return 0
}

func buildProfile(rep *sim.Report, kernel string) (*profile.Profile, error) {
	if rep == nil {
		return nil, fmt.Errorf("profile: no report")
	}
	if err := rep.Check(); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if kernel == "" {
		kernel = "kernel"
	}
	p := newSimProfile(rep, kernel)
	b := &profileBuilder{p: p, funcs: map[profile.Function]*profile.Function{}, locs: map[locKey]*profile.Location{},
		siteLoc: map[int32]*profile.Location{}}
	b.root = b.location(b.function(kernel, ""), 0)
	order, agg := aggregateSpans(rep)
	ghz := cyclesPerNs(rep)
	for _, k := range order {
		ns := agg[k]
		stack, labels := b.stack(rep, k)
		p.Sample = append(p.Sample, &profile.Sample{
			Location: stack,
			Value:    []int64{int64(math.Round(ns)), int64(math.Round(ns * ghz))},
			Label:    labels,
		})
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return p, nil
}

// newSimProfile returns an empty profile of rep's simulated time: sample
// types time (ns) and cycles of rep's clock, comments saying so, and one
// mapping.
func newSimProfile(rep *sim.Report, kernel string) *profile.Profile {
	clock := rep.Clock
	if clock == "" {
		clock = "core"
	}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "time", Unit: "nanoseconds"},
			{Type: "cycles", Unit: "count"},
		},
		DefaultSampleType: "time",
		PeriodType:        &profile.ValueType{Type: "time", Unit: "nanoseconds"},
		Period:            1,
		DurationNanos:     int64(math.Round(rep.TimeNs)),
		Comments: []string{
			"trnsim simulated profile: target " + rep.Target + ", kernel " + kernel,
			"time: simulated nanoseconds each lane spent per span (End - Start), summed over lanes",
			"cycles: the same time in cycles of the " + clock + " clock",
		},
	}
	// One mapping that says the functions and lines are already known, so
	// pprof neither looks for a binary to symbolize nor warns about one.
	p.Mapping = []*profile.Mapping{{ID: 1, File: "trnsim-" + rep.Target, HasFunctions: true, HasFilenames: true, HasLineNumbers: true}}
	return p
}

// aggregateSpans sums rep's span time (ns) per sample: per (source site,
// op, lane) where the report has sources, else per (op, lane). order lists
// the keys in order of first appearance.
func aggregateSpans(rep *sim.Report) (order []profileKey, agg map[profileKey]float64) {
	agg = map[profileKey]float64{}
	for i := range rep.Spans.Len() {
		s := rep.Spans.At(i)
		k := profileKey{site: sim.NoSite, op: s.Op, lane: s.Lane}
		if rep.Sources != nil {
			k.site = s.Site
		}
		if _, ok := agg[k]; !ok {
			order = append(order, k)
		}
		agg[k] += s.End - s.Start
	}
	return order, agg
}

// stack returns the sample stack of k, leaf first, and its labels. With
// sources: the opcode, its source site, the kernel (labels lane, engine,
// opcode). Without (GPU phases "matmul/mainloop"): a frame per component of
// the phase path, then the kernel (labels lane, phase).
func (b *profileBuilder) stack(rep *sim.Report, k profileKey) ([]*profile.Location, map[string][]string) {
	labels := map[string][]string{"lane": {rep.Lanes[k.lane]}}
	if src := rep.Sources; src != nil {
		// Sites are resolved once each; SiteOf resolves by PC on every call.
		site, ok := b.siteLoc[k.site]
		if !ok {
			site = b.location(b.function("<unknown source line>", ""), 0)
			if loc := src.Location(k.site); loc.Func != "" {
				site = b.location(b.function(loc.Func, loc.File), int64(loc.Line))
			}
			b.siteLoc[k.site] = site
		}
		labels["engine"] = []string{laneGroup(rep, k.lane)}
		labels["opcode"] = []string{k.op}
		return []*profile.Location{b.location(b.function(k.op, ""), 0), site, b.root}, labels
	}
	var stack []*profile.Location
	parts := strings.Split(k.op, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		stack = append(stack, b.location(b.function(strings.Join(parts[:i+1], "/"), ""), 0))
	}
	labels["phase"] = []string{k.op}
	return append(stack, b.root), labels
}
