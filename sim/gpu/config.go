package gpu

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// TensorRates are dense tensor-core FLOP per clock per SM for one MMA
// family, by input dtype. Zero means the dtype is not supported.
type TensorRates struct {
	FP16 float64 `json:"fp16"` // also bf16
	FP8  float64 `json:"fp8"`
	TF32 float64 `json:"tf32"`
}

// Config is one GPU's micro-architecture. Presets cite docs/hardware.md Part B;
// every field may be overridden with LoadConfig.
type Config struct {
	Name string `json:"name"`
	SMs  int    `json:"sms"`

	// TensorClockGHz is the clock the tensor peaks are quoted at;
	// BoostClockGHz the clock of the CUDA-core (FP32) peaks;
	// SustainedClockGHz the SM clock under full tensor-pipe load (power
	// limit). A kernel using the tensor pipe runs between the tensor and the
	// sustained clock in proportion to its tensor activity; others at boost.
	TensorClockGHz    float64 `json:"tensor_clock_ghz"`
	BoostClockGHz     float64 `json:"boost_clock_ghz"`
	SustainedClockGHz float64 `json:"sustained_clock_ghz"`

	// MMAFamily is the device's native tensor instruction family and Tensor
	// its per-SM rates; MMASyncFraction is the rate of legacy mma.sync as a
	// fraction of the native one (1 where mma.sync is native; 0 = not
	// modelled).
	MMAFamily       string      `json:"mma_family"`
	Tensor          TensorRates `json:"tensor_flop_per_clk"`
	MMASyncFraction float64     `json:"mma_sync_fraction"`
	// MMAAccumInRegisters: MMAs accumulate in the register file (mma.sync,
	// wgmma), so MUFU work of the same SM serialises with them; false
	// for tensor-memory accumulators (tcgen05).
	MMAAccumInRegisters bool `json:"mma_accum_in_registers"`

	FP32Lanes       int `json:"fp32_lanes"`         // FP32 FMA lanes per SM (ops/clk)
	MUFUPerClk      int `json:"mufu_per_clk"`       // special-function ops/clk per SM
	SmemBytesPerClk int `json:"smem_bytes_per_clk"` // shared-memory port per SM
	SmemPerSM       int `json:"smem_per_sm"`        // bytes
	SmemPerCTA      int `json:"smem_per_cta"`       // bytes
	RegsPerSM       int `json:"regs_per_sm"`        // 32-bit registers
	MaxRegsThread   int `json:"max_regs_per_thread"`
	MaxThreadsSM    int `json:"max_threads_per_sm"`
	MaxWarpsSM      int `json:"max_warps_per_sm"`
	MaxCTAsSM       int `json:"max_ctas_per_sm"`
	MaxThreadsCTA   int `json:"max_threads_per_cta"`

	L2Bytes       int64   `json:"l2_bytes"`
	L2BytesPerClk float64 `json:"l2_bytes_per_clk"` // read bandwidth, SM clock
	HBMGBps       float64 `json:"hbm_gbps"`         // spec bandwidth, 1e9 B/s
	// HBMEfficiency is the fraction of HBMGBps a streaming kernel achieves.
	HBMEfficiency float64 `json:"hbm_efficiency"`

	L2LatencyCycles  float64 `json:"l2_latency_cycles"`
	HBMLatencyCycles float64 `json:"hbm_latency_cycles"`
	LaunchUs         float64 `json:"launch_us"` // per kernel
}

// Presets returns the names Preset accepts, sorted.
func Presets() []string {
	names := []string{"a100", "h100", "h100-pcie", "h200", "b200"}
	sort.Strings(names)
	return names
}

// Preset returns the configuration of a named GPU.
func Preset(name string) (Config, error) {
	switch name {
	case "a100":
		return a100(), nil
	case "h100":
		return h100(), nil
	case "h100-pcie":
		return h100PCIe(), nil
	case "h200":
		return h200(), nil
	case "b200":
		return b200(), nil
	}
	return Config{}, fmt.Errorf("unknown GPU %q (allowed: %s)", name, strings.Join(Presets(), ", "))
}

// hopperSM fills the per-SM facts H100 SXM, H100 PCIe and H200 share.
func hopperSM(c *Config) {
	c.MMAFamily = WGMMA                                       // B §1.2 "MMA instruction shape": wgmma m64nNk16
	c.Tensor = TensorRates{FP16: 4096, FP8: 8192, TF32: 2048} // B §1.2 rows "Dense FP16/BF16", "FP8", "TF32 tensor FLOP/clk"
	// mma.sync reaches about 2/3 of Hopper's wgmma peak: FA3 §2.2 (source
	// [FA3] of B); B §1.3's FA2-vs-FA3 figures are the consequence.
	c.MMASyncFraction = 2.0 / 3
	c.MMAAccumInRegisters = true // wgmma accumulates in registers (B §1.2: TMEM only on B200)
	c.FP32Lanes = 128            // B §1.2 "FP32 lanes (FFMA/clk)" 128 [H100WP]
	c.MUFUPerClk = 16            // B §1.2 "MUFU / SFU" 16 [FA3 footnote 5]
	c.SmemBytesPerClk = 128      // B §1.2 "Shared-memory read bandwidth" 128 B/clk [FA4]
	c.SmemPerSM = 228 << 10      // B §1.2 "Shared memory capacity" 228 KB/SM [HTG]
	c.SmemPerCTA = 227 << 10     // B §1.2 227 KB/block [HTG]
	c.RegsPerSM = 64 << 10       // B §1.2 "Register file" 64K × 32-bit [HTG]
	c.MaxRegsThread = 255        // B §1.2 max 255 regs/thread
	c.MaxThreadsSM = 2048        // B §1.2 "Max resident warps / threads" 64 / 2048
	c.MaxWarpsSM = 64
	c.MaxCTAsSM = 32           // B §1.2 "Max resident CTAs" 32
	c.MaxThreadsCTA = 1024     // B §1.2 "Max threads per CTA"
	c.L2BytesPerClk = 4472.3   // B §1.1 "L2 bandwidth": meas 4472.3 B/clk [LUO] (NVIDIA publishes none)
	c.L2LatencyCycles = 263.0  // B §1.2 latencies: L2 263.0 (H800 PCIe) [LUO]
	c.HBMLatencyCycles = 478.8 // B §1.2 latencies: global 478.8 (H800 PCIe) [LUO]
	// B §1.5: best published Hopper HBM bandwidth 3000 of 3350 GB/s (89.6%)
	// [FMLA]; a device-to-device copy measured about 3.0 TB/s.
	c.HBMEfficiency = 0.9
	// LaunchUs is the front end's fixed cost per kernel, launch and tail
	// (grid start, the last CTA's completion): B §1.4 "Practical rule:
	// model ~2-5 us device-side launch/tail per kernel", at the top of
	// that range because of B §1.4's floor: XLA's smallest timed H100 GEMM
	// (1x512x256x256 bf16, one wave) takes 5.9 us, of which the model's
	// one-wave body (latencies and a few MMAs) is ~0.7 us, leaving ~5.2 us.
	c.LaunchUs = launchTailUs
}

// launchTailUs is the fixed launch and tail cost per kernel in µs on every
// GPU preset (see hopperSM): B §1.4's 2-5 µs rule at its top, as its
// 5.9 µs one-wave GEMM floor [XLA] implies. The same command processor
// path on every generation; only the H100 floor is published.
const launchTailUs = 5

func h100() Config {
	c := Config{Name: "h100"}
	hopperSM(&c)
	c.SMs = 132              // B §1.1 "SMs" H100 SXM5 132 [H100WP; FA3 App.C.2]
	c.TensorClockGHz = 1.830 // B §1.1 "Clock used for tensor peak" 1830 MHz [FA3 App.C.1]
	c.BoostClockGHz = 1.980  // B §1.1 "Max boost clock" 1980 MHz [GK; MLE]
	// B §1.5: H800 (same SMs, clocks and HBM as H100 SXM) throttles to
	// ~1600 MHz under tensor load [FMLA].
	c.SustainedClockGHz = 1.600
	c.L2Bytes = 50 << 20 // B §1.1 "L2" 50 MB [HTG]
	c.HBMGBps = 3350     // B §1.1 "HBM" 3.35 TB/s [HPCT; GK; MLE]
	return c
}

func h100PCIe() Config {
	c := Config{Name: "h100-pcie"}
	hopperSM(&c)
	c.SMs = 114                 // B §1.1 "SMs" H100 PCIe 114 [HPCT; CNC]
	c.TensorClockGHz = 1.620    // B §1.1 deriv: 756.45e12 / (114 × 4096)
	c.BoostClockGHz = 1.755     // B §1.1 "Max boost clock" 1755 MHz [CNC]
	c.SustainedClockGHz = 1.395 // B §1.1 / §1.5: dips to 1395 MHz at its 350 W limit [CNC]
	c.L2Bytes = 50 << 20        // B §1.1 "L2" 50 MB [HPCT; CNC]
	c.HBMGBps = 2000            // B §1.1 "HBM" 2.0 TB/s [HPCT]
	return c
}

func h200() Config {
	c := Config{Name: "h200"}
	hopperSM(&c)
	c.SMs = 132              // B §1.1 "SMs" H200 132 [MLE]
	c.TensorClockGHz = 1.830 // B §1.1 "Clock used for tensor peak" 1830 MHz [MLE]
	c.BoostClockGHz = 1.980  // B §1.1 "Max boost clock" 1980 (as H100)
	// No H200 figure is published; it is the H100 SXM die at the same 700 W
	// (B §1.1 TDP), so the H100's ~1600 MHz under tensor load (B §1.5) [I].
	c.SustainedClockGHz = 1.600
	c.L2Bytes = 50 << 20 // B §1.1 "L2" 50 MB [MLE]
	c.HBMGBps = 4800     // B §1.1 "HBM" 4.8 TB/s [MLE]
	return c
}

func a100() Config {
	c := Config{Name: "a100"}
	c.SMs = 108 // B §1.1 "SMs" A100 108 [A100WP Tbl4]
	// B §1.1: 1410 MHz boost is both the tensor-peak clock and the max
	// boost; "held at 1410 under load on SXM4" [CNC] (the ~1200 MHz report
	// [LA] is under an FA2 power limit of an unstated board; not used).
	c.TensorClockGHz = 1.410
	c.BoostClockGHz = 1.410
	c.SustainedClockGHz = 1.410
	c.MMAFamily = MMASync                          // B §1.2 "MMA instruction shape" mma.sync m16n8k16
	c.Tensor = TensorRates{FP16: 2048, TF32: 1024} // B §1.2 "Dense FP16/BF16" 2048, "TF32" 1024; FP8 "-" (B §1.1 n/a)
	c.MMASyncFraction = 1
	c.MMAAccumInRegisters = true
	c.FP32Lanes = 64         // B §1.2 "FP32 lanes" 64 [A100WP Tbl4]
	c.MUFUPerClk = 16        // B §1.2 "MUFU / SFU" 16 (cc 8.0, to verify)
	c.SmemBytesPerClk = 128  // B §1.2 "Shared-memory read bandwidth" 128 B/clk
	c.SmemPerSM = 164 << 10  // B §1.2 "Shared memory capacity" 164 KB/SM [ATG]
	c.SmemPerCTA = 163 << 10 // B §1.2 163 KB/block [ATG]
	c.RegsPerSM = 64 << 10   // B §1.2 "Register file" 64K × 32-bit [ATG]
	c.MaxRegsThread = 255
	c.MaxThreadsSM = 2048 // B §1.2 64 warps / 2048 threads [ATG]
	c.MaxWarpsSM = 64
	c.MaxCTAsSM = 32 // B §1.2 "Max resident CTAs" 32 [ATG]
	c.MaxThreadsCTA = 1024
	c.L2Bytes = 40 << 20       // B §1.1 "L2" 40 MB [ATG]
	c.L2BytesPerClk = 5120     // B §1.1 "L2 bandwidth" 5120 B/clk read [A100WP p.35]
	c.HBMGBps = 2039           // B §1.1 "HBM" A100 80GB 2,039 GB/s [LC]
	c.L2LatencyCycles = 261.5  // B §1.2 latencies: L2 261.5 (A100 PCIe) [LUO]
	c.HBMLatencyCycles = 466.3 // B §1.2 latencies: global 466.3 (A100 PCIe) [LUO]
	// Achieved HBM bandwidth: no A100 streaming measurement is published in
	// docs/hardware.md (B §1.5's 89.6% is Hopper's HBM3); NVIDIA's own
	// simulator scales the A100's memory bandwidth by 0.8 (docs/systems.md
	// §D3.4, AIC systems/a100_sxm.yaml mem_bw_empirical_scaling_factor),
	// 1631 GB/s. Liger-Kernel's A100 row kernels stream at 1.54-1.74 TB/s
	// at their largest sizes (results/measured/gpu_membound_measured.csv).
	c.HBMEfficiency = 0.8
	c.LaunchUs = launchTailUs // B §1.4 launch/tail rule and floor (see launchTailUs)
	return c
}

func b200() Config {
	c := Config{Name: "b200"}
	c.SMs = 148              // B §1.1 "SMs" B200 148 [FA4 §2.2]
	c.TensorClockGHz = 1.850 // B §1.1 "Clock used for tensor peak" 1850 MHz [FA4 §2.2]
	c.BoostClockGHz = 1.965  // B §1.1 device-reported max SM clock 1965 MHz [MLE]
	// No throttling figure is published for B200: sustained = tensor clock.
	c.SustainedClockGHz = 1.850
	c.MMAFamily = TCGen05                                      // B §1.2 "MMA instruction shape" tcgen05
	c.Tensor = TensorRates{FP16: 8192, FP8: 16384, TF32: 4096} // B §1.2 rows for B200 (FP8, TF32 deriv)
	c.MMASyncFraction = 0                                      // not published for Blackwell: not modelled
	c.MMAAccumInRegisters = false                              // B §1.2 "Tensor memory (TMEM)" 256 KB/SM
	c.FP32Lanes = 128                                          // B §1.2 "FP32 lanes" 128 (B300 blog; B200 assumed same)
	c.MUFUPerClk = 16                                          // B §1.2 "MUFU" 16 on B200 [FA4 §2.2]
	c.SmemBytesPerClk = 128                                    // B §1.2 128 B/clk "the same as Hopper" [FA4 §2.2]
	c.SmemPerSM = 228 << 10                                    // B §1.2 228 KB/SM [BTG]
	c.SmemPerCTA = 227 << 10                                   // B §1.2 227 KB/block [BTG]
	c.RegsPerSM = 64 << 10                                     // B §1.2 "Register file" same [BTG]
	c.MaxRegsThread = 255
	c.MaxThreadsSM = 2048 // B §1.2 64 / 2048 (cc 10.0) [BTG]
	c.MaxWarpsSM = 64
	c.MaxCTAsSM = 32 // B §1.2 32 [BTG]
	c.MaxThreadsCTA = 1024
	// B §1.1 "L2": 126 MB is GB200's [BTG], 65.5 MB per [HMC] for B200
	// (conflict); the smaller, B200-specific figure is used.
	c.L2Bytes = 65536 << 10
	// B §1.1 "L2 bandwidth" not published for B200. B200 joins two dies,
	// each with its own L2 (B §1.1 gives 2 × the H100's HBM stacks and
	// SMs of both dies); each die taken at Hopper's measured 4472.3 B/clk
	// [LUO] [I].
	c.L2BytesPerClk = 2 * 4472.3
	c.HBMGBps = 8000           // B §1.1 "HBM" 8.0 TB/s [MLE]
	c.HBMEfficiency = 0.9      // B §1.5 Hopper's 89.6% [I]
	c.L2LatencyCycles = 263.0  // B §1.2 Hopper latencies [LUO]; none published for B200 [I]
	c.HBMLatencyCycles = 478.8 // idem
	c.LaunchUs = launchTailUs  // B §1.4 launch/tail rule and floor (see launchTailUs)
	return c
}

// ConfigError reports an invalid GPU configuration value: the field's
// JSON name ("" for the document as a whole; dotted inside
// tensor_flop_per_clk) and the rule it breaks.
type ConfigError struct {
	GPU   string // the configuration's name
	Field string
	Rule  string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("gpu config %s: %s", e.GPU, e.Rule)
	}
	return fmt.Sprintf("gpu config %s: %s: %s", e.GPU, e.Field, e.Rule)
}

// bounds lists every numeric field with the range the model accepts:
// generous around every published GPU (docs/hardware.md Part B), tight enough
// to refuse values that overflow the arithmetic or make a run endless.
// SMs and CTA slots are also capped to keep a run's bookkeeping (a lane
// per 16 SMs, CTA slots) small.
func (c Config) bounds() []sim.Bound {
	return []sim.Bound{
		sim.IntBound("sms", int64(c.SMs), 1, 4096, "SMs"),
		{Field: "tensor_clock_ghz", Value: c.TensorClockGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "boost_clock_ghz", Value: c.BoostClockGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "sustained_clock_ghz", Value: c.SustainedClockGHz, Lo: 0.05, Hi: 20, Unit: "GHz"},
		{Field: "tensor_flop_per_clk.fp16", Value: c.Tensor.FP16, Lo: 1, Hi: 1 << 24, Unit: "FLOP/clk/SM"},
		{Field: "tensor_flop_per_clk.fp8", Value: c.Tensor.FP8, Lo: 0, Hi: 1 << 24, Unit: "FLOP/clk/SM (0: none)"},
		{Field: "tensor_flop_per_clk.tf32", Value: c.Tensor.TF32, Lo: 0, Hi: 1 << 24, Unit: "FLOP/clk/SM (0: none)"},
		{Field: "mma_sync_fraction", Value: c.MMASyncFraction, Lo: 0, Hi: 1, Unit: "of the native rate (0: not modelled)"},
		sim.IntBound("fp32_lanes", int64(c.FP32Lanes), 1, 65536, "FMA/clk/SM"),
		sim.IntBound("mufu_per_clk", int64(c.MUFUPerClk), 1, 65536, "ops/clk/SM"),
		sim.IntBound("smem_bytes_per_clk", int64(c.SmemBytesPerClk), 1, 1<<20, "bytes/clk/SM"),
		sim.IntBound("smem_per_sm", int64(c.SmemPerSM), 1024, 1<<30, "bytes"),
		sim.IntBound("smem_per_cta", int64(c.SmemPerCTA), 1024, 1<<30, "bytes"),
		sim.IntBound("regs_per_sm", int64(c.RegsPerSM), 1024, 1<<24, "32-bit registers"),
		sim.IntBound("max_regs_per_thread", int64(c.MaxRegsThread), 1, 65536, "registers"),
		sim.IntBound("max_threads_per_sm", int64(c.MaxThreadsSM), 32, 1<<20, "threads"),
		sim.IntBound("max_warps_per_sm", int64(c.MaxWarpsSM), 1, 1<<15, "warps"),
		sim.IntBound("max_ctas_per_sm", int64(c.MaxCTAsSM), 1, 1024, "CTAs"),
		sim.IntBound("max_threads_per_cta", int64(c.MaxThreadsCTA), 32, 1<<20, "threads"),
		sim.IntBound("l2_bytes", c.L2Bytes, 1<<10, 1<<40, "bytes"),
		{Field: "l2_bytes_per_clk", Value: c.L2BytesPerClk, Lo: 1, Hi: 1 << 24, Unit: "bytes/clk"},
		{Field: "hbm_gbps", Value: c.HBMGBps, Lo: 1, Hi: 1e6, Unit: "GB/s"},
		{Field: "hbm_efficiency", Value: c.HBMEfficiency, Lo: 0.01, Hi: 1, Unit: "of hbm_gbps"},
		{Field: "l2_latency_cycles", Value: c.L2LatencyCycles, Lo: 0, Hi: 1e6, Unit: "cycles"},
		{Field: "hbm_latency_cycles", Value: c.HBMLatencyCycles, Lo: 0, Hi: 1e6, Unit: "cycles"},
		{Field: "launch_us", Value: c.LaunchUs, Lo: 0, Hi: 1e6, Unit: "µs"},
	}
}

// Validate reports the first field that makes c unusable: a number that
// is not finite or outside its plausible range (bounds), fields that
// disagree, an unknown MMA family. Errors are *ConfigError.
func (c Config) Validate() error {
	if err := sim.CheckBounds(c.bounds()); err != nil {
		fe := err.(*sim.FieldError)
		return &ConfigError{c.Name, fe.Field, fe.Rule}
	}
	if c.SustainedClockGHz > c.TensorClockGHz {
		return &ConfigError{c.Name, "sustained_clock_ghz", fmt.Sprintf("%v is above tensor_clock_ghz %v", c.SustainedClockGHz, c.TensorClockGHz)}
	}
	switch c.MMAFamily {
	case MMASync, WGMMA, TCGen05:
	default:
		return &ConfigError{c.Name, "mma_family", fmt.Sprintf("%q (allowed: %s, %s, %s)", c.MMAFamily, MMASync, WGMMA, TCGen05)}
	}
	if c.SmemPerCTA > c.SmemPerSM {
		return &ConfigError{c.Name, "smem_per_cta", fmt.Sprintf("%d is above smem_per_sm %d", c.SmemPerCTA, c.SmemPerSM)}
	}
	return nil
}

// LoadConfig reads a JSON object of Config fields from r and applies them
// over base: fields the object omits keep base's values. The JSON is
// strict (see sim.DecodeConfig: no null, no trailing data, exact
// lower-case names, each once); "name", when given, must be base's (a
// file tunes a GPU, it cannot relabel it); the result must pass Validate.
// Errors are *ConfigError naming the field and the rule.
func LoadConfig(r io.Reader, base Config) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, sim.MaxConfigBytes+1))
	if err != nil {
		return Config{}, &ConfigError{base.Name, "", err.Error()}
	}
	c := base
	if err := sim.DecodeConfig(data, &c); err != nil {
		var fe *sim.FieldError
		if errors.As(err, &fe) {
			return Config{}, &ConfigError{base.Name, fe.Field, fe.Rule}
		}
		return Config{}, err
	}
	if c.Name != base.Name {
		return Config{}, &ConfigError{base.Name, "name", fmt.Sprintf("%q: this configuration is %s's; a hardware file cannot rename it (choose the target %s instead, or leave name out)", c.Name, base.Name, c.Name)}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// tensorRate returns the per-SM tensor FLOP/clk of family for inputs of
// dtype dt, or an error naming why the device cannot run it. The dtypes are
// isa's: fp16 and bf16 run at the FP16 rate, fp8e4m3 and fp8e5m2 at the
// FP8 rate; fp32 has no tensor-core path (CUDA-core FFMA; the TF32 rate is
// a property of the device, but no isa dtype asks for it).
func (c Config) tensorRate(family string, dt isa.DType) (float64, error) {
	var r float64
	switch {
	case dt == isa.BF16 || dt == isa.FP16:
		r = c.Tensor.FP16
	case dt.IsFP8():
		r = c.Tensor.FP8
	case dt == isa.FP32:
		return 0, fmt.Errorf("%s: fp32 has no tensor-core path (use FP32 ops)", c.Name)
	default:
		return 0, fmt.Errorf("%s: dtype %s has no tensor-core path (allowed: bf16, fp16, fp8e4m3, fp8e5m2)", c.Name, dt)
	}
	if r <= 0 {
		return 0, fmt.Errorf("%s has no %s tensor cores", c.Name, dt)
	}
	switch {
	case family == c.MMAFamily:
		return r, nil
	case family == MMASync:
		if c.MMASyncFraction <= 0 {
			return 0, fmt.Errorf("%s: no mma.sync rate is modelled (native family %s)", c.Name, c.MMAFamily)
		}
		return r * c.MMASyncFraction, nil
	}
	return 0, fmt.Errorf("%s does not run %s instructions (native family %s)", c.Name, family, c.MMAFamily)
}

// PeakFLOPs returns the device's dense peak FLOP/s for inputs of dtype dt:
// tensor-core peak at the tensor clock for fp16/bf16/fp8, CUDA-core FFMA
// peak at the boost clock for fp32 (B §1.1 two-clock convention). Zero
// when the device has no such path (fp8 on A100, int32).
func (c Config) PeakFLOPs(dt isa.DType) float64 {
	if dt == isa.FP32 {
		return 2 * float64(c.FP32Lanes) * float64(c.SMs) * c.BoostClockGHz * 1e9
	}
	r, err := c.tensorRate(c.MMAFamily, dt)
	if err != nil {
		return 0
	}
	return r * float64(c.SMs) * c.TensorClockGHz * 1e9
}

// HBMBytesPerSec returns the spec HBM bandwidth in bytes per second.
func (c Config) HBMBytesPerSec() float64 { return c.HBMGBps * 1e9 }
