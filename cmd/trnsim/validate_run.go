package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/gpu"
)

// newRunner returns the runner validate uses: GPU targets through the
// sim/gpu model (with hwFile's overrides), NeuronCore targets reported as
// not modelled until the bench harness times them.
func newRunner(hwFile string) (runner, error) {
	var hw []byte
	if hwFile != "" {
		b, err := os.ReadFile(hwFile)
		if err != nil {
			return nil, fmt.Errorf("-hw: %v", err)
		}
		hw = b
	}
	return func(p kernels.Params, target string) (float64, string, error) {
		dev, err := gpu.Preset(target)
		if err != nil {
			return 0, "", fmt.Errorf("target %s: no timing model in this build (GPU targets: %v)", target, gpu.Presets())
		}
		if hw != nil {
			if dev, err = gpu.LoadConfig(bytesReader(hw), dev); err != nil {
				return 0, "", fmt.Errorf("-hw %s: %v", hwFile, err)
			}
		}
		var ks []gpu.Kernel
		variant := ""
		if p.Kernel.Name == "matmul" && !allows(p.Kernel, "variant", "best") {
			s := kernels.GPUGEMMShape{M: p.Int("M"), N: p.Int("N"), K: p.Int("K"), Batch: p.Int("batch"), DType: p.Str("dtype")}
			ks, _, err = kernels.GPUGEMMKernels(dev, s)
			variant = "best"
		} else {
			var plan kernels.GPUPlan
			plan, err = kernels.GPUPlanFor(dev, p)
			ks, variant = plan.Kernels, plan.Detail
		}
		if err != nil {
			return 0, "", err
		}
		rep, err := gpu.Run(dev, ks)
		if err != nil {
			return 0, "", err
		}
		return rep.TimeNs / 1e3, variant, nil
	}, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
