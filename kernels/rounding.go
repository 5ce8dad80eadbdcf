package kernels

import "github.com/trnsim/trnsim/isa"

// unitRoundoff is u = 2^-p for a dtype with p significand bits: the largest
// relative error of one round-to-nearest into it.
func unitRoundoff(dt isa.DType) float64 {
	switch dt {
	case isa.BF16:
		return 1.0 / (1 << 8)
	case isa.FP16:
		return 1.0 / (1 << 11)
	case isa.FP8E4M3:
		return 1.0 / (1 << 4)
	case isa.FP8E5M2:
		return 1.0 / (1 << 3)
	}
	return 1.0 / (1 << 24)
}

// fp32u is the unit roundoff of fp32, the precision of every Vector and
// Scalar engine computation and of PSUM accumulation (docs/hardware.md A §2.2
// "All Vector/Scalar arithmetic in FP32").
const fp32u = 1.0 / (1 << 24)
