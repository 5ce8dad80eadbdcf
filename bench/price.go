package bench

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

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
	// Basis says how it is bought: "on-demand", "capacity block", or
	// "user" for a -price override.
	Basis string
	// Date is when the price was seen; Source is where (a HARDWARE.md
	// Part C row, or "-price").
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

// DefaultPrices returns the built-in price table (HARDWARE.md Part C,
// public list prices seen in 2025–2026, US East unless said). Targets
// without a published price for the exact part have no row rather than a
// guess: trn2 and trn3 (SYSTEMS.md §D4.3 lists trn2 capacity-block rates,
// not adopted here: a cost model of whole instances will choose among
// them), a100 (Part C lists only p4d's 40 GB A100, not this 80 GB part),
// h100-pcie and b200.
func DefaultPrices() PriceTable {
	return PriceTable{
		// C trn1.32xlarge: $21.50/hr for 16 Trainium1 = 1.34 per chip
		// (usage.ai "AWS Trainium vs GPU Instances", 2026-06).
		"trn1": {USDPerHour: 21.50 / 16.0, Per: PerChip, Basis: "on-demand", Date: "2026-06",
			Source: "HARDWARE.md C trn1.32xlarge, $21.50/hr / 16 Trainium1"},
		// C p5.48xlarge Capacity Block rate, 39.33 $/hr / 8 H100 = 4.92
		// (AWS EC2 Capacity Blocks pricing page, US East); the older
		// on-demand list price (12.29) predates the mid-2025 cut.
		"h100": {USDPerHour: 4.92, Per: PerGPU, Basis: "capacity block", Date: "2025-2026",
			Source: "HARDWARE.md C p5.48xlarge Capacity Block, $39.33/hr / 8 H100"},
		// C p5e/p5en Capacity Block rate (Ohio), 43.26 $/hr / 8 H200 = 5.41.
		"h200": {USDPerHour: 5.41, Per: PerGPU, Basis: "capacity block", Date: "2025-2026",
			Source: "HARDWARE.md C p5e/p5en Capacity Block (Ohio), $43.26/hr / 8 H200"},
	}
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

// ParsePriceOverride reads the value of -price T=USD for target: USD per
// hour of one unit the target times (one NeuronCore, one GPU), a positive
// finite number of at most 1e6.
func ParsePriceOverride(target, usd string) (Price, error) {
	v, err := strconv.ParseFloat(usd, 64)
	if err != nil {
		return Price{}, fmt.Errorf("-price %s=%s: not a number (want USD per hour of one NeuronCore or GPU)", target, usd)
	}
	per := PerGPU
	if slices.Contains(neuron.PresetNames(), target) {
		per = PerCore
	}
	p := Price{USDPerHour: v, Per: per, Basis: "user", Source: "-price"}
	if err := p.Validate(); err != nil {
		return Price{}, fmt.Errorf("-price %s=%s: %v", target, usd, err)
	}
	return p, nil
}
