package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"0/1", Shard{0, 1}, ""},
		{"3/4", Shard{3, 4}, ""},
		{"4/4", Shard{}, "want 0 ≤ i < n"},
		{"-1/4", Shard{}, "want 0 ≤ i < n"},
		{"0/0", Shard{}, "want 0 ≤ i < n"},
		{"1", Shard{}, "want i/n"},
		{"a/b", Shard{}, "want i/n"},
		{"1/2/3", Shard{}, "want i/n"},
		{"65535/65536", Shard{65535, 65536}, ""},
		{"0/65537", Shard{}, "at most 65536 shards"},
		{"0/16666666600", Shard{}, "at most 65536 shards"},
		{strings.Repeat("9", 100) + "/1", Shard{}, "…"}, // a long input is quoted by a bounded prefix
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "shard") {
				t.Errorf("ParseShard(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// workloads parses matmul specs for tests.
// fakeTarget is a Target with a name only, for sweeps with a fake run.
type fakeTarget struct{ name string }

func (f fakeTarget) Name() string { return f.name }
func (f fakeTarget) Unit() string { return "fake" }
func (f fakeTarget) Time(kernels.Params) (Timing, error) {
	return Timing{}, fmt.Errorf("fake target %s times nothing", f.name)
}
func (f fakeTarget) TimeProgram(*isa.Program) (Timing, error) {
	return Timing{}, fmt.Errorf("fake target %s times nothing", f.name)
}
func (f fakeTarget) PeakFLOPs(isa.DType) float64 { return 0 }
func (f fakeTarget) HBMBytesPerSec() float64     { return 0 }
func (f fakeTarget) Price() UnitPrice            { return noPrice("fake") }
func (f fakeTarget) Describe() string            { return "fake" }

// fakeTargets names targets for sweeps with a fake run.
func fakeTargets(names ...string) []Target {
	ts := make([]Target, len(names))
	for i, n := range names {
		ts[i] = fakeTarget{n}
	}
	return ts
}

func workloads(t *testing.T, n int) []kernels.Params {
	t.Helper()
	var ws []kernels.Params
	for i := 1; i <= n; i++ {
		p, err := kernels.Builtin().Parse(fmt.Sprintf("matmul:M=%d,N=128,K=128", 128*i))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, p)
	}
	return ws
}

func TestItemsShards(t *testing.T) {
	ws := workloads(t, 5)
	targets := fakeTargets("trn1", "trn2", "h100")
	all := Items(ws, targets, Shard{})
	if len(all) != 15 {
		t.Fatalf("%d items, want 15", len(all))
	}
	// Workload-major order: item 4 is the second workload on trn2.
	if it := all[4]; it.Index != 4 || it.Workload.Int("M") != 256 || it.Target.Name() != "trn2" {
		t.Errorf("item 4 = %d %s %s", it.Index, it.Workload, it.Target.Name())
	}
	owner := make([]int, len(all))
	for i := range owner {
		owner[i] = -1
	}
	for s := 0; s < 4; s++ {
		for _, it := range Items(ws, targets, Shard{s, 4}) {
			if owner[it.Index] >= 0 {
				t.Errorf("item %d in shards %d and %d", it.Index, owner[it.Index], s)
			}
			if it.Index%4 != s {
				t.Errorf("item %d in shard %d, want %d", it.Index, s, it.Index%4)
			}
			owner[it.Index] = s
		}
	}
	for k, o := range owner {
		if o < 0 {
			t.Errorf("item %d in no shard", k)
		}
	}
}

// fakeRun makes a row from the item alone, yielding now and then so that
// workers finish out of order.
func fakeRun(it Item) (results.Row, error) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s", it.Workload, it.Target.Name())
	v := h.Sum64()
	for range v % 5 {
		runtime.Gosched()
	}
	nan := math.NaN()
	return results.Row{
		Kernel: it.Workload.Kernel.Name, Target: it.Target.Name(), Unit: results.UnitCore, Spec: it.Workload.String(), M: it.Workload.Int("M"),
		TimeUs: float64(v%100000) / 7, Cycles: int64(v % 1000), FLOPs: it.Workload.Kernel.FLOPs(it.Workload),
		TFLOPS: nan, PctPeak: nan, ClockGHz: nan, HBMGBps: nan, PctHBM: nan,
		TensorActivePct: nan, VectorActivePct: nan, ScalarActivePct: nan, GpSimdActivePct: nan, DMAActivePct: nan,
		SMOccupancyPct: nan, TensorPipePct: nan, MUFUPct: nan,
		PricePerHourUSD: nan, CostPerCallUSD: nan, CostPerTFLOPUSD: nan,
	}, nil
}

func csvBytes(t *testing.T, rows []results.Row) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := results.WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSweepDeterministic(t *testing.T) {
	ws := workloads(t, 7)
	names := []string{"trn1", "trn2", "trn3", "a100", "h100", "h200"}
	targets := fakeTargets(names...)
	serial, err := SweepTargets(context.Background(), ws, targets, Options{Jobs: 1, run: fakeRun})
	if err != nil {
		t.Fatal(err)
	}
	if len(serial) != 42 {
		t.Fatalf("%d rows, want 42", len(serial))
	}
	for i, r := range serial {
		if want := ws[i/6].String(); r.Spec != want || r.Target != names[i%6] {
			t.Errorf("row %d is %s on %s, want %s on %s", i, r.Spec, r.Target, want, names[i%6])
		}
	}
	want := csvBytes(t, serial)
	for _, jobs := range []int{2, 8, 64} {
		for rep := 0; rep < 3; rep++ {
			rows, err := SweepTargets(context.Background(), ws, targets, Options{Jobs: jobs, run: fakeRun})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(csvBytes(t, rows), want) {
				t.Fatalf("jobs=%d: rows differ from the serial sweep", jobs)
			}
		}
	}
	// Shards, merged in shard order, hold exactly the rows of the whole
	// sweep.
	var srcs []results.Source
	for s := 0; s < 5; s++ {
		rows, err := SweepTargets(context.Background(), ws, targets, Options{Jobs: 3, Shard: Shard{s, 5}, run: fakeRun})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, results.Source{Name: fmt.Sprintf("shard%d", s), Rows: rows})
	}
	merged, err := results.Merge(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != len(serial) {
		t.Fatalf("merged %d rows, want %d", len(merged), len(serial))
	}
	byKey := map[results.Key]results.Row{}
	for _, r := range merged {
		byKey[results.KeyOf(&r)] = r
	}
	for _, r := range serial {
		m, ok := byKey[results.KeyOf(&r)]
		if !ok || !bytes.Equal(csvBytes(t, []results.Row{m}), csvBytes(t, []results.Row{r})) {
			t.Errorf("%s on %s: merged shards differ from the whole sweep", r.Spec, r.Target)
		}
	}
}

func TestSweepFirstError(t *testing.T) {
	ws := workloads(t, 10)
	targets := fakeTargets("trn2", "h100")
	failing := func(it Item) (results.Row, error) {
		if it.Index == 5 || it.Index == 13 || it.Index == 19 {
			return results.Row{}, fmt.Errorf("boom %d", it.Index)
		}
		return fakeRun(it)
	}
	for _, jobs := range []int{1, 4, 16} {
		for rep := 0; rep < 5; rep++ {
			_, err := SweepTargets(context.Background(), ws, targets, Options{Jobs: jobs, run: failing})
			// Item 5 is the third workload (M=384) on the second target.
			want := ws[2].String() + " on h100: boom 5"
			if err == nil || err.Error() != want {
				t.Fatalf("jobs=%d: err = %v, want %q", jobs, err, want)
			}
		}
	}
}

func TestSweepCancel(t *testing.T) {
	ws := workloads(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	run := func(it Item) (results.Row, error) {
		runs++
		if it.Index == 2 {
			cancel()
		}
		return fakeRun(it)
	}
	_, err := SweepTargets(ctx, ws, fakeTargets("trn2"), Options{Jobs: 1, run: run})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if runs > 4 {
		t.Errorf("%d runs after cancelling at the third", runs)
	}
}

func TestSweepProgress(t *testing.T) {
	ws := workloads(t, 6)
	var got []int
	total := 0
	_, err := SweepTargets(context.Background(), ws, fakeTargets("trn2", "h100"), Options{
		Jobs: 4, Shard: Shard{1, 3}, run: fakeRun,
		Progress: func(p Progress) {
			got = append(got, p.Done)
			total = p.Total
			if p.Item.Index%3 != 1 {
				t.Errorf("progress for item %d, not in shard 1/3", p.Item.Index)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(got) != 4 {
		t.Fatalf("progress calls %v of total %d, want 1..4 of 4", got, total)
	}
	for i, d := range got {
		if d != i+1 {
			t.Errorf("progress %v, want 1, 2, 3, 4", got)
		}
	}
}

func TestSweepBadInput(t *testing.T) {
	ws := workloads(t, 1)
	if _, err := Sweep(context.Background(), ws, nil, Options{}); err == nil {
		t.Error("no targets: no error")
	}
	if _, err := Sweep(context.Background(), ws, []string{"trn2"}, Options{Shard: Shard{2, 2}}); err == nil {
		t.Error("shard 2/2: no error")
	}
	if _, err := Sweep(context.Background(), ws, []string{"trn9"}, Options{}); err == nil || !strings.Contains(err.Error(), "trn9") {
		t.Errorf("unknown target: err = %v", err)
	}
	if _, err := Sweep(context.Background(), ws, []string{"trn2"}, Options{HWFile: "/nonexistent/hw.json"}); err == nil || !strings.Contains(err.Error(), "hw.json") {
		t.Errorf("missing -hw file: err = %v", err)
	}
}

// TestSuiteSpecsParseOrPendingKernel checks every suite: specs are unique,
// and each one either parses or names a kernel that is not built in yet.
// Pending specs are listed in the log: once their kernels land, they must
// parse, or this test fails.
func TestSuiteSpecsParseOrPendingKernel(t *testing.T) {
	ks := kernels.Builtin()
	for _, s := range Suites() {
		t.Run(s.Name, func(t *testing.T) {
			if len(s.Specs) == 0 {
				t.Fatal("empty suite")
			}
			ws, pending, err := s.Workloads(ks)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, w := range ws {
				if seen[w.String()] {
					t.Errorf("%s twice", w)
				}
				seen[w.String()] = true
			}
			for _, p := range pending {
				if seen[p] {
					t.Errorf("%s twice", p)
				}
				seen[p] = true
				t.Logf("pending kernel (skipped until built in): %s", p)
			}
		})
	}
	if _, err := SuiteByName("nope"); err == nil || !strings.Contains(err.Error(), "allowed: representative, baseline, square, llm, attention") {
		t.Errorf("SuiteByName(nope) err = %v", err)
	}
}

func TestSuiteShapes(t *testing.T) {
	sq, _ := SuiteByName("square")
	want := []string{"512", "1024", "2048", "4096", "8192", "16384"}
	if len(sq.Specs) != len(want) {
		t.Fatalf("square has %d specs, want %d", len(sq.Specs), len(want))
	}
	for i, n := range want {
		if s := "matmul:M=" + n + ",N=" + n + ",K=" + n + ",dtype=bf16"; sq.Specs[i] != s {
			t.Errorf("square %d = %s, want %s", i, sq.Specs[i], s)
		}
	}
	att, _ := SuiteByName("attention")
	if len(att.Specs) != 6*2*2 {
		t.Errorf("attention has %d specs, want 24", len(att.Specs))
	}
	// 16k tokens and 2048 hidden at every point: seqlen 16384, headdim 64.
	if s := "attention:batch=1,heads=32,kv_heads=32,seqlen=16384,headdim=64,causal=true,dtype=bf16"; !contains(att.Specs, s) {
		t.Errorf("attention lacks %s", s)
	}
	llm, _ := SuiteByName("llm")
	// llama3-70b QKV projection at prefill: (64 + 2·8)·128 = 10240 columns.
	for _, s := range []string{
		"matmul:M=4096,N=10240,K=8192,dtype=bf16",
		"matmul:M=64,N=4096,K=14336,dtype=bf16",
		"decode_attention:batch=64,heads=64,kv_heads=8,seqlen=8192,headdim=128,dtype=bf16",
		"layer:model=llama3-8b,phase=prefill,tokens=4096",
	} {
		if !contains(llm.Specs, s) {
			t.Errorf("llm lacks %s", s)
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// TestSweepCSVMatchesSchemaDoc runs a real sweep, writes it, reads it back,
// and checks every column of every row against the table in
// results/SCHEMA.md.
func TestSweepCSVMatchesSchemaDoc(t *testing.T) {
	s, _ := SuiteByName("baseline")
	ws, _, err := s.Workloads(kernels.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		// One attention and one memory-bound kernel: shape columns of
		// both kinds, engine and pipe columns, NaN and numbers.
		var short []kernels.Params
		for _, w := range ws {
			if k := w.Kernel.Name; k == "attention" && len(short) == 0 || k == "rmsnorm" && len(short) == 1 {
				short = append(short, w)
			}
		}
		ws = short
	}
	skipped := 0 // fp8 on the A100
	rows, err := Sweep(context.Background(), ws, DefaultTargets(), Options{Unsupported: func(Item, error) { skipped++ }})
	if err != nil {
		t.Fatal(err)
	}
	data := csvBytes(t, rows)
	back, err := results.ReadCSV(bytes.NewReader(data), "sweep.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(csvBytes(t, back), data) || len(back) != len(ws)*len(DefaultTargets())-skipped {
		t.Fatalf("read back %d rows that write differently", len(back))
	}

	doc, err := os.ReadFile("../results/SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?m)^\\| \\d+ \\| `([^`]+)` \\| [^|]* \\| ([^|]*) \\|")
	var names, kinds []string
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		names = append(names, m[1])
		kinds = append(kinds, strings.TrimSpace(m[2]))
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(names, ",") {
		t.Fatalf("header\n%v\nSCHEMA.md\n%v", recs[0], names)
	}
	number := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$`)
	for line, rec := range recs[1:] {
		for i, cell := range rec {
			bad := false
			switch kind := kinds[i]; {
			case kind == "number or empty":
				bad = cell != "" && !number.MatchString(cell)
			case kind == "integer > 0 or empty":
				n, err := strconv.Atoi(cell)
				bad = cell != "" && (err != nil || n <= 0)
			case kind == "integer ≥ 0", kind == "integer":
				n, err := strconv.ParseInt(cell, 10, 64)
				bad = err != nil || n < 0
			case kind == "text, never empty":
				bad = cell == ""
			case strings.HasPrefix(kind, "one of "):
				v := "`" + cell + "`"
				if cell == "" {
					v = "empty"
				}
				bad = !contains(strings.Split(strings.TrimPrefix(kind, "one of "), ", "), v)
			case kind == "text":
			default:
				t.Fatalf("SCHEMA.md kind %q of %s not understood by this test", kind, names[i])
			}
			if bad {
				t.Errorf("line %d column %s: %q is not %s", line+2, names[i], cell, kinds[i])
			}
		}
	}
	// The key columns identify the workload and the target, in sweep order
	// (the skipped runs left out).
	var tgts []Target
	for _, name := range DefaultTargets() {
		tg, err := TargetByName(name, "")
		if err != nil {
			t.Fatal(err)
		}
		tgts = append(tgts, tg)
	}
	var want []Item
	for _, it := range Items(ws, tgts, Shard{}) {
		if !(it.Target.Name() == "a100" && it.Workload.Kernel.Name == "matmul" && it.Workload.Str("dtype") == "fp8e4m3") {
			want = append(want, it)
		}
	}
	for i, r := range back {
		if i >= len(want) || r.Target != want[i].Target.Name() || r.Spec != want[i].Workload.String() {
			t.Errorf("row %d: %s on %s", i, r.Spec, r.Target)
		}
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/2", "x", "1/2/3", " 1/2", "0/16666666600", "65535/65536", "0/65537"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if !strings.Contains(err.Error(), "shard") {
				t.Fatalf("error %q does not name the shard", err)
			}
			return
		}
		if sh.N < 1 || sh.I < 0 || sh.I >= sh.N || sh.N > MaxShards {
			t.Fatalf("ParseShard(%q) = %v: out of range", s, sh)
		}
		// Items around the shard's own and around multiples of n belong
		// to it exactly when k mod n = i: a bounded sample, so the check
		// costs the same for 0/1 and 0/65536 (a loop over 3n items hung
		// the fuzzer on 0/16666666600).
		for _, base := range []int{0, sh.N, 2 * sh.N, 7 * sh.N} {
			for d := -3; d <= 3; d++ {
				for _, k := range []int{base + d, base + sh.I + d} {
					if k < 0 {
						continue
					}
					if sh.Owns(k) != (k%sh.N == sh.I) {
						t.Fatalf("shard %v owns %d: %v", sh, k, sh.Owns(k))
					}
				}
			}
		}
	})
}
