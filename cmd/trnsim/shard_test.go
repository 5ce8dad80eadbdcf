package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/results"
)

// TestSweepShardAutoAndMerge: -shard auto from a Slurm array's variables
// writes each shard with its sidecar; merge in any argument order equals
// the unsharded sweep, and refuses an incomplete set or a file without a
// sidecar among shards.
func TestSweepShardAutoAndMerge(t *testing.T) {
	for _, v := range []string{"TRNSIM_SHARD_INDEX", "TRNSIM_SHARD_COUNT", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_MIN"} {
		t.Setenv(v, "") // the test's own environment must not choose the shard
	}
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	sweep := []string{"sweep", "-suite", "representative", "-targets", "trn2,h100", "-j", "2"}
	for _, i := range []string{"1", "0", "2"} {
		t.Setenv("SLURM_ARRAY_TASK_ID", i)
		t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
		if _, stderr, code := runCLI(append(sweep, "-shard", "auto", "-o", p("s"+i+".csv"))...); code != 0 {
			t.Fatalf("shard %s: %s", i, stderr)
		}
		if _, err := os.Stat(results.ShardSidecar(p("s" + i + ".csv"))); err != nil {
			t.Fatalf("no sidecar: %v", err)
		}
	}
	if _, stderr, code := runCLI(append(sweep, "-o", p("full.csv"))...); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := runCLI("merge", "-o", p("all.csv"), p("s2.csv"), p("s0.csv"), p("s1.csv")); code != 0 {
		t.Fatal(stderr)
	}
	a, _ := os.ReadFile(p("all.csv"))
	b, _ := os.ReadFile(p("full.csv"))
	if string(a) != string(b) {
		t.Errorf("merged shards differ from the unsharded sweep")
	}
	wantUsageError(t, []string{"merge", "-o", p("x.csv"), p("s2.csv"), p("s0.csv")}, "missing 1/3", p("x.csv"))
	wantUsageError(t, []string{"merge", "-o", p("x.csv"), p("s0.csv"), p("full.csv")}, "has no shard sidecar", p("x.csv"))
	wantUsageError(t, append(sweep, "-shard", "0/2", "-shard-count", "2", "-o", p("x.csv")), "-shard-count 2 goes with -shard auto", p("x.csv"))
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	wantUsageError(t, append(sweep, "-shard", "auto", "-o", p("x.csv")), "no shard index in the environment", p("x.csv"))
	if !strings.HasSuffix(results.ShardSidecar("a.csv"), ".shard.json") {
		t.Error("sidecar name")
	}
}
