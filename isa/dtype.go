package isa

import (
	"fmt"
	"strings"
)

// DType is the element type of an access pattern or tensor.
type DType uint8

// The dtypes trnsim models (docs/hardware.md A §2.2 "Data types"). Int32 exists
// for index-producing instructions (iota) and masks.
const (
	FP32 DType = iota
	BF16
	FP16
	FP8E4M3
	FP8E5M2
	Int32
	numDTypes
)

var dtypeNames = [numDTypes]string{"fp32", "bf16", "fp16", "fp8e4m3", "fp8e5m2", "int32"}
var dtypeSizes = [numDTypes]int{4, 2, 2, 1, 1, 4}

// String returns the dtype's name as written in workloads and assembly.
func (d DType) String() string {
	if d < numDTypes {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size returns the size of one element in bytes.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFP8 reports whether d is one of the 8-bit float formats.
func (d DType) IsFP8() bool { return d == FP8E4M3 || d == FP8E5M2 }

// DTypes returns every dtype in declaration order.
func DTypes() []DType {
	ds := make([]DType, numDTypes)
	for i := range ds {
		ds[i] = DType(i)
	}
	return ds
}

// ParseDType reads a dtype name. "fp8" is accepted as fp8e4m3, the format
// inference kernels use for activations and weights.
func ParseDType(s string) (DType, error) {
	switch s {
	case "fp8", "fp8_e4m3", "float8_e4m3":
		return FP8E4M3, nil
	case "fp8_e5m2", "float8_e5m2":
		return FP8E5M2, nil
	case "float32":
		return FP32, nil
	case "bfloat16":
		return BF16, nil
	case "float16":
		return FP16, nil
	}
	for i, n := range dtypeNames {
		if n == s {
			return DType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q (allowed: %s, fp8)", s, strings.Join(dtypeNames[:], ", "))
}
