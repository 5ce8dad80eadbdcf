package serve

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Price is what one instance-hour of a system costs on one purchase basis.
// The first row of each instance in data/prices.csv is its default.
type Price struct {
	Instance   string
	USDPerHour float64 // per instance-hour
	Basis      string  // on-demand, capacity-block, spot, reserved-1yr, user
	Date       string  // when the price was read
	Region     string
	Source     string // SYSTEMS.md row and its source key
}

//go:embed data/prices.csv
var pricesCSV string

// builtinPrices parses the embedded price file; it is checked by a test,
// so a parse error here is a programming error.
func builtinPrices() []Price {
	ps, err := parsePrices(pricesCSV)
	if err != nil {
		panic(err)
	}
	return ps
}

func parsePrices(text string) ([]Price, error) {
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("prices.csv: %w", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "instance,basis,usd_per_instance_hour,date,region,source" {
		return nil, fmt.Errorf("prices.csv: bad header")
	}
	var ps []Price
	for i, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[2], 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("prices.csv:%d: usd_per_instance_hour %q: want a positive number", i+2, r[2])
		}
		ps = append(ps, Price{Instance: r[0], Basis: r[1], USDPerHour: v, Date: r[3], Region: r[4], Source: r[5]})
	}
	return ps, nil
}

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
