package isa

import (
	"math"
)

// Rounding into the narrow dtypes. Every write to SBUF, PSUM or HBM goes
// through these functions, so they use only integer bit operations and one
// exact float multiply: no math.Pow, no tables, no allocation.
//
// The formats (docs/hardware.md A §2.2 "Data types": fp8_e4m3, fp8_e5m2, fp16,
// bf16, fp32, int32):
//
//	dtype    sign exp mant bias  max finite  min normal  min subnormal  Inf  NaN
//	bf16     1    8   7    127   ≈3.39e38    2^-126      2^-133         yes  yes
//	fp16     1    5   10   15    65504       2^-14       2^-24          yes  yes
//	fp8e5m2  1    5   2    15    57344       2^-14       2^-16          yes  yes
//	fp8e4m3  1    4   3    7     448         2^-6        2^-9           no   S.1111.111
//
// fp8e4m3 is the OCP "e4m3fn" encoding, which NKI calls float8_e4m3: there
// are no infinities and the only NaN patterns are S.1111.111, so exponent
// 15 holds normal numbers up to 1.75·2^8 = 448.
//
// Rules, for every dtype but fp32 (which Round leaves unchanged):
//   - Finite values round to nearest, ties to even (IEEE 754 RNE), including
//     into and out of the subnormal range: a value just below the smallest
//     normal may round up to it.
//   - Overflow in bf16, fp16 and fp8e5m2 follows IEEE RNE: a value at or
//     above max + ½ulp(max) becomes ±Inf, and ±Inf stays ±Inf.
//   - Overflow in fp8e4m3 saturates: anything above 448 in magnitude,
//     ±Inf included, becomes ±448. docs/hardware.md states no overflow rule for
//     fp8 casts; saturation is a modelling choice that follows the
//     saturating conversion fp8 inference kernels use (a format with no
//     infinity would otherwise turn every overflow into NaN).
//   - NaN stays NaN, with its sign; the payload is not kept (Round returns
//     the float32 quiet NaN, Bits the format's quiet NaN).
//   - int32 rounds half to even to an integer and saturates to
//     [-2^31, 2^31-1]; NaN becomes 0. Round returns the nearest float32 to
//     that integer, which is exact only up to 2^24 in magnitude: the float32
//     element type of Exec limits int32 data (indices, masks) to that range.

// Each narrow float format by its mantissa bits, its smallest normal
// exponent (1 - bias) and its largest finite value as float32 bits, from the
// table above.
const (
	fp16Mant, fp16EMin, fp16MaxBits = 10, -14, 0x477FE000 // 65504
	e5m2Mant, e5m2EMin, e5m2MaxBits = 2, -14, 0x47600000  // 57344
	e4m3Mant, e4m3EMin, e4m3MaxBits = 3, -6, 0x43E00000   // 448

	f32Sign    = 0x80000000
	f32Inf     = 0x7F800000
	f32QNaN    = 0x7FC00000
	f32MinNorm = 0x00800000
)

// Round returns x rounded to the nearest value representable in d, as a
// float32 (see the rules at the top of round.go).
func (d DType) Round(x float32) float32 {
	switch d {
	case BF16:
		return roundBF16(x)
	case FP16:
		return roundFloat(x, fp16Mant, fp16EMin, fp16MaxBits, false)
	case FP8E4M3:
		return roundFloat(x, e4m3Mant, e4m3EMin, e4m3MaxBits, true)
	case FP8E5M2:
		return roundFloat(x, e5m2Mant, e5m2EMin, e5m2MaxBits, false)
	case Int32:
		return roundInt32(x)
	}
	return x
}

// roundBF16 rounds to bf16. bf16 shares fp32's exponent range, so RNE on
// the low 16 bits of the fp32 pattern is exact for normals and subnormals
// alike, and a carry out of the largest finite value lands on Inf.
func roundBF16(x float32) float32 {
	b := math.Float32bits(x)
	if b&^f32Sign > f32Inf {
		return math.Float32frombits(b&f32Sign | f32QNaN)
	}
	b += 0x7FFF + (b>>16)&1
	return math.Float32frombits(b &^ 0xFFFF)
}

// roundFloat rounds x to a format with mant mantissa bits, smallest normal
// exponent emin and largest finite value maxBits (as float32 bits); sat
// selects saturation instead of Inf on overflow.
func roundFloat(x float32, mant, emin int, maxBits uint32, sat bool) float32 {
	b := math.Float32bits(x)
	sign := b & f32Sign
	a := b &^ f32Sign
	if a > f32Inf {
		return math.Float32frombits(sign | f32QNaN)
	}
	e := int(a>>23) - 127
	if e >= emin {
		// Normal in the target: drop 23-mant mantissa bits with RNE. A carry
		// into the exponent is the correct result (including Inf).
		shift := uint(23 - mant)
		a += (1<<(shift-1) - 1) + (a>>shift)&1
		a &^= 1<<shift - 1
		if a > maxBits {
			if sat {
				a = maxBits
			} else {
				a = f32Inf
			}
		}
		return math.Float32frombits(sign | a)
	}
	// Below the smallest normal: the result is k quanta of 2^(emin-mant).
	// x = m·2^(e-23) with m the 24-bit significand; k = RNE(m / 2^r).
	m := a & 0x7FFFFF
	if a >= f32MinNorm {
		m |= 0x800000
	} else {
		e = -126
	}
	r := uint(23 + emin - mant - e) // ≥ 1 because e < emin
	var k uint32
	if r <= 25 { // beyond 25 bits m/2^r < ¼: rounds to zero
		k = (m + (1<<(r-1) - 1) + (m>>r)&1) >> r
	}
	// k·2^(emin-mant) is exact in float32 (k ≤ 2^mant).
	q := math.Float32frombits(uint32(127+emin-mant) << 23)
	v := float32(k) * q
	return math.Float32frombits(sign | math.Float32bits(v))
}

func roundInt32(x float32) float32 {
	if x != x {
		return 0
	}
	return float32(saturateInt32(x))
}

// saturateInt32 rounds x half to even and saturates it to int32; NaN is 0.
func saturateInt32(x float32) int32 {
	if x != x {
		return 0
	}
	v := math.RoundToEven(float64(x))
	switch {
	case v >= math.MaxInt32:
		return math.MaxInt32
	case v <= math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}

// Bits returns the bit pattern of Round(x) in d's encoding, in the low
// Size()·8 bits: IEEE layouts for fp32, fp16, bf16 (the top half of fp32)
// and fp8e5m2; OCP e4m3fn for fp8e4m3; two's complement for int32. NaN
// encodes as the format's quiet NaN with x's sign (S.1111.111 for
// fp8e4m3).
func (d DType) Bits(x float32) uint32 {
	switch d {
	case BF16:
		return math.Float32bits(roundBF16(x)) >> 16
	case FP16:
		return encodeFloat(roundFloat(x, fp16Mant, fp16EMin, fp16MaxBits, false), fp16Mant, 5, fp16EMin, false)
	case FP8E4M3:
		return encodeFloat(roundFloat(x, e4m3Mant, e4m3EMin, e4m3MaxBits, true), e4m3Mant, 4, e4m3EMin, true)
	case FP8E5M2:
		return encodeFloat(roundFloat(x, e5m2Mant, e5m2EMin, e5m2MaxBits, false), e5m2Mant, 5, e5m2EMin, false)
	case Int32:
		return uint32(saturateInt32(x))
	}
	return math.Float32bits(x)
}

// encodeFloat packs a float32 that is already representable in the target
// format (mant mantissa bits, expw exponent bits, smallest normal exponent
// emin = 1-bias) into its bit pattern. Exponent all-ones with zero mantissa
// is Inf; NaN is the quiet NaN (top mantissa bit set), or S.1111.111 for
// e4m3fn (noInf), whose all-ones exponent otherwise holds normal numbers.
func encodeFloat(v float32, mant, expw, emin int, noInf bool) uint32 {
	b := math.Float32bits(v)
	sign := (b >> 31) << uint(mant+expw)
	a := b &^ f32Sign
	ones := uint32(1)<<uint(expw) - 1
	switch {
	case a > f32Inf:
		if noInf {
			return sign | ones<<uint(mant) | (1<<uint(mant) - 1)
		}
		return sign | ones<<uint(mant) | 1<<uint(mant-1)
	case a == f32Inf:
		return sign | ones<<uint(mant)
	}
	e := int(a>>23) - 127
	if e >= emin {
		return sign | uint32(e-emin+1)<<uint(mant) | (a&0x7FFFFF)>>uint(23-mant)
	}
	// Zero or subnormal: the number of 2^(emin-mant) quanta, exact.
	inv := math.Float32frombits(uint32(127-emin+mant) << 23)
	return sign | uint32(math.Float32frombits(a)*inv)
}

// FromBits returns the value of the bit pattern b (in the low Size()·8
// bits) in d's encoding, the inverse of Bits for every non-NaN value.
func (d DType) FromBits(b uint32) float32 {
	switch d {
	case BF16:
		return math.Float32frombits(b << 16)
	case FP16:
		return decodeFP16(uint16(b))
	case FP8E4M3:
		return decodeE4M3(uint8(b))
	case FP8E5M2:
		return decodeFP16(uint16(b) << 8)
	case Int32:
		return float32(int32(b))
	}
	return math.Float32frombits(b)
}

// decodeFP16 widens an IEEE binary16 pattern (fp8e5m2 is its top byte).
func decodeFP16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1F
	m := uint32(h) & 0x3FF
	switch exp {
	case 0: // zero or subnormal: m·2^-24
		v := float32(m) * math.Float32frombits((127-24)<<23)
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1F:
		if m == 0 {
			return math.Float32frombits(sign | f32Inf)
		}
		return math.Float32frombits(sign | f32QNaN)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | m<<13)
}

// decodeE4M3 widens an OCP e4m3fn pattern.
func decodeE4M3(q uint8) float32 {
	sign := uint32(q>>7) << 31
	exp := uint32(q>>3) & 0xF
	m := uint32(q) & 7
	switch {
	case exp == 0: // zero or subnormal: m·2^-9
		v := float32(m) * math.Float32frombits((127-9)<<23)
		return math.Float32frombits(sign | math.Float32bits(v))
	case exp == 0xF && m == 7:
		return math.Float32frombits(sign | f32QNaN)
	}
	return math.Float32frombits(sign | (exp+127-7)<<23 | m<<20)
}
