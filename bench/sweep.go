package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// Shard selects a deterministic part of a sweep so that a batch system (a
// CI matrix, Kubernetes indexed jobs, Slurm arrays) can spread it over
// machines: item k of the sweep belongs to shard k mod N. The zero Shard
// selects everything.
type Shard struct {
	I, N int
}

// MaxShards bounds n in a shard i/n: far more machines than any suite has
// workloads × targets, so a larger n is a typo.
const MaxShards = 1 << 16

// ParseShard reads "i/n" with 0 ≤ i < n ≤ MaxShards.
func ParseShard(s string) (Shard, error) {
	q := s
	if len(q) > 64 {
		q = q[:64] + "…"
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 0/4", q)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want 0 ≤ i < n", q)
	}
	if n > MaxShards {
		return Shard{}, fmt.Errorf("shard %q: at most %d shards", q, MaxShards)
	}
	return Shard{i, n}, nil
}

func (s Shard) validate() error {
	if s == (Shard{}) {
		return nil
	}
	if s.N < 1 || s.I < 0 || s.I >= s.N {
		return fmt.Errorf("shard %d/%d: want 0 ≤ i < n", s.I, s.N)
	}
	return nil
}

// Owns reports whether item k of a sweep belongs to the shard.
func (s Shard) Owns(k int) bool {
	return s.N <= 1 || k%s.N == s.I
}

func (s Shard) String() string {
	if s.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Item is one run of a sweep: a workload on a target. Index numbers the
// items of the whole sweep (workload-major: every target of the first
// workload, then the second, ...), before sharding.
type Item struct {
	Index    int
	Workload kernels.Params
	Target   Target
}

// Progress is what a sweep reports after each run.
type Progress struct {
	Done, Total int // runs finished and runs in this shard
	Item        Item
}

// Options configure Sweep.
type Options struct {
	// Jobs is the number of runs in flight; 0 means runtime.GOMAXPROCS(0).
	Jobs int
	// Shard selects the part of the sweep to run; the zero value runs all.
	Shard Shard
	// HWFile, if set, overrides hardware parameters of the targets Sweep
	// resolves by name (see TargetByName).
	HWFile string
	// Unsupported, if set, is called for each run that cannot happen
	// because the workload does not run on its target
	// (kernels.ErrUnsupported: fp8 on an A100, fa3 on a NeuronCore), in
	// sweep order after the sweep. Such runs have no row; they never fail
	// the sweep.
	Unsupported func(Item, error)
	// Progress, if set, is called after each run, one call at a time, in
	// the order runs finish (which depends on scheduling; the rows do not).
	Progress func(Progress)

	// run replaces the simulator in tests.
	run func(Item) (results.Row, error)
}

// Items lists the runs of a sweep of workloads over targets that belong
// to shard, in sweep order.
func Items(workloads []kernels.Params, targets []Target, shard Shard) []Item {
	var items []Item
	for i, w := range workloads {
		for j, t := range targets {
			k := i*len(targets) + j
			if shard.Owns(k) {
				items = append(items, Item{Index: k, Workload: w, Target: t})
			}
		}
	}
	return items
}

// Sweep runs every workload on every named target (the part of it that
// opts.Shard selects) and returns one row per run, in sweep order (see
// Item); runs the target does not support have no row (see
// Options.Unsupported). Runs go in parallel on opts.Jobs workers; each result is placed by
// its index, so neither the order nor any number depends on scheduling.
//
// When runs fail, Sweep returns the error of the first failing item in
// sweep order (the same error on every execution): items after a failure
// are not started, items before it still run. Cancelling ctx stops the
// sweep between runs and returns ctx's error.
func Sweep(ctx context.Context, workloads []kernels.Params, targets []string, opts Options) ([]results.Row, error) {
	if err := CheckTargetNames(targets); err != nil {
		return nil, err
	}
	ts := make([]Target, len(targets))
	for i, name := range targets {
		t, err := TargetByName(name, opts.HWFile)
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	return SweepTargets(ctx, workloads, ts, opts)
}

// SweepTargets is Sweep over targets already built (with their own
// hardware overrides and prices); opts.HWFile is not used.
//
// A target listed twice is refused (ErrDuplicateTarget) before anything
// runs: its rows would share a (workload, target) key, which compare and
// merge reject; sweeping one target under two configurations is two
// sweeps.
func SweepTargets(ctx context.Context, workloads []kernels.Params, targets []Target, opts Options) ([]results.Row, error) {
	if err := opts.Shard.validate(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("sweep: no targets")
	}
	if err := checkDistinct(targets); err != nil {
		return nil, err
	}
	run := opts.run
	if run == nil {
		run = func(it Item) (results.Row, error) {
			row, _, err := Run(it.Workload, it.Target)
			return row, err
		}
	}
	items := Items(workloads, targets, opts.Shard)
	rows := make([]results.Row, len(items))
	errs := make([]error, len(items))
	unsupported := make([]error, len(items))

	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = min(jobs, len(items))

	// firstFail is the lowest index of a failed item so far; items after
	// it are skipped, items before it always run, so the error returned
	// is the same whatever the scheduling.
	var firstFail atomic.Int64
	firstFail.Store(int64(len(items)))
	var mu sync.Mutex
	done := 0
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil || int64(i) > firstFail.Load() {
					continue
				}
				row, err := run(items[i])
				if errors.Is(err, kernels.ErrUnsupported) {
					unsupported[i] = err
					err = nil
				}
				if err != nil {
					errs[i] = fmt.Errorf("%s on %s: %w", items[i].Workload, items[i].Target.Name(), err)
					for {
						f := firstFail.Load()
						if int64(i) >= f || firstFail.CompareAndSwap(f, int64(i)) {
							break
						}
					}
					continue
				}
				rows[i] = row
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(Progress{Done: done, Total: len(items), Item: items[i]})
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, i := range longestFirst(items) {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	kept := rows[:0]
	for i, row := range rows {
		if unsupported[i] != nil {
			if opts.Unsupported != nil {
				opts.Unsupported(items[i], unsupported[i])
			}
			continue
		}
		kept = append(kept, row)
	}
	return kept, nil
}

// longestFirst returns the indices of items in the order to start them:
// the NeuronCore runs with the most instructions first (the kernels' own
// estimates, parts summed for a composite), then the rest in sweep order,
// so that on several workers one long run does not start last and finish
// alone. Results are placed by index: the order changes no output.
func longestFirst(items []Item) []int {
	cost := make([]float64, len(items))
	for i, it := range items {
		switch it.Target.(type) {
		case *NeuronTarget, *ChipTarget:
			cost[i] = estimatedInstrs(it.Workload)
		}
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cost[order[a]] > cost[order[b]] })
	return order
}

// estimatedInstrs is p's kernel's estimate of its NeuronCore instructions
// (a composite's parts summed; 0 where there is none).
func estimatedInstrs(p kernels.Params) float64 {
	if p.Kernel.Instrs != nil {
		return p.Kernel.Instrs(p)
	}
	if p.Kernel.Parts == nil {
		return 0
	}
	parts, err := p.Kernel.Parts(p)
	if err != nil {
		return 0
	}
	n := 0.0
	for _, pt := range parts {
		n += float64(pt.Count) * estimatedInstrs(pt.Params)
	}
	return n
}

// ErrDuplicateTarget is returned (wrapped) when a sweep names a target
// twice.
var ErrDuplicateTarget = errors.New("listed twice")

// CheckTargetNames refuses an empty list, an empty name or a name given
// twice, naming it.
func CheckTargetNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("sweep: no targets")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return fmt.Errorf("targets %q: an empty name", strings.Join(names, ","))
		}
		if seen[n] {
			return fmt.Errorf("targets %q: %s %w (each target gives one row per workload: refused rather than deduplicated)", strings.Join(names, ","), n, ErrDuplicateTarget)
		}
		seen[n] = true
	}
	return nil
}

func checkDistinct(ts []Target) error {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name()
	}
	return CheckTargetNames(names)
}
