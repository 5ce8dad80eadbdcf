package bench

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/sim/gpu"
	"github.com/trnsim/trnsim/sim/neuron"
)

func TestResolveTargetIdentity(t *testing.T) {
	for _, name := range AllTargets() {
		tg, err := TargetByName(name, "")
		if err != nil {
			t.Fatal(err)
		}
		if tg.Name() != name {
			t.Errorf("%s: Name() = %q", name, tg.Name())
		}
		switch tg := tg.(type) {
		case *NeuronTarget:
			if tg.Unit() != "NeuronCore" || tg.Arch().Name != name || tg.Config().Name != name {
				t.Errorf("%s: unit %s, arch %s, config %s", name, tg.Unit(), tg.Arch().Name, tg.Config().Name)
			}
		case *GPUTarget:
			if tg.Unit() != "GPU" || tg.Config().Name != name {
				t.Errorf("%s: unit %s, config %s", name, tg.Unit(), tg.Config().Name)
			}
		case *ChipTarget:
			if tg.Unit() != "chip" || RowUnit(tg) != results.UnitChip || tg.Core().Config().CoresPerChip != tg.Chip().PhysicalCores {
				t.Errorf("%s: unit %s, core %s", name, tg.Unit(), tg.Core().Name())
			}
		default:
			t.Errorf("%s: %T", name, tg)
		}
	}
	if _, err := TargetByName("tpu", ""); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("tpu: %v, want ErrUnknownTarget", err)
	}
}

// TestHWCannotRelabel: a hardware file that names another target is
// refused with a typed error naming the file and the field; one that names
// its own target, or none, applies.
func TestHWCannotRelabel(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		target, json string
		field        string // "" = loads
	}{
		{"trn2", `{"name": "trn3"}`, "name"},
		{"h100", `{"name": "h200"}`, "name"},
		{"trn2", `{"name": "trn2", "hbm_bytes_per_ns": 400}`, ""},
		{"h100", `{"sms": 100}`, ""},
		{"trn2", `{"hbm_bytes_per_ns": 1e-300}`, "hbm_bytes_per_ns"},
		{"h100", `{"hbm_gbps": 1e-300}`, "hbm_gbps"},
	}
	for i, tc := range tests {
		file := write(tc.target+string(rune('a'+i))+".json", tc.json)
		tg, err := TargetByName(tc.target, file)
		if tc.field == "" {
			if err != nil || tg.Name() != tc.target {
				t.Errorf("%s %s: %v", tc.target, tc.json, err)
			}
			continue
		}
		var he *HWError
		var ne *neuron.ConfigError
		var ge *gpu.ConfigError
		switch {
		case !errors.As(err, &he) || he.File != file:
			t.Errorf("%s %s: %v, want an HWError naming %s", tc.target, tc.json, err, file)
		case errors.As(err, &ne):
			if ne.Field != tc.field {
				t.Errorf("%s %s: field %q, want %q", tc.target, tc.json, ne.Field, tc.field)
			}
		case errors.As(err, &ge):
			if ge.Field != tc.field {
				t.Errorf("%s %s: field %q, want %q", tc.target, tc.json, ge.Field, tc.field)
			}
		default:
			t.Errorf("%s %s: %v is no ConfigError", tc.target, tc.json, err)
		}
	}
}

// TestPrices: every target's price per unit is its instance row of the one
// price file over the instance's chips (a NeuronCore: the chip's price over
// its cores), with basis, date and source; targets without a published
// price for their part have none.
func TestPrices(t *testing.T) {
	want := map[string]float64{
		"trn1": 21.50 / 16 / 2, "trn1-chip": 21.50 / 16, // trn1.32xlarge on-demand
		"trn2": 35.76 / 16 / 8, "trn2-chip": 35.76 / 16, "trn2-chip-lnc1": 35.76 / 16, // trn2.48xlarge capacity block
		"a100": 27.44705 / 8, "h100": 39.33 / 8, "h200": 43.26 / 8, "b200": 113.9328 / 8,
	}
	for _, name := range AllTargets() {
		tg, err := TargetByName(name, "")
		if err != nil {
			t.Fatal(err)
		}
		p := tg.Price()
		w, ok := want[name]
		if !ok {
			if p.Known() || !math.IsNaN(p.PerUnitHour) {
				t.Errorf("%s: price %v, want none", name, p.PerUnitHour)
			}
			continue
		}
		if math.Abs(p.PerUnitHour-w) > 1e-12 || p.From.Source == "" || p.From.Basis == "" || p.From.Date == "" {
			t.Errorf("%s: price %+v, want %v per unit with its source", name, p, w)
		}
	}
	for name := range defaultInstances {
		if _, ok := DefaultPrices()[name]; !ok {
			t.Errorf("%s: its instance row is missing from prices/prices.csv", name)
		}
	}
	for name, row := range DefaultPrices() {
		if err := row.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{"NaN", "Inf", "-Inf", "-1", "0", "1e7", "x", "", "4/hour", "4/core-hour"} {
		if _, err := ParsePriceOverride("h100", bad); err == nil {
			t.Errorf("-price h100=%s accepted", bad)
		}
	}
	if _, err := ParsePriceOverride("trn3", "40/instance-hour"); err == nil {
		t.Error("-price trn3=40/instance-hour accepted: trn3 has no instance type")
	}
	// -price is per chip-hour (or instance-hour): a NeuronCore's share is
	// the chip's over its cores, a chip target's the chip's.
	for _, tt := range []struct {
		target, val string
		want        float64
	}{
		{"trn2", "4", 0.5},
		{"trn2", "4/chip-hour", 0.5},
		{"trn2", "64/instance-hour", 0.5},
		{"trn2-chip", "64/instance-hour", 4},
		{"trn2-chip", "4", 4},
		{"h100", "80/instance-hour", 10},
		{"h100", "10/chip-hour", 10},
	} {
		p, err := ParsePriceOverride(tt.target, tt.val)
		if err != nil {
			t.Fatalf("-price %s=%s: %v", tt.target, tt.val, err)
		}
		tg, err := ResolveTarget(tt.target, "", DefaultPrices().With(tt.target, p))
		if err != nil || math.Abs(tg.Price().PerUnitHour-tt.want) > 1e-12 || tg.Price().From.Basis != "user" {
			t.Errorf("-price %s=%s: %+v, %v; want %v per unit", tt.target, tt.val, tg.Price(), err, tt.want)
		}
	}
}

func TestSweepRefusesDuplicateTargets(t *testing.T) {
	ws := []kernels.Params{mustParse(t, "matmul:M=128,N=128,K=128")}
	ran := 0
	_, err := SweepTargets(t.Context(), ws, fakeTargets("trn2", "h100", "trn2"), Options{run: func(Item) (results.Row, error) { ran++; return results.Row{}, nil }})
	if !errors.Is(err, ErrDuplicateTarget) || ran != 0 {
		t.Errorf("err %v after %d runs, want ErrDuplicateTarget before any", err, ran)
	}
	if _, err := Sweep(t.Context(), ws, []string{"h100", "h100"}, Options{}); !errors.Is(err, ErrDuplicateTarget) {
		t.Errorf("Sweep: %v, want ErrDuplicateTarget", err)
	}
}
