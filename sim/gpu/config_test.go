package gpu

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

func TestPresets(t *testing.T) {
	names := Presets()
	if !slices.IsSorted(names) || len(names) != 5 {
		t.Errorf("Presets() = %v", names)
	}
	for _, n := range names {
		c, err := Preset(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if c.Name != n {
			t.Errorf("preset %s is named %q", n, c.Name)
		}
	}
	if _, err := Preset("v100"); err == nil || !strings.Contains(err.Error(), "h100") {
		t.Errorf("unknown preset: err = %v, want one listing the allowed names", err)
	}
}

// The published peaks of HARDWARE.md B §1.1, reproduced from per-SM rates
// × SMs × clock (the cross-check arithmetic under the table).
func TestPeakFLOPs(t *testing.T) {
	tests := []struct {
		gpu   string
		dtype isa.DType
		want  float64 // TFLOP/s
	}{
		{"h100", isa.BF16, 989.4},
		{"h100", isa.FP8E4M3, 1978.9},
		{"h100", isa.FP32, 66.9},
		{"h100-pcie", isa.FP16, 756.5},
		{"a100", isa.FP16, 311.9},
		{"a100", isa.FP32, 19.5},
		{"a100", isa.FP8E4M3, 0},
		{"h200", isa.BF16, 989.4},
		{"b200", isa.BF16, 2243},
		{"b200", isa.FP8E4M3, 4486},
		{"h100", isa.Int32, 0},
	}
	for _, tc := range tests {
		c, _ := Preset(tc.gpu)
		got := c.PeakFLOPs(tc.dtype) / 1e12
		if math.Abs(got-tc.want) > 0.002*tc.want+1e-9 {
			t.Errorf("%s %s peak %.1f TFLOP/s, want %.1f", tc.gpu, tc.dtype, got, tc.want)
		}
	}
	// TF32 is not an isa dtype (no workload asks for it); its rate still
	// reproduces B §1.1's 494.7 TFLOP/s.
	h, _ := Preset("h100")
	if got := h.Tensor.TF32 * float64(h.SMs) * h.TensorClockGHz * 1e9 / 1e12; math.Abs(got-494.7) > 0.002*494.7 {
		t.Errorf("h100 tf32 peak %.1f TFLOP/s, want 494.7", got)
	}
	if h.HBMBytesPerSec() != 3.35e12 {
		t.Errorf("h100 HBM %v B/s", h.HBMBytesPerSec())
	}
	if !math.IsNaN(h.PriceUSDPerHour) && h.PriceUSDPerHour != 4.92 {
		t.Errorf("h100 price %v", h.PriceUSDPerHour)
	}
	a, _ := Preset("a100")
	if !math.IsNaN(a.PriceUSDPerHour) {
		t.Errorf("a100 price %v, want NaN (Part C lists only the 40GB part)", a.PriceUSDPerHour)
	}
}

func TestLoadConfig(t *testing.T) {
	base, _ := Preset("h100")
	tests := []struct {
		name, json string
		wantErr    string // "" = success
		check      func(c Config) bool
	}{
		{"override", `{"sms": 100, "hbm_gbps": 3000, "price_usd_per_hour": 2.5}`, "",
			func(c Config) bool {
				return c.SMs == 100 && c.HBMGBps == 3000 && c.PriceUSDPerHour == 2.5 && c.L2Bytes == base.L2Bytes
			}},
		{"empty object keeps base", `{}`, "", func(c Config) bool { return c.SMs == 132 }},
		{"nested rates", `{"tensor_flop_per_clk": {"fp16": 2048, "fp8": 4096}}`, "",
			func(c Config) bool { return c.Tensor.FP16 == 2048 && c.Tensor.TF32 == base.Tensor.TF32 }}, // fields not named keep base
		{"unknown field", `{"smz": 1}`, "unknown field", nil},
		{"wrong type", `{"sms": "many"}`, "sms", nil},
		{"invalid value", `{"sms": 0}`, "sms", nil},
		{"efficiency above 1", `{"hbm_efficiency": 1.5}`, "hbm_efficiency", nil},
		{"sustained above tensor", `{"sustained_clock_ghz": 3}`, "sustained_clock_ghz", nil},
		{"bad family", `{"mma_family": "wmma"}`, "mma_family", nil},
		{"trailing data", `{} {}`, "trailing", nil},
		{"not json", `sms=1`, "gpu config", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(strings.NewReader(tc.json), base)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add(`{"sms": 100}`)
	f.Add(`{"tensor_flop_per_clk": {"fp16": 1}, "launch_us": 0}`)
	f.Add(`{"hbm_efficiency": -1}`)
	f.Add(`[]`)
	base, _ := Preset("a100")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := LoadConfig(strings.NewReader(s), base)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("LoadConfig returned an invalid config: %v", err)
		}
		// A valid config must time a kernel without panicking.
		k := Kernel{Name: "k", Threads: 128, Stages: 2, MMA: MMA{Family: c.MMAFamily, DType: isa.BF16},
			Loop: Phase{TensorFLOPs: 1e6, Loads: []Load{{Bytes: 1e4}}}, Grid: []Group{{Count: 300, Iters: 2}}}
		if rep, err := Run(c, []Kernel{k}); err == nil && (math.IsNaN(rep.TimeNs) || rep.TimeNs < 0) {
			t.Fatalf("time %v", rep.TimeNs)
		}
	})
}
