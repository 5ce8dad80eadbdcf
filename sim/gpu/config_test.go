package gpu

import (
	"math"
	"reflect"
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

// The published peaks of docs/hardware.md B §1.1, reproduced from per-SM rates
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
}

func TestLoadConfig(t *testing.T) {
	base, _ := Preset("h100")
	tests := []struct {
		name, json string
		wantErr    string // "" = success
		check      func(c Config) bool
	}{
		{"override", `{"sms": 100, "hbm_gbps": 3000}`, "",
			func(c Config) bool {
				return c.SMs == 100 && c.HBMGBps == 3000 && c.L2Bytes == base.L2Bytes
			}},
		{"own name", `{"name": "h100", "sms": 100}`, "", func(c Config) bool { return c.Name == "h100" && c.SMs == 100 }},
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
		{"trailing brace", `{}}`, "trailing", nil},
		{"not json", `sms=1`, "gpu config", nil},
		{"null document", `null`, "want a JSON object", nil},
		{"array document", `[]`, "want a JSON object", nil},
		{"empty document", ``, "end of the document", nil},
		{"null value", `{"sms": null}`, "sms: null", nil},
		{"wrong case", `{"SMS": 100}`, "SMS: unknown field", nil},
		{"wrong case nested", `{"tensor_flop_per_clk": {"FP16": 1}}`, "tensor_flop_per_clk.FP16: unknown field", nil},
		{"duplicate key", `{"sms": 100, "sms": 120}`, "sms: given twice", nil},
		{"old price field", `{"price_usd_per_hour": 2.5}`, "price_usd_per_hour: unknown field", nil},
		{"rename", `{"name": "b200"}`, "cannot rename", nil},
		{"tiny bandwidth", `{"hbm_gbps": 1e-300}`, "hbm_gbps: 1e-300 is outside the plausible range [1, 1e+06] GB/s", nil},
		{"huge int", `{"max_ctas_per_sm": 9223372036854775807}`, "max_ctas_per_sm", nil},
		{"int overflow", `{"sms": 9223372036854775808}`, "sms: want a whole number", nil},
		{"float overflow", `{"launch_us": 1e400}`, "launch_us: number 1e400 is out of range", nil},
		{"fraction for int", `{"sms": 1.5}`, "sms: want a whole number", nil},
		{"nan string", `{"hbm_gbps": "NaN"}`, "hbm_gbps: want a number", nil},
		{"negative latency", `{"hbm_latency_cycles": -1}`, "hbm_latency_cycles", nil},
		{"huge latency", `{"l2_latency_cycles": 1e300}`, "l2_latency_cycles", nil},
		{"zero fp16 rate", `{"tensor_flop_per_clk": {"fp16": 0}}`, "tensor_flop_per_clk.fp16", nil},
		{"null nested", `{"tensor_flop_per_clk": null}`, "tensor_flop_per_clk: null", nil},
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
	f.Add(`null`)
	f.Add(`{}}`)
	f.Add(`{"SMS": 1}`)
	f.Add(`{"sms": 9223372036854775807}`)
	f.Add(`{"hbm_gbps": 1e-300}`)
	f.Add(`{"name": "a100", "tensor_flop_per_clk": {"fp16": 1e6, "fp8": 0}}`)
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

// TestEveryFieldBounded: each numeric field of Config (and of its tensor
// rates) has a plausibility bound.
func TestEveryFieldBounded(t *testing.T) {
	c, _ := Preset("h100")
	bounded := map[string]bool{}
	for _, b := range c.bounds() {
		bounded[b.Field] = true
	}
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			name := prefix + f.Tag.Get("json")
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, name+".")
			case reflect.Int, reflect.Int64, reflect.Float64:
				if !bounded[name] {
					t.Errorf("field %s (%s) has no bound", f.Name, name)
				}
			}
		}
	}
	walk(reflect.TypeOf(c), "")
}
