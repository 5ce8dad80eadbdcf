package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trnsim/trnsim/prices"
)

// Price is what one instance-hour of a system costs on one purchase basis:
// a row of the one price file, prices/prices.csv (package prices).
type Price = prices.Row

// builtinPrices returns the price file's rows.
func builtinPrices() []Price { return prices.All() }

// PriceFor picks the system's price on basis ("" = the system's default,
// the first row of its instance type). ok is false when none is known.
func (s System) PriceFor(basis string) (Price, bool) {
	for _, p := range s.Prices {
		if basis == "" || p.Basis == basis {
			return p, true
		}
	}
	return Price{}, false
}

// PerChipHour is the price of one chip-hour of system s at price p.
func (s System) PerChipHour(p Price) float64 { return p.USDPerHour / float64(s.InstanceChips) }

// ParsePriceFlag parses one -price entry, "SYSTEM=USD/UNIT" with UNIT
// chip-hour (or chip) or instance-hour (or instance), and returns the price
// of one instance-hour of the named system.
func ParsePriceFlag(entry string, s System) (Price, error) {
	_, val, _ := strings.Cut(entry, "=")
	num, unit, ok := strings.Cut(val, "/")
	if !ok {
		return Price{}, fmt.Errorf("-price %q: want SYSTEM=USD/chip-hour or SYSTEM=USD/instance-hour (the unit is required)", entry)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return Price{}, fmt.Errorf("-price %q: %q is not a positive price in USD", entry, num)
	}
	switch strings.TrimSpace(unit) {
	case "chip-hour", "chip":
		v *= float64(s.InstanceChips)
	case "instance-hour", "instance":
	default:
		return Price{}, fmt.Errorf("-price %q: unit %q: allowed chip-hour, instance-hour", entry, unit)
	}
	return Price{Instance: s.PriceInstance, USDPerHour: v, Basis: "user", Source: "-price"}, nil
}
