package sim

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
	Spans []Span
}

// Span is one instruction (NeuronCore) or one phase (GPU) on one lane.
type Span struct {
	Lane   int32   // index into Report.Lanes
	Instr  int32   // instruction index in the program, or phase index
	Start  float64 // ns
	End    float64 // ns
	Op     string  // opcode or phase name
	Waited string  // what it waited for before starting ("" if it started when its lane was free)
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
