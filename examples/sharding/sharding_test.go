package sharding

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// commands returns the trnsim sweep and merge command lines of an example
// file: the lines (after any YAML "- run: " prefix) that start with
// "trnsim sweep" and "trnsim merge".
func commands(t *testing.T, file string) (sweep, merge string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		l = strings.TrimPrefix(l, "- ")
		l = strings.TrimPrefix(l, "run: ")
		switch {
		case strings.HasPrefix(l, "trnsim sweep "):
			sweep = l
		case strings.HasPrefix(l, "trnsim merge "):
			merge = l
		}
	}
	if sweep == "" || merge == "" {
		t.Fatalf("%s: no trnsim sweep or merge line", file)
	}
	if !strings.Contains(sweep, "-shard auto") {
		t.Fatalf("%s: the sweep does not use -shard auto: %s", file, sweep)
	}
	return sweep, merge
}

// buildTrnsim builds the command into a temporary directory.
func buildTrnsim(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "trnsim"), "github.com/trnsim/trnsim/cmd/trnsim")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// sh runs line with sh in dir, with only PATH (bin first), HOME and env
// set, so the test's own environment (a CI's variables) cannot leak in.
func sh(t *testing.T, bin, dir, line string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestExamples builds trnsim and runs each example's sweeps and merge
// (13 sweeps per example, a few seconds in all), so it runs in make test.
func TestExamples(t *testing.T) {
	bin := buildTrnsim(t)
	ref := t.TempDir()
	if out, err := sh(t, bin, ref, "trnsim sweep -suite representative -targets trn2,h100 -j 2 -o full.csv"); err != nil {
		t.Fatalf("unsharded sweep: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(ref, "full.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	for _, tc := range []struct {
		file string
		env  func(i int) []string // the variables the system sets in task i
	}{
		{"kubernetes-indexed-job.yaml", func(i int) []string {
			return []string{fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i), fmt.Sprintf("TRNSIM_SHARD_COUNT=%d", n)}
		}},
		// --array=1-4: the task ids start at 1, SLURM_ARRAY_TASK_MIN says so.
		{"slurm-array.sh", func(i int) []string {
			return []string{fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i+1), fmt.Sprintf("SLURM_ARRAY_TASK_COUNT=%d", n), "SLURM_ARRAY_TASK_MIN=1"}
		}},
		{"github-actions.yml", func(i int) []string {
			return []string{fmt.Sprintf("TRNSIM_SHARD_INDEX=%d", i), fmt.Sprintf("TRNSIM_SHARD_COUNT=%d", n)}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sweep, merge := commands(t, tc.file)
			if tc.file == "slurm-array.sh" {
				// The script itself runs, as sbatch would run it.
				abs, err := filepath.Abs(tc.file)
				if err != nil {
					t.Fatal(err)
				}
				sweep, merge = "sh "+abs, "sh "+abs+" merge"
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "results")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			// Tasks in reverse order: the merged order must not depend on it.
			for i := n - 1; i >= 0; i-- {
				if o, err := sh(t, bin, dir, sweep, append(tc.env(i), "OUT="+out)...); err != nil {
					t.Fatalf("shard %d: %v\n%s", i, err, o)
				}
			}
			if o, err := sh(t, bin, dir, merge, "OUT="+out); err != nil {
				t.Fatalf("merge: %v\n%s", err, o)
			}
			got, err := os.ReadFile(filepath.Join(out, "all.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("merged shards differ from the unsharded sweep:\n%s\nwant:\n%s", got, want)
			}
			// An incomplete set is refused, naming the missing shard.
			if err := os.Remove(filepath.Join(out, "all.csv")); err != nil {
				t.Fatal(err)
			}
			shard2 := filepath.Join(out, "shard-2.csv")
			// slurm's task 3 is shard 2/4; the others name files by shard.
			if tc.file == "slurm-array.sh" {
				shard2 = filepath.Join(out, "shard-3.csv")
			}
			if err := os.Remove(shard2); err != nil {
				t.Fatal(err)
			}
			o, err := sh(t, bin, dir, merge, "OUT="+out)
			if err == nil || !strings.Contains(o, "missing 2/4") {
				t.Errorf("merge of an incomplete set: %v\n%s", err, o)
			}
			if _, err := os.Stat(filepath.Join(out, "all.csv")); err == nil {
				t.Error("an incomplete merge wrote its output")
			}
		})
	}
	// With no batch system's variables, -shard auto fails and says what it
	// looked for.
	o, err := sh(t, bin, t.TempDir(), "trnsim sweep -suite representative -shard auto -o x.csv")
	if err == nil || !strings.Contains(o, "JOB_COMPLETION_INDEX") || !strings.Contains(o, "SLURM_ARRAY_TASK_ID") || !strings.Contains(o, "TRNSIM_SHARD_INDEX") {
		t.Errorf("-shard auto without variables: %v\n%s", err, o)
	}
}
