package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

func parse(t testing.TB, spec string) kernels.Params {
	t.Helper()
	p, err := kernels.Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// synthetic times a matmul configuration by a formula with a known
// minimum (fully_optimized, tiles 4×2×8 → 100 ns) and refuses
// tiles_m·tiles_n > 16 for capacity, as an over-full SBUF would.
func synthetic(_ int, p kernels.Params) (float64, error) {
	m, n, k := p.Int("tiles_m"), p.Int("tiles_n"), p.Int("tiles_k")
	if m*n > 16 {
		return 0, fmt.Errorf("build: %w", &isa.CapacityError{Mem: isa.SBUF, Pool: "result", Asked: m * n, Capacity: 16})
	}
	base := map[string]float64{"best": 150, "tiled": 400, "hoist_load": 300, "block_free": 200, "fully_optimized": 100}[p.Str("variant")]
	d := func(a, b int) float64 { return math.Abs(math.Log2(float64(max(a, 1))) - math.Log2(float64(b))) }
	return base + 10*d(m, 4) + 7*d(n, 2) + 3*d(k, 8), nil
}

const mm = "matmul:M=4096,N=4096,K=4096,dtype=bf16"

func TestSearchExhaustive(t *testing.T) {
	p := parse(t, mm)
	oc, err := Search(context.Background(), NewSpace(p), synthetic, Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if oc.Strategy != Exhaustive {
		t.Fatalf("strategy %s, want exhaustive for a space of %d", oc.Strategy, oc.SpaceSize)
	}
	// tiled + hoist_load + block_free (9×6) + fully_optimized (9×6×6) + the default.
	if want := 1 + 2 + 9*6 + 9*6*6; oc.SpaceSize != want || len(oc.Trials) != want {
		t.Fatalf("space %d, trials %d, want %d", oc.SpaceSize, len(oc.Trials), want)
	}
	if !oc.Trials[0].Default || oc.Trials[0].Params.String() != p.String() {
		t.Errorf("trial 0 is %s, want the default %s", oc.Trials[0].Params, p)
	}
	b := oc.Trials[oc.Best]
	if b.TimeNs != 100 || b.Params.Str("variant") != "fully_optimized" || b.Params.Int("tiles_m") != 4 || b.Params.Int("tiles_n") != 2 || b.Params.Int("tiles_k") != 8 {
		t.Errorf("best %s at %v ns, want fully_optimized 4×2×8 at 100", b.Params, b.TimeNs)
	}
	infeasible := 0
	for _, tr := range oc.Trials {
		if tr.Infeasible {
			infeasible++
			if !math.IsInf(tr.TimeNs, 1) {
				t.Errorf("infeasible %s has time %v", tr.Params, tr.TimeNs)
			}
		}
	}
	// tiles_m·tiles_n > 16 among m∈{1,2,3,4,6,8,12,16,32}, n∈{1,2,3,4,7,8}.
	bad := 0
	for _, m := range []int{1, 2, 3, 4, 6, 8, 12, 16, 32} {
		for _, n := range []int{1, 2, 3, 4, 7, 8} {
			if m*n > 16 {
				bad++
			}
		}
	}
	if want := bad + bad*6; infeasible != want {
		t.Errorf("%d infeasible, want %d", infeasible, want)
	}
}

// TestSearchDeterministic: any Jobs, and a second run, give the same
// trials in the same order, for both strategies.
func TestSearchDeterministic(t *testing.T) {
	p := parse(t, mm)
	for _, budget := range []int{0, 60} {
		var first Outcome
		for i, jobs := range []int{1, 2, 3, 1} {
			oc, err := Search(context.Background(), NewSpace(p), synthetic, Options{Jobs: jobs, Budget: budget, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = oc
				continue
			}
			if !sameOutcome(first, oc) {
				t.Fatalf("budget %d: jobs %d differs from jobs 1", budget, jobs)
			}
		}
	}
}

func sameOutcome(a, b Outcome) bool {
	if a.Strategy != b.Strategy || a.Best != b.Best || len(a.Trials) != len(b.Trials) {
		return false
	}
	for i := range a.Trials {
		x, y := a.Trials[i], b.Trials[i]
		if x.Params.String() != y.Params.String() || x.TimeNs != y.TimeNs || x.Infeasible != y.Infeasible {
			return false
		}
	}
	return true
}

func TestSearchCoordinateDescent(t *testing.T) {
	p := parse(t, mm)
	for _, tc := range []struct {
		budget int
		seed   uint64
	}{{60, 1}, {120, 2}, {200, 3}} {
		oc, err := Search(context.Background(), NewSpace(p), synthetic, Options{Jobs: 2, Budget: tc.budget, Seed: tc.seed})
		if err != nil {
			t.Fatal(err)
		}
		if oc.Strategy != CoordinateDescent {
			t.Fatalf("budget %d: strategy %s", tc.budget, oc.Strategy)
		}
		if len(oc.Trials) > tc.budget {
			t.Errorf("budget %d: %d trials", tc.budget, len(oc.Trials))
		}
		// The synthetic landscape is separable: descent from the default
		// reaches the optimum well within 60 trials.
		if b := oc.Trials[oc.Best]; b.TimeNs != 100 {
			t.Errorf("budget %d: best %s at %v, want 100", tc.budget, b.Params, b.TimeNs)
		}
	}
}

func TestSearchErrorsAndCancel(t *testing.T) {
	p := parse(t, mm)
	boom := errors.New("boom")
	failTiled := func(i int, q kernels.Params) (float64, error) {
		if q.Str("variant") == "tiled" {
			return 0, boom
		}
		return synthetic(i, q)
	}
	oc, err := Search(context.Background(), NewSpace(p), failTiled, Options{})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, tr := range oc.Trials {
		if tr.Err != nil {
			failed++
			if !errors.Is(tr.Err, boom) || tr.Feasible() {
				t.Errorf("failed trial %s: %v", tr.Params, tr.Err)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed trials, want 1 (tiled)", failed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, NewSpace(p), synthetic, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

func TestSpaceDecode(t *testing.T) {
	p := parse(t, "decode_attention:batch=8,seqlen=8192")
	s := NewSpace(p)
	names := []string{}
	for _, d := range s.Dims {
		names = append(names, d.Name)
	}
	if !reflect.DeepEqual(names, []string{"variant", "splits"}) {
		t.Fatalf("dims %v", names)
	}
	oc, err := Search(context.Background(), s, func(int, kernels.Params) (float64, error) { return 1, nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// default + nosplit + splitkv × 7 splits (splits only matters for splitkv).
	if oc.SpaceSize != 1+1+7 {
		t.Errorf("space %d, want 9", oc.SpaceSize)
	}
}
