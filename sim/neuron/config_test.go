package neuron

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
)

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if c.Arch().Name != name {
			t.Errorf("%s: Arch().Name = %q", name, c.Arch().Name)
		}
	}
	if _, err := Preset("trn9"); err == nil || !strings.Contains(err.Error(), "trn1, trn2, trn3") {
		t.Errorf("unknown preset: err = %v, want the allowed list", err)
	}
}

func TestPeakFLOPs(t *testing.T) {
	c1, _ := Preset("trn1")
	c2, _ := Preset("trn2")
	cases := []struct {
		c    Config
		d    isa.DType
		want float64
	}{
		{c2, isa.BF16, 2 * 128 * 128 * 2.4e9}, // 78.6 TFLOPS (A §1.1: 79)
		{c2, isa.FP32, 2 * 128 * 128 * 2.4e9 / 4},
		{c2, isa.FP8E4M3, 2 * 2 * 128 * 128 * 2.4e9}, // double row: 157 (A §1.1: 158)
		{c1, isa.FP8E4M3, 2 * 128 * 128 * 2.8e9},     // cFP8 at the BF16 rate on NC-v2
		{c1, isa.FP16, 2 * 128 * 128 * 2.8e9},        // 91.75 (A §1.1: 92)
		{c2, isa.Int32, 0},
	}
	for _, tc := range cases {
		if got := tc.c.PeakFLOPs(tc.d); math.Abs(got-tc.want) > 1 {
			t.Errorf("%s %s: PeakFLOPs = %g, want %g", tc.c.Name, tc.d, got, tc.want)
		}
	}
	near(t, "trn2 HBM", c2.HBMBytesPerSec(), 362.5e9)
	// The trn2 fixed DMA cost reproduces the measured 32 KiB transfer.
	near(t, "trn2 32 KiB transfer", c2.DMAFixedNs()+32768/c2.DMAPeakBytesPerNs, 1416)
}

func TestLoadConfig(t *testing.T) {
	base, _ := Preset("trn2")
	t.Run("partial override", func(t *testing.T) {
		c, err := LoadConfig(strings.NewReader(`{"vector_ghz": 1.5, "throttle": false}`), base)
		if err != nil {
			t.Fatal(err)
		}
		if c.VectorGHz != 1.5 || c.Throttle {
			t.Errorf("overrides not applied: vector_ghz %v throttle %v", c.VectorGHz, c.Throttle)
		}
		want := base
		want.VectorGHz, want.Throttle = 1.5, false
		if c != want {
			t.Errorf("fields absent from the JSON changed:\n got %+v\nwant %+v", c, want)
		}
	})
	errs := []struct {
		name, json, field string
	}{
		{"unknown field", `{"tensor_gz": 2.0}`, "tensor_gz"},
		{"zero clock", `{"tensor_ghz": 0}`, "tensor_ghz"},
		{"negative latency", `{"dma_start_latency_ns": -1}`, "dma_start_latency_ns"},
		{"wrong type", `{"dma_engines": "sixteen"}`, "dma_engines"},
		{"sustained above peak", `{"dma_sustained_bytes_per_ns": 30}`, "dma_sustained_bytes_per_ns"},
		{"bad name", `{"name": "trn9"}`, "name"},
		{"throttle rate", `{"throttle_rate": 0}`, "throttle_rate"},
		{"too many queues", `{"dma_queues": 17}`, "dma_queues"},
		{"rename", `{"name": "trn3"}`, "name"},
		{"old price field", `{"price_usd_per_chip_hour": 2.5}`, "price_usd_per_chip_hour"},
		{"null document", `null`, ""},
		{"trailing brace", `{}}`, ""},
		{"empty document", ``, ""},
		{"null value", `{"tensor_ghz": null}`, "tensor_ghz"},
		{"wrong case", `{"Tensor_GHz": 3}`, "Tensor_GHz"},
		{"duplicate", `{"dma_queues": 8, "dma_queues": 4}`, "dma_queues"},
		{"tiny dma rate", `{"dma_peak_bytes_per_ns": 1e-300, "dma_sustained_bytes_per_ns": 1e-300}`, "dma_peak_bytes_per_ns"},
		{"MaxInt64 cycles", `{"semaphore_cycles": 9223372036854775807}`, "semaphore_cycles"},
		{"int overflow", `{"semaphore_cycles": 9223372036854775808}`, "semaphore_cycles"},
		{"float overflow", `{"dge_ns": 1e999}`, "dge_ns"},
		{"huge clock", `{"tensor_ghz": 1e12}`, "tensor_ghz"},
		{"huge hbm", `{"hbm_bytes_per_ns": 1e300}`, "hbm_bytes_per_ns"},
		{"fraction for int", `{"dma_engines": 15.5}`, "dma_engines"},
		{"util above 1", `{"throttle_util": 2}`, "throttle_util"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(strings.NewReader(tc.json), base)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Errorf("err = %v, want a ConfigError naming %q", err, tc.field)
			}
		})
	}
	for _, bad := range []string{``, `{`, `[]`, `{"tensor_ghz": 2} {}`, `null`, `{}}`, `{} x`, `"x"`} {
		if _, err := LoadConfig(strings.NewReader(bad), base); err == nil {
			t.Errorf("LoadConfig(%q): no error", bad)
		}
	}
}

// FuzzLoadConfig: any input either loads a valid configuration or is an
// error; it never panics.
func FuzzLoadConfig(f *testing.F) {
	f.Add(`{"vector_ghz": 1.5}`)
	f.Add(`{"dma_engines": 8, "dma_partitions_per_engine": 16}`)
	f.Add(`{"throttle": true, "throttle_rate": 0.25}`)
	f.Add(`{"name": "trn1"}`)
	f.Add(`not json`)
	f.Add(`null`)
	f.Add(`{}}`)
	f.Add(`{"TENSOR_GHZ": 1}`)
	f.Add(`{"semaphore_cycles": 9223372036854775807}`)
	f.Add(`{"hbm_bytes_per_ns": 1e-300}`)
	f.Add(`{"dma_queues": 1, "dma_engines": 32, "dma_partitions_per_engine": 4096}`)
	base, _ := Preset("trn2")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := LoadConfig(strings.NewReader(s), base)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("LoadConfig accepted an invalid config: %v", err)
		}
		// A loaded configuration must run a small program without panicking.
		if _, err := Run(tiledProgram(t, 128, 512, 256, 2), c); err != nil {
			t.Fatalf("Run with a loaded config: %v", err)
		}
	})
}

// TestEveryFieldBounded: each numeric field of Config has a plausibility
// bound, so no value a hardware file sets escapes range checking.
func TestEveryFieldBounded(t *testing.T) {
	c, _ := Preset("trn2")
	bounded := map[string]bool{}
	for _, b := range c.bounds() {
		bounded[b.Field] = true
	}
	rt := reflect.TypeOf(c)
	for i := range rt.NumField() {
		f := rt.Field(i)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64:
			if name := f.Tag.Get("json"); !bounded[name] {
				t.Errorf("field %s (%s) has no bound", f.Name, name)
			}
		}
	}
}
