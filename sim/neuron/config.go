package neuron

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// Config is the micro-architecture of one NeuronCore generation: clocks,
// datapath widths, instruction cost parameters, DMA and HBM figures, the
// TensorE power throttle, and the chip's core count. Prices are not
// micro-architecture: bench keeps them in its price table.
// Every preset value cites its row in docs/hardware.md Part A.
//
// Units are in the field names: GHz, cycles (of the engine the field
// belongs to), ns, bytes per ns (= GB/s).
type Config struct {
	// Name is the generation: "trn1", "trn2" or "trn3". It selects the
	// architecture (isa.ArchByName) the program is validated against.
	Name string `json:"name"`

	// Engine clocks.
	TensorGHz float64 `json:"tensor_ghz"`
	VectorGHz float64 `json:"vector_ghz"`
	ScalarGHz float64 `json:"scalar_ghz"`
	GpSimdGHz float64 `json:"gpsimd_ghz"`

	// PERows × PECols is the TensorE systolic array.
	PERows int `json:"pe_rows"`
	PECols int `json:"pe_cols"`

	// Lanes is the elements per cycle the Vector/Scalar/GpSimd cost rules
	// (A §3.2, written for NC-v2) assume: one element per partition.
	Lanes int `json:"lanes"`
	// VectorWidth16 and ScalarWidth16 are the elements per cycle of VectorE
	// and ScalarE for bf16/fp16 data. Width16/Lanes is the performance-mode
	// speed-up (A §3.2 "NC-v3 Vector perf mode", "NC-v4 ScalarE perf mode").
	VectorWidth16 int `json:"vector_width16"`
	ScalarWidth16 int `json:"scalar_width16"`

	// TensorMinIICycles is the shortest MultiplyMoving initiation interval
	// (MM_INIT_LATENCY); MinIICycles that of Vector/Scalar/GpSimd.
	TensorMinIICycles int `json:"tensor_min_ii_cycles"`
	MinIICycles       int `json:"min_ii_cycles"`
	// FP32Passes is the TensorE cost multiplier for fp32 operands.
	FP32Passes int `json:"fp32_passes"`
	// FP32TransposePasses is the multiplier for an fp32 nc_transpose.
	FP32TransposePasses int `json:"fp32_transpose_passes"`
	// LoadStationaryColsPerCycle is how many stationary columns
	// LoadStationary moves per cycle.
	LoadStationaryColsPerCycle int `json:"load_stationary_cols_per_cycle"`
	// AccessLatencyCycles is the SBUF/PSUM access overhead: the time from
	// the end of an instruction's initiation interval to its result being
	// visible, hidden for independent back-to-back instructions.
	AccessLatencyCycles int `json:"access_latency_cycles"`
	// SemaphoreCycles is what an instruction pays, in cycles of its own
	// engine, to start after a producer it waited on completed.
	SemaphoreCycles int `json:"semaphore_cycles"`
	// GpSimdStartCycles is the fixed start cost of iota and affine_select.
	GpSimdStartCycles int `json:"gpsimd_start_cycles"`
	// ActTableLoadNs is the ScalarE activation-table switch.
	ActTableLoadNs float64 `json:"act_table_load_ns"`
	// NarrowStrideBytes: an operand whose innermost stride exceeds this
	// many bytes runs at half rate.
	NarrowStrideBytes int `json:"narrow_stride_bytes"`
	// SharedSBUFVectorGpSimd: VectorE and GpSimdE cannot access SBUF at
	// the same time; SharedPSUMVectorScalar: VectorE and ScalarE cannot
	// access PSUM at the same time (their instructions are serialised).
	SharedSBUFVectorGpSimd bool `json:"shared_sbuf_vector_gpsimd"`
	SharedPSUMVectorScalar bool `json:"shared_psum_vector_scalar"`

	// DMA: engines per core, partitions each engine serves, queues per
	// engine.
	DMAEngines             int `json:"dma_engines"`
	DMAPartitionsPerEngine int `json:"dma_partitions_per_engine"`
	DMAQueues              int `json:"dma_queues"`
	// DMAPeakBytesPerNs is the asymptote of one engine's size-efficiency
	// curve: the rate of an arbitrarily large transfer. It is the
	// theoretical bandwidth where nothing lower is published (trn2, trn3)
	// and the published best utilisation of it where one is (trn1).
	DMAPeakBytesPerNs float64 `json:"dma_peak_bytes_per_ns"`
	// DMASustainedBytesPerNs is one engine's rate on a DMARefBytes
	// transfer. Together with the peak it fixes the per-transfer fixed
	// cost (DMAFixedNs), from which the whole efficiency-by-size curve
	// follows: a transfer of b bytes occupies an engine DMAFixedNs +
	// b/DMAPeakBytesPerNs.
	DMASustainedBytesPerNs float64 `json:"dma_sustained_bytes_per_ns"`
	DMARefBytes            int     `json:"dma_ref_bytes"`
	// DMAStartLatencyNs is the semaphore-to-start latency of a transfer:
	// it delays the transfer but does not occupy the engine, so queued
	// transfers hide it.
	DMAStartLatencyNs float64 `json:"dma_start_latency_ns"`
	// DGEInstances hardware descriptor generators each spend DGENs per DMA
	// instruction before its transfers start; 0 means descriptors are
	// prepared ahead (static) and cost nothing at run time.
	DGEInstances int     `json:"dge_instances"`
	DGENs        float64 `json:"dge_ns"`
	// HBMBytesPerNs is this core's share of the chip's HBM bandwidth, a cap
	// shared by all its DMA engines.
	HBMBytesPerNs float64 `json:"hbm_bytes_per_ns"`

	// TensorE power throttle: after idle the array runs at ThrottleRate of
	// full speed and ramps linearly to full over ThrottleRampNs; the limit
	// re-engages when utilisation over the last ThrottleWindowNs falls
	// below ThrottleUtil.
	Throttle         bool    `json:"throttle"`
	ThrottleRate     float64 `json:"throttle_rate"`
	ThrottleRampNs   float64 `json:"throttle_ramp_ns"`
	ThrottleWindowNs float64 `json:"throttle_window_ns"`
	ThrottleUtil     float64 `json:"throttle_util"`

	// CoresPerChip is the number of NeuronCores on one chip (what a
	// chip-hour price is shared by).
	CoresPerChip int `json:"cores_per_chip"`
}

// Preset returns the configuration of a generation: "trn1", "trn2" or
// "trn3".
func Preset(name string) (Config, error) {
	switch name {
	case "trn1":
		return trn1(), nil
	case "trn2":
		return trn2(), nil
	case "trn3":
		return trn3(), nil
	}
	return Config{}, fmt.Errorf("unknown NeuronCore preset %q (allowed: %s)", name, strings.Join(PresetNames(), ", "))
}

// PresetNames lists the generations Preset accepts, oldest first.
func PresetNames() []string { return []string{"trn1", "trn2", "trn3"} }

// trn1 is NeuronCore-v2 (Trainium1 / Inferentia2).
func trn1() Config {
	return Config{
		Name:      "trn1",
		TensorGHz: 2.8,  // A §1.1 TensorE clock 2.8 GHz [P ArchV2]
		VectorGHz: 1.12, // A §1.1 VectorE clock 1.12 GHz
		ScalarGHz: 1.4,  // A §1.1 ScalarE clock 1.4 GHz
		GpSimdGHz: 1.4,  // A §1.1 GpSimdE 1.4 GHz

		PERows: 128, // A §1.1 TensorE array 128×128
		PECols: 128,

		Lanes:         128, // A §1.1 VectorE datapath 128 in/out per cycle (NC-v2)
		VectorWidth16: 128, // A §1.1 NC-v2 VectorE 128 in/out: no performance mode
		ScalarWidth16: 128, // A §1.1 ScalarE datapath 128

		TensorMinIICycles:          64, // A §3.1 MM_INIT_LATENCY = 64 TensorE cycles
		MinIICycles:                64, // A §3.2 MIN_II ≈ 64 engine cycles
		FP32Passes:                 4,  // A §3.1 fp32: 4 × max(min(64, N_stat), N_mov)
		FP32TransposePasses:        4,  // A §3.1 fp32 ≈ 4× bf16 (no transpose mode on NC-v2)
		LoadStationaryColsPerCycle: 4,  // A §3.1 Fast LoadStationary: 128 columns ≈ 32 cycles
		AccessLatencyCycles:        60, // A §3.2 tensor access static overhead ≈ 60 cycles
		SemaphoreCycles:            100,
		// A §3.2 "+100 engine cycles per instruction" for back-to-back
		// dependent instructions: the cost of starting on a semaphore.
		GpSimdStartCycles: 150,  // A §3.2 iota 150 + N; GPSIMD_START ≈ 150
		ActTableLoadNs:    1283, // A §3.2 ACT_TABLE_LOAD ≈ 1,283 ns [3P]; no AWS figure
		NarrowStrideBytes: 16,   // A §1.3 innermost stride > 16 B halves bandwidth

		// A §1.3 NC-v2: VectorE and GpSimdE cannot access SBUF in parallel,
		// VectorE and ScalarE cannot access PSUM in parallel ("compiler
		// serializes": whole instructions, see runner.sharedPorts).
		SharedSBUFVectorGpSimd: true,
		SharedPSUMVectorScalar: true,

		DMAEngines:             16, // A §1.1 DMA engines per NC: 16
		DMAPartitionsPerEngine: 8,  // A §3.3 each DMA engine handles 8 SBUF partitions
		DMAQueues:              16, // A §3.3 16 queues per DMA engine
		DMAPeakBytesPerNs:      0.70 * 27.2,
		// A §1.1 DMA BW per engine 27.2 GB/s theoretical [P DMAov], of
		// which Trn1 reaches "~70% DMA throughput utilization with
		// sufficiently large transfers" (A §3.3 Trn1 guidance [P Perf
		// Opt #9]): 19.04 B/ns. With the 17 B/ns below this puts the
		// fixed cost per transfer at 206.5 ns, where the Trn2
		// measurement (A §4.2) independently puts it at 211 ns on an
		// engine of the same theoretical rate; and it makes 32 KiB
		// transfers (4 KiB/partition) 89% of the asymptote, as A §3.3
		// says (≥ 4 KiB/partition saturates; > 32 KiB per transfer on
		// Trn1). Taking 27.2 as the asymptote instead would need a
		// 723 ns fixed cost and leave 32 KiB transfers at 62%.
		DMASustainedBytesPerNs: 17,
		// A §1.1 17 B/ns in the BW table [P DMAov, DMAbw], taken as the
		// rate at the 32 KiB reference transfer (see DMARefBytes).
		DMARefBytes: 32 << 10,
		// A §4.2 the measured single-engine transfer is 32 KiB, and A §3.3
		// says ≥ 4 KiB/partition (× 8 partitions = 32 KiB) saturates.
		DMAStartLatencyNs: 1300, // A §3.3 semaphore-to-start latency ~1300 ns [P DMAbw]
		DGEInstances:      0,    // A §1.1 NC-v2 descriptors are static (host) or software DGE
		DGENs:             600,  // A §3.3 hwdge instruction ≈ 600 ns (unused when DGEInstances is 0)
		HBMBytesPerNs:     410,  // A §1.1 HBM per NC 820 GB/s / 2 NC ≈ 410 GB/s [I]

		Throttle:         false, // A §3.1 the throttle is published for Trn2 and Trn3 only
		ThrottleRate:     0.5,   // A §3.1 starts at ~50% of max utilisation
		ThrottleRampNs:   3000,  // A §3.1 ramps to full over ~3 µs
		ThrottleWindowNs: 3000,  // A §3.1 re-engages if utilisation < 50% over ~3 µs
		ThrottleUtil:     0.5,

		CoresPerChip: 2, // A §1.2 Trainium1: 2 × NC-v2
	}
}

// trn2 is NeuronCore-v3 (Trainium2).
func trn2() Config {
	c := trn1()
	c.Name = "trn2"
	c.TensorGHz = 2.4  // A §1.1 TensorE clock 2.4 GHz [P ArchV3]
	c.VectorGHz = 0.96 // A §1.1 VectorE clock 0.96 GHz
	c.ScalarGHz = 1.2  // A §1.1 ScalarE clock 1.2 GHz
	c.GpSimdGHz = 1.2  // A §1.1 GpSimdE 1.2 GHz
	c.VectorWidth16 = 512
	// A §1.1 VectorE 512 BF16/FP16 in/out (A §3.2 perf mode: 4× v2)
	c.DMAPeakBytesPerNs = 27.2 // A §1.1 27.2 GB/s theoretical [P DMAov]
	c.DMASustainedBytesPerNs = 32768.0 / 1416
	// A §4.2 one DMA engine moves 32 KiB in 1416 ns on Trn2 (23.1 B/ns;
	// the BW table's 23 B/ns rounds it).
	c.DGEInstances = 2 // A §1.1 2 hardware DGE instances per NC
	c.FP32TransposePasses = 2
	c.SharedSBUFVectorGpSimd = false // A §1.3 NC-v3 lifts both restrictions
	c.SharedPSUMVectorScalar = false
	// A §2.2 is_transpose (v3+): 2× faster fp32 transpose than the 4× matmul
	c.HBMBytesPerNs = 362.5 // A §1.1 HBM per NC 2.9 TB/s / 8 ≈ 362 GB/s [I]
	c.Throttle = true       // A §3.1 power throttling on Trn2 and Trn3
	c.CoresPerChip = 8      // A §1.2 Trainium2: 8 × NC-v3
	return c
}

// trn3 is NeuronCore-v4 (Trainium3).
func trn3() Config {
	c := trn2()
	c.Name = "trn3"
	c.TensorGHz = 2.4 // A §1.1 TensorE clock 2.4 GHz [P ArchV4]
	c.VectorGHz = 1.2 // A §1.1 VectorE clock 1.2 GHz
	c.ScalarGHz = 1.2 // A §1.1 ScalarE clock 1.2 GHz
	c.GpSimdGHz = 1.2 // A §1.1 GpSimdE 1.2 GHz
	c.VectorWidth16 = 512
	// A §1.1 VectorE 512 BF16/FP16/FP8
	c.ScalarWidth16 = 256
	// A §1.1 ScalarE 256 BF16/FP16/FP8 (A §3.2 NC-v4 ScalarE perf mode 2×)
	c.DMAPeakBytesPerNs = 38.4    // A §1.1 38.4 GB/s theoretical [P DMAov]
	c.DMASustainedBytesPerNs = 33 // A §1.1 33 B/ns in the BW table
	c.HBMBytesPerNs = 612.5       // A §1.1 HBM per NC 4.9 TB/s / 8 ≈ 612 GB/s [I]
	c.CoresPerChip = 8            // A §1.2 Trainium3: 8 × NC-v4
	return c
}

// Arch returns the architecture of the configured generation.
func (c Config) Arch() isa.Arch {
	a, err := isa.ArchByName(c.Name)
	if err != nil {
		return isa.Arch{Name: c.Name}
	}
	return a
}

// PeakFLOPs returns TensorE's peak FLOP/s for matmuls with inputs of dtype
// d: 2·rows·cols·clock for bf16/fp16, a quarter of it for fp32 (A §3.1
// fp32 4×), twice it for fp8 where the generation has the double-row mode
// (A §3.1 FP8 double-row), zero for types the array does not multiply.
func (c Config) PeakFLOPs(d isa.DType) float64 {
	base := 2 * float64(c.PERows) * float64(c.PECols) * c.TensorGHz * 1e9
	switch {
	case d == isa.BF16 || d == isa.FP16:
		return base
	case d == isa.FP32:
		return base / float64(c.FP32Passes)
	case d.IsFP8():
		if c.Arch().FP8DoubleRow {
			return 2 * base
		}
		return base // A §1.1 cFP8 runs at the BF16 rate on NC-v2
	}
	return 0
}

// HBMBytesPerSec returns this core's share of HBM bandwidth in bytes/s.
func (c Config) HBMBytesPerSec() float64 { return c.HBMBytesPerNs * 1e9 }

// DMAFixedNs is the fixed engine time of one DMA transfer: what makes a
// DMARefBytes transfer run at the sustained rather than the peak rate,
// DMARefBytes/sustained − DMARefBytes/peak. On Trn2 that is
// 1416 − 32768/27.2 ≈ 211 ns. A transfer of b bytes then runs at
// b / (DMAFixedNs + b/peak): 4 KiB/partition (32 KiB per engine) reaches
// the sustained rate, 256 B/partition about a quarter of the peak (A §3.3
// size guidance).
func (c Config) DMAFixedNs() float64 {
	ref := float64(c.DMARefBytes)
	return ref/c.DMASustainedBytesPerNs - ref/c.DMAPeakBytesPerNs
}

// ConfigError reports an invalid configuration value: the field's JSON
// name ("" for the document as a whole) and the rule it breaks.
type ConfigError struct {
	Field string
	Rule  string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return "neuron config: " + e.Rule
	}
	return fmt.Sprintf("neuron config: %s: %s", e.Field, e.Rule)
}

// bounds lists every numeric field with the range the model accepts. The
// ranges are generous around every published NeuronCore (docs/hardware.md Part
// A) and exist to refuse values that would overflow the arithmetic or make
// a run endless (a 1e-300 B/ns DMA, cycle counts near MaxInt64).
func (c Config) bounds() []sim.Bound {
	const (
		maxCycles = 1e6 // cycles of one fixed cost
		maxNs     = 1e9 // ns: one second
	)
	return []sim.Bound{
		{Field: "tensor_ghz", Value: c.TensorGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "vector_ghz", Value: c.VectorGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "scalar_ghz", Value: c.ScalarGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "gpsimd_ghz", Value: c.GpSimdGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		sim.IntBound("pe_rows", int64(c.PERows), 1, 4096, "PEs"),
		sim.IntBound("pe_cols", int64(c.PECols), 1, 4096, "PEs"),
		sim.IntBound("lanes", int64(c.Lanes), 1, 4096, "elements/cycle"),
		sim.IntBound("vector_width16", int64(c.VectorWidth16), 1, 65536, "elements/cycle"),
		sim.IntBound("scalar_width16", int64(c.ScalarWidth16), 1, 65536, "elements/cycle"),
		sim.IntBound("tensor_min_ii_cycles", int64(c.TensorMinIICycles), 1, maxCycles, "cycles"),
		sim.IntBound("min_ii_cycles", int64(c.MinIICycles), 1, maxCycles, "cycles"),
		sim.IntBound("fp32_passes", int64(c.FP32Passes), 1, 64, ""),
		sim.IntBound("fp32_transpose_passes", int64(c.FP32TransposePasses), 1, 64, ""),
		sim.IntBound("load_stationary_cols_per_cycle", int64(c.LoadStationaryColsPerCycle), 1, 4096, "columns/cycle"),
		sim.IntBound("access_latency_cycles", int64(c.AccessLatencyCycles), 0, maxCycles, "cycles"),
		sim.IntBound("semaphore_cycles", int64(c.SemaphoreCycles), 0, maxCycles, "cycles"),
		sim.IntBound("gpsimd_start_cycles", int64(c.GpSimdStartCycles), 0, maxCycles, "cycles"),
		{Field: "act_table_load_ns", Value: c.ActTableLoadNs, Lo: 0, Hi: maxNs, Unit: "ns"},
		sim.IntBound("narrow_stride_bytes", int64(c.NarrowStrideBytes), 1, 1<<20, "bytes"),
		sim.IntBound("dma_engines", int64(c.DMAEngines), 1, maxDMAEngines, ""),
		sim.IntBound("dma_partitions_per_engine", int64(c.DMAPartitionsPerEngine), 1, 4096, "partitions"),
		sim.IntBound("dma_queues", int64(c.DMAQueues), 1, maxQueues, ""),
		{Field: "dma_peak_bytes_per_ns", Value: c.DMAPeakBytesPerNs, Lo: 0.01, Hi: 1e5, Unit: "bytes/ns"},
		{Field: "dma_sustained_bytes_per_ns", Value: c.DMASustainedBytesPerNs, Lo: 0.01, Hi: 1e5, Unit: "bytes/ns"},
		sim.IntBound("dma_ref_bytes", int64(c.DMARefBytes), 1, 1<<30, "bytes"),
		{Field: "dma_start_latency_ns", Value: c.DMAStartLatencyNs, Lo: 0, Hi: maxNs, Unit: "ns"},
		sim.IntBound("dge_instances", int64(c.DGEInstances), 0, 1024, ""),
		{Field: "dge_ns", Value: c.DGENs, Lo: 0, Hi: maxNs, Unit: "ns"},
		{Field: "hbm_bytes_per_ns", Value: c.HBMBytesPerNs, Lo: 0.1, Hi: 1e6, Unit: "bytes/ns"},
		{Field: "throttle_rate", Value: c.ThrottleRate, Lo: 0.01, Hi: 1, Unit: "of full speed"},
		{Field: "throttle_ramp_ns", Value: c.ThrottleRampNs, Lo: 0, Hi: maxNs, Unit: "ns"},
		{Field: "throttle_window_ns", Value: c.ThrottleWindowNs, Lo: 0, Hi: maxNs, Unit: "ns"},
		{Field: "throttle_util", Value: c.ThrottleUtil, Lo: 0, Hi: 1, Unit: "of full use"},
		sim.IntBound("cores_per_chip", int64(c.CoresPerChip), 1, 1024, "cores"),
	}
}

// Validate checks that every value is usable by the model: the name is a
// generation, every number is finite and within its plausible range
// (bounds), and the fields agree with each other. Errors are
// *ConfigError.
func (c Config) Validate() error {
	if _, err := isa.ArchByName(c.Name); err != nil {
		return &ConfigError{"name", err.Error()}
	}
	if err := sim.CheckBounds(c.bounds()); err != nil {
		fe := err.(*sim.FieldError)
		return &ConfigError{fe.Field, fe.Rule}
	}
	if c.VectorWidth16 < c.Lanes || c.ScalarWidth16 < c.Lanes {
		return &ConfigError{"vector_width16", fmt.Sprintf("vector_width16 %d and scalar_width16 %d must be at least lanes %d", c.VectorWidth16, c.ScalarWidth16, c.Lanes)}
	}
	if c.DMAEngines*c.DMAPartitionsPerEngine < c.Arch().Partitions {
		return &ConfigError{"dma_engines", fmt.Sprintf("%d engines × %d partitions do not cover %d partitions", c.DMAEngines, c.DMAPartitionsPerEngine, c.Arch().Partitions)}
	}
	if c.DMASustainedBytesPerNs > c.DMAPeakBytesPerNs {
		return &ConfigError{"dma_sustained_bytes_per_ns", fmt.Sprintf("%v exceeds dma_peak_bytes_per_ns %v", c.DMASustainedBytesPerNs, c.DMAPeakBytesPerNs)}
	}
	return nil
}

// LoadConfig reads a JSON object of overrides from r on top of base:
// fields absent from the JSON keep base's values. The JSON is strict (see
// sim.DecodeConfig: no null, no trailing data, exact lower-case names,
// each once); "name", when given, must be base's (a file tunes a
// generation, it cannot turn one into another); the result must pass
// Validate. Errors are *ConfigError naming the field and the rule.
func LoadConfig(r io.Reader, base Config) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, sim.MaxConfigBytes+1))
	if err != nil {
		return Config{}, &ConfigError{"", err.Error()}
	}
	c := base
	if err := sim.DecodeConfig(data, &c); err != nil {
		var fe *sim.FieldError
		if errors.As(err, &fe) {
			return Config{}, &ConfigError{fe.Field, fe.Rule}
		}
		return Config{}, err
	}
	if c.Name != base.Name {
		return Config{}, &ConfigError{"name", fmt.Sprintf("%q: this configuration is %s's; a hardware file cannot rename it (choose the target %s instead, or leave name out)", c.Name, base.Name, c.Name)}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
