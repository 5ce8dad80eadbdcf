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

// TestPrices: the table's prices per unit are the ones rows used before
// prices left the configurations (trn1: the chip's price over its two
// cores), and targets without a published price have none.
func TestPrices(t *testing.T) {
	want := map[string]float64{"trn1": 21.50 / 16.0 / 2, "trn1-chip": 21.50 / 16.0, "h100": 4.92, "h200": 5.41}
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
		if p.PerUnitHour != w || p.From.Source == "" || p.From.Basis == "" || p.From.Date == "" {
			t.Errorf("%s: price %+v, want %v per unit with its source", name, p, w)
		}
	}
	for name, row := range DefaultPrices() {
		if err := row.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{"NaN", "Inf", "-Inf", "-1", "0", "1e7", "x", ""} {
		if _, err := ParsePriceOverride("h100", bad); err == nil {
			t.Errorf("-price h100=%s accepted", bad)
		}
	}
	p, err := ParsePriceOverride("trn2", "0.5")
	if err != nil || p.Per != PerCore {
		t.Fatalf("-price trn2=0.5: %+v, %v", p, err)
	}
	tg, err := ResolveTarget("trn2", "", DefaultPrices().With("trn2", p))
	if err != nil || tg.Price().PerUnitHour != 0.5 {
		t.Errorf("trn2 with -price 0.5 per core: %+v, %v", tg.Price(), err)
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
