package bench

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/trnsim/trnsim/prices"
	"github.com/trnsim/trnsim/sim/neuron"
)

// Price is one row of a price table: what an accelerator costs per hour,
// kept apart from the micro-architecture (sim/neuron, sim/gpu) because it
// changes with the market, not with the silicon.
type Price struct {
	// USDPerHour is the price of one Per for one hour, in US dollars.
	USDPerHour float64
	// Per is the unit USDPerHour buys: "chip" (a Trainium chip, shared by
	// its NeuronCores), "core" (one NeuronCore) or "gpu".
	Per string
	// Basis says how it is bought: "on-demand", "capacity-block", "spot",
	// "reserved-1yr" (prices/prices.csv), or "user" for a -price override.
	Basis string
	// Date is when the price was seen; Source is where (the instance row
	// of prices/prices.csv and its docs/systems.md D4 row, or "-price").
	Date, Source string
}

// Price units.
const (
	PerChip = "chip"
	PerCore = "core"
	PerGPU  = "gpu"
)

// Validate checks that the price is a positive, finite number of dollars
// per hour, at most 1e6, per a known unit.
func (p Price) Validate() error {
	if !(p.USDPerHour > 0) || p.USDPerHour > 1e6 {
		return fmt.Errorf("%v USD per hour: want a positive price of at most 1e6", p.USDPerHour)
	}
	switch p.Per {
	case PerChip, PerCore, PerGPU:
		return nil
	}
	return fmt.Errorf("price per %q: want chip, core or gpu", p.Per)
}

// PriceTable maps target names to their prices. A target without a row
// has no price: its cost columns stay empty.
type PriceTable map[string]Price

// defaultInstance says which instance a target's default price is read
// from: the instance type, how many chips (GPUs) it holds, and the basis
// used (each chosen so that Trainium and GPU targets can be compared on
// the same basis where the file has one: capacity blocks for trn2, h100
// and h200; on-demand where that is the only basis listed for the part).
type defaultInstance struct {
	instance string
	chips    int
	basis    string
}

// defaultInstances maps core targets to their instance. Targets without a
// published price for the exact part have no entry rather than a guess:
// trn3 (no instance SKU, docs/systems.md D2.1 "Trn3 availability") and
// h100-pcie (no AWS instance).
var defaultInstances = map[string]defaultInstance{
	"trn1": {"trn1.32xlarge", 16, "on-demand"},      // docs/systems.md D4.1: 16 Trainium1
	"trn2": {"trn2.48xlarge", 16, "capacity-block"}, // D4.1: 16 Trainium2; D4.3: no on-demand SKU
	"a100": {"p4de.24xlarge", 8, "on-demand"},       // D4.1: 8 × A100 80 GB, the a100 preset's part
	"h100": {"p5.48xlarge", 8, "capacity-block"},    // D4.1: 8 × H100 80 GB
	"h200": {"p5e.48xlarge", 8, "capacity-block"},   // D4.1: 8 × H200 141 GB
	"b200": {"p6-b200.48xlarge", 8, "on-demand"},    // D4.1: 8 × B200
}

// DefaultInstance returns the instance type a core target's default price
// is read from and how many chips (GPUs) it holds; ok is false when the
// target has none.
func DefaultInstance(target string) (instance string, chips int, ok bool) {
	d, ok := defaultInstances[target]
	return d.instance, d.chips, ok
}

// DefaultPrices returns the price of one chip (or GPU) per hour for each
// core target that has one, derived from the one price file
// (prices/prices.csv, docs/systems.md D4): the instance row's price over its
// chips.
func DefaultPrices() PriceTable {
	pt := PriceTable{}
	for name, d := range defaultInstances {
		row, ok := prices.Find(d.instance, d.basis)
		if !ok {
			continue // checked by a test: every entry has its row
		}
		per := PerGPU
		if _, err := neuron.Preset(name); err == nil {
			per = PerChip
		}
		pt[name] = Price{USDPerHour: row.USDPerHour / float64(d.chips), Per: per, Basis: row.Basis, Date: row.Date,
			Source: fmt.Sprintf("%s %s %.2f USD/h / %d (%s)", d.instance, row.Basis, row.USDPerHour, d.chips, row.Source)}
	}
	return pt
}

// With returns a copy of the table with target's row replaced by p.
func (pt PriceTable) With(target string, p Price) PriceTable {
	out := make(PriceTable, len(pt)+1)
	for k, v := range pt {
		out[k] = v
	}
	out[target] = p
	return out
}

// Targets lists the targets that have a price, sorted.
func (pt PriceTable) Targets() []string {
	var names []string
	for k := range pt {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// UnitPrice is a target's price per unit of what it times: one NeuronCore
// (a chip price shared by the chip's cores) or one GPU.
type UnitPrice struct {
	// PerUnitHour is USD per unit-hour; NaN when no price is known.
	PerUnitHour float64
	Unit        string // "NeuronCore" or "GPU"
	// From is the table row it comes from (zero when unknown).
	From Price
}

// Known reports whether a price is set.
func (u UnitPrice) Known() bool { return !math.IsNaN(u.PerUnitHour) && u.PerUnitHour > 0 }

// unitPrice converts target's row to a price per unit; coresPerChip
// shares a chip price among NeuronCores.
func (pt PriceTable) unitPrice(target, unit string, coresPerChip int) UnitPrice {
	p, ok := pt[target]
	if !ok {
		return noPrice(unit)
	}
	usd := p.USDPerHour
	if p.Per == PerChip && coresPerChip > 0 {
		usd /= float64(coresPerChip)
	}
	return UnitPrice{PerUnitHour: usd, Unit: unit, From: p}
}

// chipPrice is the price of one chip-hour of the Trainium generation
// target (a core preset name) with cores physical cores: a chip row as it
// is, a core row times the cores.
func (pt PriceTable) chipPrice(target string, cores int) UnitPrice {
	p, ok := pt[target]
	if !ok {
		return noPrice("chip")
	}
	usd := p.USDPerHour
	if p.Per == PerCore {
		usd *= float64(cores)
	}
	return UnitPrice{PerUnitHour: usd, Unit: "chip", From: p}
}

// PriceUnits states what -price means, for -h and errors.
const PriceUnits = "USD per chip-hour (a Trainium chip: its NeuronCores share it; a GPU) or per instance-hour: " +
	"target=USD, target=USD/chip-hour or target=USD/instance-hour (the target's instance: trn1.32xlarge, trn2.48xlarge 16 chips; p4de, p5, p5e, p6-b200 8 GPUs)"

// ParsePriceOverride reads the value of -price for target: "USD" or
// "USD/chip-hour" (one chip-hour; a GPU is a chip), or
// "USD/instance-hour" (one hour of the target's default instance,
// DefaultInstance, shared by its chips). The price of one chip-hour must be
// a positive finite number of at most 1e6.
func ParsePriceOverride(target, usd string) (Price, error) {
	num, unit, hasUnit := strings.Cut(usd, "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return Price{}, fmt.Errorf("-price %s=%s: not a number (want %s)", target, usd, PriceUnits)
	}
	core := target
	if c, _, _, ok := parseChipName(target); ok {
		core = c
	}
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "chip-hour", "chip", "gpu-hour", "gpu":
		case "instance-hour", "instance":
			_, chips, ok := DefaultInstance(core)
			if !ok {
				return Price{}, fmt.Errorf("-price %s=%s: %s has no instance type to divide by; give USD/chip-hour", target, usd, target)
			}
			v /= float64(chips)
		default:
			return Price{}, fmt.Errorf("-price %s=%s: unit %q: allowed chip-hour, instance-hour", target, usd, unit)
		}
	}
	per := PerGPU
	if slices.Contains(neuron.PresetNames(), core) {
		per = PerChip
	}
	p := Price{USDPerHour: v, Per: per, Basis: "user", Source: "-price"}
	if err := p.Validate(); err != nil {
		return Price{}, fmt.Errorf("-price %s=%s: %v", target, usd, err)
	}
	return p, nil
}
