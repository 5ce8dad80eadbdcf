package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/results"
)

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeRows(t, p("s0.csv"), timingRow("a", "trn2", 1), timingRow("c", "trn2", 3))
	writeRows(t, p("s1.csv"), timingRow("b", "trn2", 2))
	stdout, stderr, code := runCLI("merge", "-o", p("all.csv"), p("s0.csv"), p("s1.csv"))
	if code != 0 || !strings.Contains(stdout, "wrote 3 rows from 2 files to "+p("all.csv")) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	rows, err := results.ReadCSVFile(p("all.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, r := range rows {
		specs = append(specs, r.Spec)
	}
	if strings.Join(specs, " ") != "a c b" {
		t.Errorf("merged %v, want a c b", specs)
	}
	// "-o -" writes to standard output.
	stdout, _, code = runCLI("merge", "-o", "-", p("s1.csv"))
	if code != 0 || !strings.HasPrefix(stdout, "kernel,variant,target,") || !strings.Contains(stdout, "\nmatmul,,trn2,") {
		t.Errorf("merge -o -: exit %d, stdout %q", code, stdout)
	}
}

func TestMergeBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	good := filepath.Join(dir, "good.csv")
	writeRows(t, good, timingRow("a", "trn2", 1))
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("kernel,target\nmatmul,trn2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"merge", good}, "-o FILE.csv is required"},
		{[]string{"merge", "-o", out}, "want one or more shard files"},
		{[]string{"merge", "-o", out, good, good}, good + ":2: duplicate row trn2 a (first at " + good + ":2)"},
		{[]string{"merge", "-o", out, good, bad}, "bad.csv:1: missing columns"},
		{[]string{"merge", "-o", out, filepath.Join(dir, "none.csv")}, "none.csv"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantUsageError(t, tt.args, tt.want, out)
		})
	}
}
