package isa

import (
	"math"
	"slices"
	"testing"
)

// f returns the float32 with bit pattern b (inputs written as patterns
// where the exact bits matter).
func f(b uint32) float32 { return math.Float32frombits(b) }

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
	qNaN   = f(0x7FC00000)
	negNaN = f(0xFFC00000)
	sNaN   = f(0x7F800001) // signalling NaN with a payload
	negZ   = f(0x80000000)
)

// TestRoundHandCases checks Round and Bits against bit patterns worked out
// by hand from the format table in round.go.
func TestRoundHandCases(t *testing.T) {
	type tc struct {
		name string
		in   float32
		bits uint32  // expected Bits(in)
		want float32 // expected Round(in); NaN means "a NaN"
	}
	cases := map[DType][]tc{
		BF16: {
			{"one", 1, 0x3F80, 1},
			{"tie to even down", f(0x3F808000), 0x3F80, 1},                     // 1+2^-8: between 0x3F80 and 0x3F81
			{"tie to even up", f(0x3F818000), 0x3F82, f(0x3F820000)},           // between 0x3F81 and 0x3F82
			{"above tie", f(0x3F808001), 0x3F81, f(0x3F810000)},                //
			{"below tie", f(0x3F807FFF), 0x3F80, 1},                            //
			{"max finite", f(0x7F7F7FFF), 0x7F7F, f(0x7F7F0000)},               // just below max+½ulp
			{"overflow tie to Inf", f(0x7F7F8000), 0x7F80, posInf},             // max is odd: tie goes to Inf
			{"fp32 max to Inf", f(0x7F7FFFFF), 0x7F80, posInf},                 //
			{"neg overflow", f(0xFF7FFFFF), 0xFF80, negInf},                    //
			{"-Inf", negInf, 0xFF80, negInf},                                   //
			{"NaN", f(0x7FC00001), 0x7FC0, qNaN},                               //
			{"neg NaN", negNaN, 0xFFC0, qNaN},                                  //
			{"signalling NaN quieted", sNaN, 0x7FC0, qNaN},                     //
			{"subnormal tie to zero", f(0x00008000), 0x0000, 0},                //
			{"subnormal tie up to even", f(0x00018000), 0x0002, f(0x00020000)}, //
			{"subnormal above tie", f(0x00008001), 0x0001, f(0x00010000)},      //
			{"up out of subnormals", f(0x007FFFFF), 0x0080, f(0x00800000)},     // to the smallest normal
			{"-0", negZ, 0x8000, negZ},
		},
		FP16: {
			{"one", 1, 0x3C00, 1},
			{"max", 65504, 0x7BFF, 65504},
			{"below overflow tie", f(0x477FEFFF), 0x7BFF, 65504},
			{"overflow tie to Inf", 65520, 0x7C00, posInf}, // 65504 + ½·32: max is odd
			{"neg overflow", -70000, 0xFC00, negInf},
			{"Inf", posInf, 0x7C00, posInf},
			{"NaN", qNaN, 0x7E00, qNaN},
			{"neg NaN", negNaN, 0xFE00, qNaN},
			{"min subnormal", 0x1p-24, 0x0001, 0x1p-24},
			{"half min subnormal ties to zero", 0x1p-25, 0x0000, 0},
			{"1.5 quanta-halves rounds up", 0x1.8p-25, 0x0001, 0x1p-24},
			{"1.5 quanta ties to 2", 0x1.8p-24, 0x0002, 0x1p-23},
			{"tiny negative to -0", -0x1p-30, 0x8000, negZ},
			{"max subnormal", 1023 * 0x1p-24, 0x03FF, 1023 * 0x1p-24},
			{"1023.5 quanta ties up to min normal", 2047 * 0x1p-25, 0x0400, 0x1p-14},
			{"1023.75 quanta rounds up to min normal", f(0x387FF000), 0x0400, 0x1p-14},
			{"min normal", 0x1p-14, 0x0400, 0x1p-14},
			{"normal tie down to even", 1 + 0x1p-11, 0x3C00, 1},
			{"normal tie up to even", 1 + 3*0x1p-11, 0x3C02, 1 + 0x1p-9},
			{"-0", negZ, 0x8000, negZ},
		},
		FP8E5M2: {
			{"one", 1, 0x3C, 1},
			{"max", 57344, 0x7B, 57344},
			{"below overflow tie", f(0x476FFFFF), 0x7B, 57344},
			{"overflow tie to Inf", 61440, 0x7C, posInf}, // 57344 + ½·8192
			{"-Inf", negInf, 0xFC, negInf},
			{"NaN", qNaN, 0x7E, qNaN},
			{"neg NaN", negNaN, 0xFE, qNaN},
			{"min subnormal", 0x1p-16, 0x01, 0x1p-16},
			{"half min subnormal ties to zero", 0x1p-17, 0x00, 0},
			{"1.5 quanta ties to 2", 3 * 0x1p-17, 0x02, 0x1p-15},
			{"max subnormal", 3 * 0x1p-16, 0x03, 3 * 0x1p-16},
			{"3.5 quanta ties up to min normal", 7 * 0x1p-17, 0x04, 0x1p-14},
			{"normal tie down to even", 1.125, 0x3C, 1},
			{"normal tie up to even", 1.375, 0x3E, 1.5},
			{"-0", negZ, 0x80, negZ},
		},
		FP8E4M3: {
			{"one", 1, 0x38, 1},
			{"max", 448, 0x7E, 448},
			{"top binade", 240, 0x77, 240},
			{"tie above max stays max", 464, 0x7E, 448}, // between 448 (even) and 480 (the NaN slot)
			{"saturate", 465, 0x7E, 448},
			{"saturate large", 1e6, 0x7E, 448},
			{"saturate Inf", posInf, 0x7E, 448},
			{"saturate -Inf", negInf, 0xFE, -448},
			{"saturate negative", -500, 0xFE, -448},
			{"NaN", qNaN, 0x7F, qNaN},
			{"neg NaN", negNaN, 0xFF, qNaN},
			{"min subnormal", 0x1p-9, 0x01, 0x1p-9},
			{"half min subnormal ties to zero", 0x1p-10, 0x00, 0},
			{"1.5 quanta ties to 2", 3 * 0x1p-10, 0x02, 0x1p-8},
			{"max subnormal", 7 * 0x1p-9, 0x07, 7 * 0x1p-9},
			{"7.5 quanta ties up to min normal", 15 * 0x1p-10, 0x08, 0x1p-6},
			{"normal tie down to even", 1.0625, 0x38, 1},
			{"normal tie up to even", 1.1875, 0x3A, 1.25},
			{"-0", negZ, 0x80, negZ},
		},
		Int32: {
			{"tie down to even", 2.5, 2, 2},
			{"tie up to even", 3.5, 4, 4},
			{"negative tie", -2.5, 0xFFFFFFFE, -2},
			{"half to zero", 0.5, 0, 0},
			{"saturate", 1e10, 0x7FFFFFFF, 0x1p31},
			{"saturate negative", -1e10, 0x80000000, -0x1p31},
			{"Inf saturates", posInf, 0x7FFFFFFF, 0x1p31},
			{"NaN is zero", qNaN, 0, 0},
			{"exact", 16777216, 0x01000000, 16777216},
		},
		FP32: {
			{"identity", 1.1, math.Float32bits(1.1), 1.1},
			{"subnormal kept", f(1), 1, f(1)},
			{"NaN payload kept", sNaN, 0x7F800001, sNaN},
		},
	}
	for _, d := range DTypes() {
		for _, c := range cases[d] {
			t.Run(d.String()+"/"+c.name, func(t *testing.T) {
				if got := d.Bits(c.in); got != c.bits {
					t.Errorf("Bits(%g [%#08x]) = %#x, want %#x", c.in, math.Float32bits(c.in), got, c.bits)
				}
				got := d.Round(c.in)
				if c.want != c.want {
					if got == got {
						t.Errorf("Round(%g) = %g, want NaN", c.in, got)
					}
					return
				}
				if math.Float32bits(got) != math.Float32bits(c.want) {
					t.Errorf("Round(%g [%#08x]) = %g [%#08x], want %g [%#08x]", c.in, math.Float32bits(c.in),
						got, math.Float32bits(got), c.want, math.Float32bits(c.want))
				}
				if d != Int32 {
					if back := d.FromBits(c.bits); math.Float32bits(back) != math.Float32bits(c.want) {
						t.Errorf("FromBits(%#x) = %g, want %g", c.bits, back, c.want)
					}
				}
			})
		}
	}
}

// format lists every finite value of a float dtype in increasing order,
// built by decoding every bit pattern, and the largest finite value.
type format struct {
	vals  []float64
	max   float64
	inf   bool // overflow gives Inf (IEEE) rather than saturating
	width uint
}

func newFormat(t *testing.T, d DType) format {
	t.Helper()
	fm := format{width: uint(8 * d.Size()), inf: d != FP8E4M3}
	for b := uint32(0); b < 1<<fm.width; b++ {
		v := d.FromBits(b)
		if v != v || math.IsInf(float64(v), 0) {
			continue
		}
		fm.vals = append(fm.vals, float64(v))
	}
	slices.Sort(fm.vals)
	fm.vals = slices.Compact(fm.vals)
	fm.max = fm.vals[len(fm.vals)-1]
	return fm
}

// checkNearest reports why r is not the correctly rounded value of x in d,
// or "" if it is: r must be representable, no representable value may be
// strictly closer, ties must go to the even pattern, overflow follows the
// rules of round.go, and the sign survives.
func checkNearest(d DType, fm format, x, r float32) string {
	if x != x {
		if r == r {
			return "NaN did not stay NaN"
		}
		return ""
	}
	if math.Signbit(float64(x)) != math.Signbit(float64(r)) {
		return "sign changed"
	}
	if back := d.FromBits(d.Bits(x)); math.Float32bits(back) != math.Float32bits(r) {
		return "FromBits(Bits(x)) differs from Round(x)"
	}
	if math.Float32bits(d.Round(r)) != math.Float32bits(r) {
		return "Round is not idempotent"
	}
	ax := math.Abs(float64(x))
	ar := math.Abs(float64(r))
	if math.IsInf(float64(r), 0) {
		if !fm.inf {
			return "Inf in a saturating format"
		}
		// max + ½ulp(max); max has an odd mantissa so the tie goes up.
		n := len(fm.vals)
		if ax < fm.max+(fm.max-fm.vals[n-2])/2 {
			return "overflowed to Inf below max + ½ulp"
		}
		return ""
	}
	i, _ := slices.BinarySearch(fm.vals, float64(r))
	if i == len(fm.vals) || fm.vals[i] != float64(r) {
		return "result not representable"
	}
	if ax > fm.max {
		if !fm.inf && ar != fm.max {
			return "did not saturate to max"
		}
		if fm.inf && ax >= fm.max+(fm.max-fm.vals[len(fm.vals)-2])/2 {
			return "should have overflowed to Inf"
		}
		return ""
	}
	// Nearest neighbours of |x| among the representable magnitudes.
	j, _ := slices.BinarySearch(fm.vals, ax)
	best := math.Inf(1)
	for _, k := range []int{j - 1, j} {
		if k >= 0 && k < len(fm.vals) {
			best = min(best, math.Abs(fm.vals[k]-ax))
		}
	}
	dr := math.Abs(ar - ax)
	if dr > best {
		return "a representable value is strictly closer"
	}
	if dr == best && dr != 0 {
		// A tie (or the unique nearest): if the other neighbour is as
		// close, r must be the even pattern.
		for _, k := range []int{j - 1, j} {
			if k >= 0 && k < len(fm.vals) && fm.vals[k] != ar && math.Abs(fm.vals[k]-ax) == dr && d.Bits(r)&1 != 0 {
				return "tie not rounded to even"
			}
		}
	}
	return ""
}

// TestRoundNearestSweep checks every float32 pattern in a strided sweep
// (plus every midpoint between neighbouring fp8 and fp16 values and its two
// float32 neighbours) against the nearest-value oracle of checkNearest.
func TestRoundNearestSweep(t *testing.T) {
	stride := uint64(4093) // prime: visits every mantissa residue
	if testing.Short() {
		stride = 65521
	}
	for _, d := range []DType{BF16, FP16, FP8E5M2, FP8E4M3} {
		t.Run(d.String(), func(t *testing.T) {
			fm := newFormat(t, d)
			fails := 0
			check := func(x float32) {
				if why := checkNearest(d, fm, x, d.Round(x)); why != "" && fails < 10 {
					fails++
					t.Errorf("Round(%g [%#08x]) = %g: %s", x, math.Float32bits(x), d.Round(x), why)
				}
			}
			for b := uint64(0); b < 1<<32; b += stride {
				check(f(uint32(b)))
			}
			if d == BF16 {
				return // 65536 values: the sweep above covers its midpoints' neighbourhoods
			}
			for i := 1; i < len(fm.vals); i++ {
				mid := float32((fm.vals[i-1] + fm.vals[i]) / 2) // exact in float32 for these formats
				for _, x := range []float32{mid, math.Nextafter32(mid, -1e30), math.Nextafter32(mid, 1e30)} {
					check(x)
					check(-x)
				}
			}
		})
	}
}

// TestRoundInt32Sweep compares int32 rounding with math.RoundToEven and
// saturation on a strided sweep.
func TestRoundInt32Sweep(t *testing.T) {
	for b := uint64(0); b < 1<<32; b += 65521 {
		x := f(uint32(b))
		want := int64(0)
		if x == x {
			want = int64(max(min(math.RoundToEven(float64(x)), math.MaxInt32), math.MinInt32))
		}
		if got := int32(Int32.Bits(x)); int64(got) != want {
			t.Fatalf("Int32.Bits(%g) = %d, want %d", x, got, want)
		}
	}
}

// FuzzRound checks Round against the nearest-value oracle for any float32.
func FuzzRound(f *testing.F) {
	for _, b := range []uint32{0, 0x3F808000, 0x7F7F8000, 0x477FF000, 0x43E80000, 0x387FE000, 0x7FC00000} {
		f.Add(b)
	}
	formats := map[DType]format{}
	f.Fuzz(func(t *testing.T, b uint32) {
		x := math.Float32frombits(b)
		for _, d := range []DType{BF16, FP16, FP8E5M2, FP8E4M3} {
			fm, ok := formats[d]
			if !ok {
				fm = newFormat(t, d)
				formats[d] = fm
			}
			if why := checkNearest(d, fm, x, d.Round(x)); why != "" {
				t.Errorf("%s: Round(%g [%#08x]) = %g: %s", d, x, b, d.Round(x), why)
			}
		}
	})
}

func BenchmarkRound(b *testing.B) {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i)*0.37 - 700
	}
	for _, d := range []DType{BF16, FP16, FP8E4M3, FP8E5M2} {
		b.Run(d.String(), func(b *testing.B) {
			var s float32
			for b.Loop() {
				for _, x := range xs {
					s += d.Round(x)
				}
			}
			_ = s
		})
	}
}
