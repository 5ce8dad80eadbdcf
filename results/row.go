package results

// Row units: what one row times and one price unit buys.
const (
	UnitCore     = "core"
	UnitChip     = "chip"
	UnitGPU      = "gpu"
	UnitInstance = "instance"
)

// Row is one (workload, target) result. Empty cells in CSV mean "not
// applicable"; a numeric field that does not apply is NaN in memory.
// The CSV schema (column names, units, order, version) is defined in one
// place, schema.go.
type Row struct {
	// Workload columns.
	Kernel  string
	Variant string // the variant that ran (resolved when the workload asked for "best")
	Target  string
	// Unit is what the row times and its price buys: "core", "chip",
	// "gpu" or "instance" (UnitCore, ...).
	Unit    string
	DType   string
	Batch   int
	Heads   int
	KVHeads int
	M, N, K int
	Seqlen  int
	Headdim int
	Causal  string // "true", "false" or "" when not applicable
	Spec    string // the canonical workload spec with every parameter

	// Timing.
	TimeUs   float64
	Cycles   int64
	ClockGHz float64
	FLOPs    float64
	TFLOPS   float64
	PctPeak  float64 // % of the target's peak for the dtype: mfu_estimated_percent

	// Memory.
	HBMReadBytes  int64
	HBMWriteBytes int64
	HBMGBps       float64 // achieved HBM bandwidth
	PctHBM        float64 // % of the target's (per-core) HBM bandwidth: mbu_estimated_percent

	// Engines (Neuron profiler names); NaN where not applicable.
	TensorActivePct float64
	VectorActivePct float64
	ScalarActivePct float64
	GpSimdActivePct float64
	DMAActivePct    float64
	// GPU pipes; NaN on NeuronCores.
	SMOccupancyPct float64
	TensorPipePct  float64
	MUFUPct        float64

	Bound string

	// Cost; NaN when no price is set for the target.
	PricePerHourUSD float64
	CostPerCallUSD  float64
	CostPerTFLOPUSD float64 // USD per 10^12 FLOPs of work
	// PriceBasis is how the price is bought (on-demand, capacity-block,
	// spot, reserved-1yr, user); "" when no price is set.
	PriceBasis string
}
