package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// ExhaustiveMax is the largest space (distinct legal configurations) that
// Search times completely; a larger one is searched by coordinate descent
// with restarts. 512 configurations of a 4096³ matmul time in well under a
// minute on two cores.
const ExhaustiveMax = 512

// Dim is one tunable parameter of a space: its name and the values tried.
type Dim struct {
	Name   string
	Values []string
	// Variants lists the variants the parameter matters for (empty:
	// all); for the others it stays at its default.
	Variants []string
}

// Space is the set of configurations of one workload: the workload as
// given (Base) and its kernel's tunable parameters. A configuration is one
// value index per dimension.
type Space struct {
	Base kernels.Params
	Dims []Dim
}

// NewSpace returns the tunable space of workload p: every parameter the
// kernel declares with Tune values. A kernel without tunables has an empty
// space (only the workload as given).
func NewSpace(p kernels.Params) Space {
	s := Space{Base: p}
	for _, d := range p.Kernel.Tunables() {
		s.Dims = append(s.Dims, Dim{Name: d.Name, Values: slices.Clone(d.Tune), Variants: slices.Clone(d.TuneVariants)})
	}
	return s
}

// Size is the number of points of the grid (before dependent parameters
// collapse and illegal combinations drop out).
func (s Space) Size() int {
	n := 1
	for _, d := range s.Dims {
		n *= len(d.Values)
	}
	return n
}

// Params returns the workload at grid point coord: ok is false when the
// kernel refuses the combination (its Check or size limit). A parameter
// whose Variants do not include the point's variant keeps the base's
// value, so points that differ only there are the same configuration.
func (s Space) Params(coord []int) (kernels.Params, bool) {
	variant := s.Base.Str("variant")
	for i, d := range s.Dims {
		if d.Name == "variant" {
			variant = d.Values[coord[i]]
		}
	}
	p := s.Base
	for i, d := range s.Dims {
		if len(d.Variants) > 0 && !slices.Contains(d.Variants, variant) {
			continue
		}
		q, err := p.With(d.Name, d.Values[coord[i]])
		if err != nil {
			return kernels.Params{}, false
		}
		p = q
	}
	return p, true
}

// Trial is one configuration timed (or refused).
type Trial struct {
	Params kernels.Params
	// TimeNs is the simulated time; +Inf when the configuration is
	// infeasible or failed.
	TimeNs float64
	// Infeasible is set when the configuration does not fit the
	// on-chip memories (SBUF, PSUM, shared memory): it was refused when
	// built, before any timing.
	Infeasible bool
	// Err is why a configuration that was not infeasible failed.
	Err error
	// Default marks the workload as given (the plan "best" runs today).
	Default bool
}

// Feasible reports whether the trial was timed.
func (t Trial) Feasible() bool { return !t.Infeasible && t.Err == nil }

// Eval times one configuration and returns its simulated time in ns. i is
// the trial's index in the result (stable across runs and -j), so an
// evaluator may keep per-trial data in a slice.
type Eval func(i int, p kernels.Params) (float64, error)

// Options control a search.
type Options struct {
	// Jobs is how many configurations are timed at once (≤ 0: 1).
	Jobs int
	// Budget is the most configurations timed, the default included
	// (≤ 0: no limit).
	Budget int
	// Seed seeds the restarts of coordinate descent.
	Seed uint64
	// Restarts is how many random starting points coordinate descent
	// tries after the default (≤ 0: 4).
	Restarts int
	// Progress, if set, is called after each batch with the trials timed
	// so far; it is called from one goroutine.
	Progress func(done int)
}

// Strategy names how a space was searched.
type Strategy string

const (
	Exhaustive        Strategy = "exhaustive"
	CoordinateDescent Strategy = "coordinate-descent"
)

// Outcome is a finished search: every trial in the order they were
// decided (the default first), and how the space was searched.
type Outcome struct {
	Trials   []Trial
	Strategy Strategy
	// SpaceSize is the number of distinct legal configurations in the
	// space (the default included).
	SpaceSize int
	// Best is the index in Trials of the fastest feasible trial (the
	// first of equally fast ones); -1 when none was feasible.
	Best int
}

// IsInfeasible reports whether err says a configuration does not fit the
// on-chip memories (an *isa.CapacityError).
func IsInfeasible(err error) bool {
	var ce *isa.CapacityError
	return errors.As(err, &ce)
}

// searcher holds the state of one search.
type searcher struct {
	ctx   context.Context
	space Space
	eval  Eval
	opts  Options
	out   Outcome
	seen  map[string]int // canonical spec → trial index
}

// Search times the workload as given and then the configurations of its
// space: all of them when the space holds at most ExhaustiveMax distinct
// legal configurations and the budget allows, else by coordinate descent
// with restarts (see the package doc). The outcome is the same for any
// Jobs: batches are fixed before they are timed and their results are
// taken in batch order.
func Search(ctx context.Context, space Space, eval Eval, opts Options) (Outcome, error) {
	s := &searcher{ctx: ctx, space: space, eval: eval, opts: opts, seen: map[string]int{}}
	if s.opts.Jobs <= 0 {
		s.opts.Jobs = 1
	}
	if s.opts.Restarts <= 0 {
		s.opts.Restarts = 4
	}
	// The distinct legal configurations, in grid order.
	var all []kernels.Params
	distinct := map[string]bool{space.Base.String(): true}
	forEach(space, func(coord []int) {
		if p, ok := space.Params(coord); ok && !distinct[p.String()] {
			distinct[p.String()] = true
			all = append(all, p)
		}
	})
	s.out.SpaceSize = len(distinct)
	s.out.Best = -1
	if err := s.run([]kernels.Params{space.Base}); err != nil {
		return Outcome{}, err
	}
	s.out.Trials[0].Default = true
	if s.out.SpaceSize <= ExhaustiveMax && (opts.Budget <= 0 || s.out.SpaceSize <= opts.Budget) {
		s.out.Strategy = Exhaustive
		if err := s.run(all); err != nil {
			return Outcome{}, err
		}
	} else {
		s.out.Strategy = CoordinateDescent
		if err := s.descend(); err != nil {
			return Outcome{}, err
		}
	}
	for i, t := range s.out.Trials {
		if t.Feasible() && (s.out.Best < 0 || t.TimeNs < s.out.Trials[s.out.Best].TimeNs) {
			s.out.Best = i
		}
	}
	return s.out, nil
}

// forEach calls f with every grid point in row-major order (the last
// dimension fastest).
func forEach(space Space, f func(coord []int)) {
	for _, d := range space.Dims {
		if len(d.Values) == 0 {
			return
		}
	}
	coord := make([]int, len(space.Dims))
	for {
		f(coord)
		i := len(coord) - 1
		for ; i >= 0; i-- {
			coord[i]++
			if coord[i] < len(space.Dims[i].Values) {
				break
			}
			coord[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// left is how many more configurations the budget allows.
func (s *searcher) left() int {
	if s.opts.Budget <= 0 {
		return math.MaxInt
	}
	return s.opts.Budget - len(s.out.Trials)
}

// errBudget stops a descent when the budget is spent.
var errBudget = errors.New("budget spent")

// run times the configurations of batch not yet timed, in parallel,
// appending their trials in batch order. It times no more than the budget
// allows (errBudget when it had to stop short).
func (s *searcher) run(batch []kernels.Params) error {
	var todo []kernels.Params
	for _, p := range batch {
		key := p.String()
		if _, ok := s.seen[key]; ok || slices.ContainsFunc(todo, func(q kernels.Params) bool { return q.String() == key }) {
			continue
		}
		todo = append(todo, p)
	}
	short := false
	if n := s.left(); len(todo) > n {
		todo, short = todo[:max(n, 0)], true
	}
	base := len(s.out.Trials)
	trials := make([]Trial, len(todo))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(s.opts.Jobs, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ns, err := s.eval(base+i, todo[i])
				t := Trial{Params: todo[i], TimeNs: ns}
				switch {
				case IsInfeasible(err):
					t.TimeNs, t.Infeasible = math.Inf(1), true
				case err != nil:
					t.TimeNs, t.Err = math.Inf(1), err
				}
				trials[i] = t
			}
		}()
	}
	var ctxErr error
	for i := range todo {
		if ctxErr = s.ctx.Err(); ctxErr != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if ctxErr != nil {
		return ctxErr
	}
	for i, t := range trials {
		s.seen[t.Params.String()] = base + i
		s.out.Trials = append(s.out.Trials, t)
	}
	if s.opts.Progress != nil && len(trials) > 0 {
		s.opts.Progress(len(s.out.Trials))
	}
	if short {
		return errBudget
	}
	return nil
}

// timeOf returns the time of the configuration at coord (+Inf when it is
// illegal, infeasible, failed or not timed).
func (s *searcher) timeOf(coord []int) float64 {
	p, ok := s.space.Params(coord)
	if !ok {
		return math.Inf(1)
	}
	if i, ok := s.seen[p.String()]; ok {
		return s.out.Trials[i].TimeNs
	}
	return math.Inf(1)
}

// descend is coordinate descent with restarts: from a starting point,
// time every value of one dimension at a time (one parallel batch), move
// to the fastest, and sweep the dimensions until a whole sweep improves
// nothing. The first start is the default configuration's grid point
// (each dimension at its first value, or at the default where it is
// listed); the next Restarts starts are drawn from a PCG seeded by Seed.
func (s *searcher) descend() error {
	rng := rand.New(rand.NewPCG(s.opts.Seed, 0x7475_6e65)) // "tune"
	starts := [][]int{s.defaultCoord()}
	for range s.opts.Restarts {
		c := make([]int, len(s.space.Dims))
		for i, d := range s.space.Dims {
			c[i] = rng.IntN(len(d.Values))
		}
		starts = append(starts, c)
	}
	for _, c := range starts {
		err := s.descendFrom(c)
		if errors.Is(err, errBudget) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *searcher) defaultCoord() []int {
	c := make([]int, len(s.space.Dims))
	for i, d := range s.space.Dims {
		if j := slices.Index(d.Values, s.space.Base.Str(d.Name)); j >= 0 {
			c[i] = j
		}
	}
	return c
}

func (s *searcher) descendFrom(c []int) error {
	c = slices.Clone(c)
	for sweep := 0; sweep < 64; sweep++ {
		improved := false
		for i, d := range s.space.Dims {
			var batch []kernels.Params
			for j := range d.Values {
				cc := slices.Clone(c)
				cc[i] = j
				if p, ok := s.space.Params(cc); ok {
					batch = append(batch, p)
				}
			}
			if err := s.run(batch); err != nil {
				return err
			}
			cur := s.timeOf(c)
			for j := range d.Values {
				cc := slices.Clone(c)
				cc[i] = j
				if t := s.timeOf(cc); t < cur {
					cur, c[i], improved = t, j, true
				}
			}
		}
		if !improved {
			return nil
		}
	}
	return fmt.Errorf("tune: coordinate descent did not settle in 64 sweeps")
}
