package plan

import "github.com/trnsim/trnsim/isa"

// Device is what a GPU kernel description may depend on: the device's
// architecture (its MMA family, which dtypes its tensor cores take) and
// its per-SM and per-CTA resource limits. Clocks, bandwidths and
// latencies are micro-architecture and live in sim/gpu's Config, which
// returns its Device with Config.Device.
type Device struct {
	Name string
	SMs  int

	// MMAFamily is the native tensor instruction family; MMASync reports
	// whether legacy mma.sync runs (and is modelled) on it.
	MMAFamily string
	MMASync   bool
	// TensorFP16 and TensorFP8: the tensor cores take fp16/bf16 and fp8
	// inputs (docs/hardware.md B §1.1, §1.2).
	TensorFP16, TensorFP8 bool

	SmemPerSM     int // bytes
	SmemPerCTA    int // bytes
	RegsPerSM     int // 32-bit registers
	MaxRegsThread int
	MaxThreadsSM  int
	MaxWarpsSM    int
	MaxCTAsSM     int
	MaxThreadsCTA int
}

// HasTensor reports whether the device's tensor cores take inputs of dtype
// dt. fp32 never runs on tensor cores here (CUDA-core FFMA).
func (d Device) HasTensor(dt isa.DType) bool {
	switch {
	case dt == isa.BF16 || dt == isa.FP16:
		return d.TensorFP16
	case dt.IsFP8():
		return d.TensorFP8
	}
	return false
}

// Occupancy returns how many CTAs of k fit on one SM of d and the resource
// that limits it ("threads", "warps", "registers", "smem", "ctas").
func Occupancy(d Device, k Kernel) (int, string) {
	if k.Threads <= 0 {
		return 0, "threads"
	}
	warps := (k.Threads + 31) / 32
	best, why := d.MaxCTAsSM, "ctas"
	lim := func(n int, name string) {
		if n < best {
			best, why = n, name
		}
	}
	lim(d.MaxThreadsSM/k.Threads, "threads")
	lim(d.MaxWarpsSM/warps, "warps")
	if k.RegsPerThread > 0 {
		lim(d.RegsPerSM/(k.RegsPerThread*warps*32), "registers")
	}
	if k.SmemBytes > 0 {
		lim(d.SmemPerSM/k.SmemBytes, "smem")
	}
	return best, why
}
