package swiglu

import (
	"fmt"
	"io"
	"math"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
)

// Options are what cmd/swiglu's flags set.
type Options struct {
	Trace   string // write a Chrome/Perfetto trace of the trn2 run here
	Profile string // write a pprof profile of the trn2 run here
}

// Main is what cmd/swiglu runs: register the kernel next to the built-ins,
// check it numerically on trn2 at a small ragged shape, then time the
// default shape on trn2 and h100, print both rows and, as opts ask, write
// the trn2 run's trace and profile.
func Main(w io.Writer, opts Options) error {
	reg := kernels.Builtin()
	if err := Register(reg); err != nil {
		return err
	}
	small, err := reg.Parse("swiglu_mlp:tokens=200,hidden=300,intermediate=260")
	if err != nil {
		return err
	}
	trn2, err := bench.TargetByName("trn2", "")
	if err != nil {
		return err
	}
	res, err := kernels.Check(trn2.(*bench.NeuronTarget).Arch(), small, 1)
	if err != nil {
		return err
	}
	for _, r := range res {
		fmt.Fprintf(w, "check %s on trn2: %s max_abs_err %.3g (tolerance %.3g + %.3g·|want|): %s\n",
			small, r.Tensor, r.MaxAbsErr, r.Tol.Abs, r.Tol.Rel, map[bool]string{true: "pass", false: "FAIL"}[r.Pass])
		if !r.Pass {
			return fmt.Errorf("swiglu_mlp fails its numeric check on trn2")
		}
	}
	p, err := reg.Parse("swiglu_mlp")
	if err != nil {
		return err
	}
	for _, name := range []string{"trn2", "h100"} {
		t, err := bench.TargetByName(name, "")
		if err != nil {
			return err
		}
		r, err := bench.RunDetailed(p, t)
		if err != nil {
			return err
		}
		row := r.Row
		if !(row.TimeUs > 0) || math.IsInf(row.TimeUs, 0) {
			return fmt.Errorf("%s on %s: time %v µs", p, name, row.TimeUs)
		}
		fmt.Fprintf(w, "%-5s %s: %8.1f µs, %6.1f TFLOP/s, %5.1f%% of peak, bound %s\n",
			name, p, row.TimeUs, row.TFLOPS, row.PctPeak, row.Bound)
		if name != "trn2" {
			continue
		}
		if opts.Trace != "" {
			if err := results.WriteFileAtomic(opts.Trace, func(w io.Writer) error { return results.WriteTrace(w, r.Report) }); err != nil {
				return err
			}
		}
		if opts.Profile != "" {
			if err := results.WriteFileAtomic(opts.Profile, func(w io.Writer) error {
				return results.WriteProfile(w, r.Report, p.Kernel.Name)
			}); err != nil {
				return err
			}
		}
	}
	return nil
}
