package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trnsim/trnsim/results"
)

const tuneSmall = "matmul:M=256,N=1024,K=512,dtype=bf16"

// tuneOnce runs trnsim tune and returns stdout, the -csv file and the -o
// file.
func tuneOnce(t *testing.T, args ...string) (string, []byte, []byte) {
	t.Helper()
	dir := t.TempDir()
	csvPath, jsonPath := filepath.Join(dir, "all.csv"), filepath.Join(dir, "tuned.json")
	stdout, stderr, code := runCLI(append([]string{"tune", "-csv", csvPath, "-o", jsonPath}, args...)...)
	if code != 0 {
		t.Fatalf("tune %v: exit %d: %s", args, code, stderr)
	}
	c, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	return stdout, c, j
}

// TestTuneDeterministic: two runs, and -j 1 against -j 2, give the same
// bytes on standard output and in both files, on a NeuronCore and a GPU,
// exhaustive and under a budget (coordinate descent).
func TestTuneDeterministic(t *testing.T) {
	for _, extra := range [][]string{nil, {"-budget", "40", "-seed", "3"}} {
		base := append([]string{tuneSmall, "-target", "trn2,h100"}, extra...)
		o1, c1, j1 := tuneOnce(t, append(base, "-j", "1")...)
		o2, c2, j2 := tuneOnce(t, append(base, "-j", "2")...)
		o3, c3, j3 := tuneOnce(t, append(base, "-j", "2")...)
		if o1 != o2 || !bytes.Equal(c1, c2) || !bytes.Equal(j1, j2) {
			t.Errorf("%v: -j 1 and -j 2 differ", extra)
		}
		if o2 != o3 || !bytes.Equal(c2, c3) || !bytes.Equal(j2, j3) {
			t.Errorf("%v: two runs differ", extra)
		}
		if extra != nil && !strings.Contains(o1, "coordinate-descent search, 40 configurations tried") {
			t.Errorf("budget run:\n%s", o1)
		}
	}
}

// TestTuneCSV: every configuration tried is a row of the results schema
// plus the tune_* columns, the default marked once per target.
func TestTuneCSV(t *testing.T) {
	stdout, c, _ := tuneOnce(t, tuneSmall, "-target", "trn2", "-j", "2")
	lines := strings.Split(strings.TrimSpace(string(c)), "\n")
	m := regexp.MustCompile(`(\d+) configurations tried of (\d+) \((\d+) timed, (\d+) infeasible`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no summary line:\n%s", stdout)
	}
	tried, _ := strconv.Atoi(m[1])
	if len(lines)-1 != tried {
		t.Errorf("%d CSV rows, %d configurations tried", len(lines)-1, tried)
	}
	head := lines[0]
	for _, col := range []string{"tune_status", "tune_default", "tune_sbuf_bytes", "tune_variant", "tune_tiles_m", "tune_tiles_n", "tune_tiles_k"} {
		if !strings.Contains(head, col) {
			t.Errorf("header lacks %s: %s", col, head)
		}
	}
	if !strings.HasPrefix(head, strings.Join(results.ColumnNames(), ",")) {
		t.Errorf("header does not start with the results schema: %s", head)
	}
	if n := strings.Count(string(c), ",timed,true,"); n != 1 {
		t.Errorf("%d default rows, want 1", n)
	}
}

// TestTuneFigure is the figure: the 4096³ bf16 matmul on trn2
// explores at least 200 configurations within 60 s (this machine's two
// cores) and finds a plan no slower than today's best.
func TestTuneFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("times ~400 configurations of a 4096³ matmul")
	}
	start := time.Now()
	stdout, stderr, code := runCLI("tune", "matmul:M=4096,N=4096,K=4096,dtype=bf16", "-target", "trn2", "-j", "2", "-top", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if el := time.Since(start); el > 60*time.Second {
		t.Errorf("took %v, want ≤ 60 s", el)
	}
	m := regexp.MustCompile(`(\d+) configurations tried`).FindStringSubmatch(stdout)
	if n, _ := strconv.Atoi(m[1]); n < 200 {
		t.Errorf("%d configurations tried, want ≥ 200", n)
	}
	s := regexp.MustCompile(`: ([0-9.]+)x\n`).FindStringSubmatch(stdout)
	if s == nil {
		t.Fatalf("no speed-up line:\n%s", stdout)
	}
	if x, _ := strconv.ParseFloat(s[1], 64); x < 1 {
		t.Errorf("speed-up %v over the default, want ≥ 1", x)
	}
}

// gateUpTuned is a tuned file for llama3-8b decode's gate_up projection at
// batch 8 on trn2 (what `trnsim tune matmul:M=8,N=28672,K=4096,dtype=bf16
// -target trn2 -o` writes, times rounded).
const gateUpTuned = `{
  "trnsim_tuned": 1,
  "entries": [
    {
      "target": "trn2",
      "shape": "matmul:M=8,N=28672,K=4096,batch=1,dtype=bf16,variant=best,tiles_m=0,tiles_n=0,tiles_k=0",
      "tuned": "matmul:M=8,N=28672,K=4096,batch=1,dtype=bf16,variant=block_free,tiles_m=1,tiles_n=8,tiles_k=0",
      "time_us": 673.29,
      "default_time_us": 761.62
    }
  ]
}
`

func runRows(t *testing.T, args ...string) []results.Row {
	t.Helper()
	stdout, stderr, code := runCLI(append([]string{"run", "-format", "results"}, args...)...)
	if code != 0 {
		t.Fatalf("run %v: exit %d: %s", args, code, stderr)
	}
	rows, err := results.ReadCSV(strings.NewReader(stdout), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestTunedFile: -tuned changes variant=best and layer results for the
// shapes it holds on the targets it names, and nothing else; without it
// results are those of a plain run.
func TestTunedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuned.json")
	if err := os.WriteFile(path, []byte(gateUpTuned), 0o644); err != nil {
		t.Fatal(err)
	}
	const layer = "layer:model=llama3-8b,phase=decode,batch=8,context=1024"
	const gateUp = "matmul:M=8,N=28672,K=4096,dtype=bf16"
	plain := runRows(t, layer, "-target", "trn2,trn1,h100")
	tuned := runRows(t, layer, "-target", "trn2,trn1,h100", "-tuned", path)
	if !(tuned[0].TimeUs < plain[0].TimeUs) {
		t.Errorf("trn2 layer: tuned %v us, plain %v us; want faster", tuned[0].TimeUs, plain[0].TimeUs)
	}
	for i := 1; i < 3; i++ {
		if tuned[i].TimeUs != plain[i].TimeUs {
			t.Errorf("%s: -tuned changed a target the file does not name", plain[i].Target)
		}
	}
	a := runRows(t, gateUp, "-target", "trn2", "-tuned", path)
	b := runRows(t, gateUp+",variant=block_free,tiles_m=1,tiles_n=8", "-target", "trn2")
	if a[0].TimeUs != b[0].TimeUs || a[0].Variant != "block_free" {
		t.Errorf("variant=best with -tuned: %v us (%s), want the tuned plan's %v us", a[0].TimeUs, a[0].Variant, b[0].TimeUs)
	}
	named := gateUp + ",variant=fully_optimized"
	if x, y := runRows(t, named, "-target", "trn2", "-tuned", path), runRows(t, named, "-target", "trn2"); x[0].TimeUs != y[0].TimeUs {
		t.Error("-tuned changed a workload that names its variant")
	}
	other := "matmul:M=16,N=28672,K=4096,dtype=bf16"
	if x, y := runRows(t, other, "-target", "trn2", "-tuned", path), runRows(t, other, "-target", "trn2"); x[0].TimeUs != y[0].TimeUs {
		t.Error("-tuned changed a shape the file does not hold")
	}
}

func TestTuneUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"trnsim_tuned":1,"entries":[{"target":"trn9","shape":"matmul","tuned":"matmul"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tune"}, "want one WORKLOAD argument or -suite NAME"},
		{[]string{"tune", tuneSmall, "-suite", "llm"}, "want one WORKLOAD argument or -suite NAME"},
		{[]string{"tune", "-suite", "nosuch"}, "-suite"},
		{[]string{"tune", "matmul:M=0"}, "positive integer"},
		{[]string{"tune", tuneSmall, "-budget", "-1"}, "-budget -1"},
		{[]string{"tune", tuneSmall, "-j", "-2"}, "-j -2"},
		{[]string{"tune", tuneSmall, "-top", "0"}, "-top 0"},
		{[]string{"tune", tuneSmall, "-csv", "-"}, "-csv -: want a file"},
		{[]string{"tune", tuneSmall, "-o", dir}, "-o"},
		{[]string{"tune", tuneSmall, "-target", "trn9", "-csv", out}, "trn9"},
		{[]string{"run", tuneSmall, "-tuned", filepath.Join(dir, "missing.json"), "-o", out}, "-tuned"},
		{[]string{"run", tuneSmall, "-tuned", bad, "-o", out}, `target "trn9" is not a preset`},
		{[]string{"sweep", "-suite", "representative", "-tuned", bad, "-o", out}, "-tuned"},
		{[]string{"bench", "-tuned", bad, "-o", out}, "-tuned"},
	} {
		wantUsageError(t, tc.args, tc.want, out)
	}
}

// TestServeTuned: serve -tuned times its NeuronCore kernels in the tuned
// configurations (here the gate_up projection of llama3-8b at decode batch
// 8 on one logical NeuronCore, which serve runs as two N=14336 halves):
// TPOT drops; without the flag it is the plain figure.
func TestServeTuned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuned.json")
	file := strings.ReplaceAll(gateUpTuned, "N=28672", "N=14336")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "-model", "llama3-8b", "-systems", "trn2.48xlarge", "-tp", "1", "-batch", "8", "-format", "csv"}
	tpot := func(extra ...string) float64 {
		t.Helper()
		stdout, stderr, code := runCLI(append(args, extra...)...)
		if code != 0 {
			t.Fatalf("serve %v: exit %d: %s", extra, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		head, row := strings.Split(lines[0], ","), strings.Split(lines[len(lines)-1], ",")
		for i, h := range head {
			if h == "tpot_ms" {
				v, err := strconv.ParseFloat(row[i], 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
		t.Fatalf("no tpot_ms column: %s", lines[0])
		return 0
	}
	plain, tuned := tpot(), tpot("-tuned", path)
	if !(tuned < plain) {
		t.Errorf("TPOT %v ms with -tuned, %v without; want lower", tuned, plain)
	}
	if again := tpot(); again != plain {
		t.Errorf("TPOT without -tuned changed: %v, %v", again, plain)
	}
	wantUsageError(t, append(args, "-tuned", filepath.Join(t.TempDir(), "none.json")), "-tuned", filepath.Join(t.TempDir(), "x"))
}

// TestTuneLayer: tuning a layer tunes its distinct parts with tunables,
// and the file it writes makes the layer faster under -tuned.
func TestTuneLayer(t *testing.T) {
	const layer = "layer:model=llama3-8b,phase=decode,batch=8,context=1024"
	dir := t.TempDir()
	path := filepath.Join(dir, "tuned.json")
	stdout, stderr, code := runCLI("tune", layer, "-target", "trn2", "-budget", "30", "-top", "1", "-o", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// qkv, o, gate_up and down projections, and the decode attention.
	if n := strings.Count(stdout, " on trn2: "); n != 5 {
		t.Errorf("%d workloads tuned, want 5:\n%s", n, stdout)
	}
	plain := runRows(t, layer, "-target", "trn2")
	tuned := runRows(t, layer, "-target", "trn2", "-tuned", path)
	if !(tuned[0].TimeUs < plain[0].TimeUs) {
		t.Errorf("layer with its own tuned file: %v us, plain %v us", tuned[0].TimeUs, plain[0].TimeUs)
	}
}

// TestTunedChip: a chip target runs its busiest core's shard in the
// configuration tuned for the core's preset (trn2-chip splits N=28672 over
// 8 cores: shards of N=3584 timed on trn2).
func TestTunedChip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuned.json")
	file := `{"trnsim_tuned": 1, "entries": [{"target": "trn2",
  "shape": "matmul:M=64,N=3584,K=4096,batch=1,dtype=bf16,variant=best,tiles_m=0,tiles_n=0,tiles_k=0",
  "tuned": "matmul:M=64,N=3584,K=4096,batch=1,dtype=bf16,variant=block_free,tiles_m=1,tiles_n=7,tiles_k=0",
  "time_us": 99.82, "default_time_us": 108.15}]}`
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	const w = "matmul:M=64,N=28672,K=4096,dtype=bf16"
	plain := runRows(t, w, "-target", "trn2-chip")
	tuned := runRows(t, w, "-target", "trn2-chip", "-tuned", path)
	if !(tuned[0].TimeUs < plain[0].TimeUs) || tuned[0].Variant != "block_free" {
		t.Errorf("trn2-chip with -tuned: %v us (%s), plain %v us", tuned[0].TimeUs, tuned[0].Variant, plain[0].TimeUs)
	}
}

// TestTuneSuite: -suite tunes every distinct workload with tunables of a
// suite (layers by their parts) into one file.
func TestTuneSuite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tuned.json")
	stdout, stderr, code := runCLI("tune", "-suite", "representative", "-target", "trn2", "-budget", "8", "-top", "1", "-o", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, " on trn2: "); n < 2 {
		t.Errorf("%d workloads tuned:\n%s", n, stdout)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestTuneCSVInfeasible: configurations that do not fit on-chip memory are
// rows too (tune_status infeasible, figures empty), with the unit every
// row needs; a decode shape's space has many.
func TestTuneCSVInfeasible(t *testing.T) {
	stdout, c, _ := tuneOnce(t, "matmul:M=64,N=14336,K=4096", "-target", "trn2")
	m := regexp.MustCompile(`(\d+) infeasible`).FindStringSubmatch(stdout)
	if m == nil || m[1] == "0" {
		t.Fatalf("want infeasible configurations in the summary:\n%s", stdout)
	}
	recs, err := csv.NewReader(bytes.NewReader(c)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	unit, status := slices.Index(recs[0], "unit"), slices.Index(recs[0], "tune_status")
	n := 0
	for _, r := range recs[1:] {
		if r[unit] == "" {
			t.Errorf("row %v has no unit", r)
		}
		if r[status] == "infeasible" {
			n++
		}
	}
	if strconv.Itoa(n) != m[1] {
		t.Errorf("%d infeasible rows, %s in the summary", n, m[1])
	}
}
