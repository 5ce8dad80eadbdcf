package main

import (
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trnsim/trnsim/results"
)

// TestLayerOutput: a composite workload's -format csv has one row per
// (target, part) with the part name in its own column, and its per-part
// text table fits in 120 columns (it was 158-162 wide).
func TestLayerOutput(t *testing.T) {
	const layer = "layer:model=llama3-70b,phase=prefill,tokens=512"
	targets := "trn1,trn2,h100-pcie"
	text, stderr, code := runCLI("run", layer, "-target", targets)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, breakdown, ok := strings.Cut(text, "breakdown")
	if !ok {
		t.Fatalf("no breakdown:\n%s", text)
	}
	for _, line := range strings.Split(breakdown, "\n") {
		if n := utf8.RuneCountInString(line); n > 120 {
			t.Errorf("%d columns: %s", n, line)
		}
	}

	out, stderr, code := runCLI("run", layer, "-target", targets, "-format", "csv")
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "target,part,count,us_each,us_total,share_pct,bound,spec" {
		t.Fatalf("header %v", recs[0])
	}
	sums := map[string]float64{}
	totals := map[string]float64{}
	parts := map[string]int{}
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatalf("us_total %q: %v", r[4], err)
		}
		if r[1] == "total" {
			totals[r[0]] = v
			continue
		}
		parts[r[0]]++
		sums[r[0]] += v
		if r[1] == "" || strings.Contains(r[1], ":") || !strings.Contains(r[7], ":") {
			t.Errorf("row %v: want the part name and its workload spec in their own columns", r)
		}
	}
	for _, tg := range strings.Split(targets, ",") {
		if parts[tg] < 5 || math.Abs(sums[tg]-totals[tg]) > 1e-9*totals[tg] {
			t.Errorf("%s: %d parts summing to %v, total %v", tg, parts[tg], sums[tg], totals[tg])
		}
	}

	// -format results keeps the results CSV of the whole layer.
	res, _, code := runCLI("run", layer, "-target", targets, "-format", "results")
	rows, err := results.ReadCSV(strings.NewReader(res), "results")
	if code != 0 || err != nil || len(rows) != 3 || rows[1].TimeUs != totals["trn2"] {
		t.Errorf("-format results: exit %d, %v, %d rows", code, err, len(rows))
	}
}
