package neuron

import (
	"errors"
	"math"
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
	near(t, "trn1 price", c1.PriceUSDPerChipHour, 21.50/16)
	if !math.IsNaN(c2.PriceUSDPerChipHour) {
		t.Errorf("trn2 price = %v, want NaN (unpublished)", c2.PriceUSDPerChipHour)
	}
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
		// NaN price compares unequal to itself: compare the rest.
		c.PriceUSDPerChipHour, want.PriceUSDPerChipHour = 0, 0
		if c != want {
			t.Errorf("fields absent from the JSON changed:\n got %+v\nwant %+v", c, want)
		}
	})
	t.Run("price set", func(t *testing.T) {
		c, err := LoadConfig(strings.NewReader(`{"price_usd_per_chip_hour": 2.5}`), base)
		if err != nil || c.PriceUSDPerChipHour != 2.5 {
			t.Fatalf("price override: %v, %v", c.PriceUSDPerChipHour, err)
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
	for _, bad := range []string{``, `{`, `[]`, `{"tensor_ghz": 2} {}`} {
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
