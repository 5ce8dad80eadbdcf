// Package prices is trnsim's one source of prices: what an instance-hour
// of each instance type costs, on each purchase basis, with the date it was
// read, the region and the source (a docs/systems.md D4 row). bench derives the
// price of one chip or GPU from it and serve prices whole systems with it.
//
// Units: USD per instance-hour. A price is market data, not hardware: it is
// kept apart from the timing models and from the chip facts (sim/chip).
package prices

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Row is what one instance-hour of an instance type costs on one purchase
// basis. The first row of each instance in prices.csv is its default for
// serve.
type Row struct {
	Instance   string
	USDPerHour float64 // per instance-hour
	Basis      string  // on-demand, capacity-block, spot, reserved-1yr, user
	Date       string  // when the price was read
	Region     string
	Source     string // docs/systems.md row and its source key
}

// Header is the first line of prices.csv.
const Header = "instance,basis,usd_per_instance_hour,date,region,source"

//go:embed prices.csv
var pricesCSV string

// All returns the built-in rows, in file order, a new slice on each call.
// The embedded file is checked by a test, so a parse error here is a
// programming error.
func All() []Row {
	ps, err := Parse(pricesCSV)
	if err != nil {
		panic(err)
	}
	return ps
}

// Parse reads a price file: Header, then one row per (instance, basis).
func Parse(text string) ([]Row, error) {
	r := csv.NewReader(strings.NewReader(text))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("prices.csv: %w", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != Header {
		return nil, fmt.Errorf("prices.csv: bad header (want %s)", Header)
	}
	var ps []Row
	for i, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[2], 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("prices.csv:%d: usd_per_instance_hour %q: want a positive number", i+2, r[2])
		}
		if r[0] == "" || r[1] == "" || r[3] == "" || r[5] == "" {
			return nil, fmt.Errorf("prices.csv:%d: instance, basis, date and source are required", i+2)
		}
		ps = append(ps, Row{Instance: r[0], Basis: r[1], USDPerHour: v, Date: r[3], Region: r[4], Source: r[5]})
	}
	return ps, nil
}

// Find returns the built-in row of instance on basis ("" = the instance's
// first row); ok is false when there is none.
func Find(instance, basis string) (Row, bool) {
	for _, p := range All() {
		if p.Instance == instance && (basis == "" || p.Basis == basis) {
			return p, true
		}
	}
	return Row{}, false
}
