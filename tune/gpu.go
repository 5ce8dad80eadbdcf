package tune

import (
	"errors"
	"math"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu"
)

// Choice is the GPU plan chosen for a workload.
type Choice struct {
	kernels.GPUPlan
	// TimeNs is the plan's simulated time; NaN when the kernel offered a
	// single candidate, which is then returned untimed.
	TimeNs float64
	// Candidates is how many plans the kernel offered.
	Candidates int
}

// GPU returns the plan workload p runs with on the GPU cfg: the kernel's
// only candidate, or the fastest of its candidates under sim/gpu's model
// (the first of equally fast ones). A kernel without a GPU description is
// kernels.ErrUnsupported. When no candidate can be timed, the first
// timing error is returned.
func GPU(cfg gpu.Config, p kernels.Params) (Choice, error) {
	plans, err := kernels.GPUPlans(cfg.Device(), p)
	if err != nil {
		return Choice{}, err
	}
	if len(plans) == 1 {
		return Choice{GPUPlan: plans[0], TimeNs: math.NaN(), Candidates: 1}, nil
	}
	i, ns, err := Fastest(cfg, plans)
	if err != nil {
		return Choice{}, err
	}
	return Choice{GPUPlan: plans[i], TimeNs: ns, Candidates: len(plans)}, nil
}

// Fastest times every plan on cfg and returns the index and time of the
// fastest (the first of equally fast ones). Plans that fail to time are
// skipped; when none can be timed, the first error is returned.
func Fastest(cfg gpu.Config, plans []kernels.GPUPlan) (int, float64, error) {
	best := -1
	bestNs := 0.0
	var firstErr error
	for i, pl := range plans {
		ns, err := gpu.Time(cfg, pl.Kernels)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if best < 0 || ns < bestNs {
			best, bestNs = i, ns
		}
	}
	if best < 0 {
		if firstErr == nil {
			firstErr = errors.New("tune: no plans to time")
		}
		return 0, 0, firstErr
	}
	return best, bestNs, nil
}
