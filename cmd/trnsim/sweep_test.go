package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/results"
)

// sweepArgs runs the first two workloads of the baseline suite on two
// targets: quick, and both kinds of model.
var sweepArgs = []string{"sweep", "-suite", "baseline", "-targets", "trn2,h100"}

func TestSweepWritesCSV(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.csv")
	// Shard 0/6 of baseline × 2 targets: items 0, 6, 12, ... of the sweep.
	stdout, stderr, code := runCLI(append(sweepArgs, "-shard", "0/6", "-j", "2", "-o", out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress written to a stderr that is not a terminal: %q", stderr)
	}
	rows, err := results.ReadCSVFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !strings.Contains(stdout, "wrote ") || !strings.Contains(stdout, "shard 0/6") {
		t.Fatalf("%d rows; stdout %q", len(rows), stdout)
	}
	// Item k = workload k/2 on target k%2; shard 0/6 holds even k, so
	// every row is on trn2.
	for _, r := range rows {
		if r.Target != "trn2" {
			t.Errorf("row %s on %s in shard 0/6, want trn2 only", r.Spec, r.Target)
		}
	}
	// The shard and its sidecar, no temporary files.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 || entries[0].Name() != "s.csv" || entries[1].Name() != "s.csv.shard.json" {
		t.Errorf("%v in the output directory, want only s.csv and s.csv.shard.json", entries)
	}
}

func TestSweepShardsMergeToWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the baseline suite three times")
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.csv")
	if _, stderr, code := runCLI(append(sweepArgs, "-o", whole)...); code != 0 {
		t.Fatalf("whole: exit %d: %s", code, stderr)
	}
	var shards []string
	for _, s := range []string{"0/3", "1/3", "2/3"} {
		f := filepath.Join(dir, "shard"+s[:1]+".csv")
		if _, stderr, code := runCLI(append(sweepArgs, "-shard", s, "-j", "1", "-o", f)...); code != 0 {
			t.Fatalf("shard %s: exit %d: %s", s, code, stderr)
		}
		shards = append(shards, f)
	}
	merged := filepath.Join(dir, "merged.csv")
	if _, stderr, code := runCLI(append([]string{"merge", "-o", merged}, shards...)...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runCLI("compare", whole, merged, "-threshold", "0%")
	if code != 0 || !strings.Contains(stdout, "0 slower beyond 0%, 0 faster beyond 0%, 0 within 0%") || strings.Contains(stdout, "only in") {
		t.Errorf("whole vs merged shards: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestSweepBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "-o", out}, "-suite is required"},
		{[]string{"sweep", "-suite", "nope", "-o", out}, `unknown suite "nope" (allowed: representative, baseline`},
		{[]string{"sweep", "-suite", "baseline"}, "-o FILE.csv is required"},
		{[]string{"sweep", "-suite", "baseline", "-shard", "2/2", "-o", out}, "want 0 ≤ i < n"},
		{[]string{"sweep", "-suite", "baseline", "-shard", "x", "-o", out}, "want i/n"},
		{[]string{"sweep", "-suite", "baseline", "-targets", "trn2,trn9", "-o", out}, "trn9"},
		{[]string{"sweep", "-suite", "baseline", "-targets", "trn2,,h100", "-o", out}, "empty or repeated target"},
		{[]string{"sweep", "-suite", "baseline", "-target", "trn2,trn2", "-o", out}, "empty or repeated target"},
		{[]string{"sweep", "-suite", "baseline", "-price", "h100=-1", "-o", out}, "want a positive price"},
		{[]string{"sweep", "-suite", "baseline", "-j", "-1", "-o", out}, "-j -1"},
		{[]string{"sweep", "-suite", "baseline", "extra", "-o", out}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantUsageError(t, tt.args, tt.want, out)
		})
	}
}

func TestSweepPrice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.csv")
	// Shard 0/n of baseline's n workloads on trn2 alone: its first workload.
	suite, err := bench.SuiteByName("baseline")
	if err != nil {
		t.Fatal(err)
	}
	shard := fmt.Sprintf("0/%d", len(suite.Specs))
	_, stderr, code := runCLI("sweep", "-suite", "baseline", "-targets", "trn2", "-shard", shard, "-price", "trn2=28.8", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows, err := results.ReadCSVFile(out)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	r := rows[0]
	// 28.8 USD per chip-hour is 3.6 per core-hour of its 8 cores, 1e-6 USD
	// per millisecond: 1e-9 USD per µs.
	if r.PricePerHourUSD != 3.6 || math.Abs(r.CostPerCallUSD-r.TimeUs*1e-9) > 1e-12*r.CostPerCallUSD {
		t.Errorf("price %v, cost per call %v for %v µs", r.PricePerHourUSD, r.CostPerCallUSD, r.TimeUs)
	}
}

func TestIsTerminal(t *testing.T) {
	var buf bytes.Buffer
	if isTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	defer pty.Close()
	if !isTerminal(pty) {
		t.Error("a pseudo-terminal is not a terminal")
	}
}
