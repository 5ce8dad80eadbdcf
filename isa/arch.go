package isa

import (
	"fmt"
	"strings"
)

// Arch is one NeuronCore generation as a kernel sees it: what a program may
// legally say. Costs and clocks are not here; see sim/neuron.
type Arch struct {
	Name string // "trn1", "trn2", "trn3"
	Core string // "NeuronCore-v2", ...

	// Partitions is the number of SBUF/PSUM partitions (lanes).
	Partitions int
	// SBUFPartitionBytes is the SBUF capacity of one partition in bytes.
	SBUFPartitionBytes int
	// PSUMBanks and PSUMBankBytes describe PSUM per partition.
	PSUMBanks     int
	PSUMBankBytes int

	// MatmulMaxK is the contraction (partition) limit of nc_matmul,
	// MatmulMaxM the stationary free size, MatmulMaxN the moving free size
	// in fp32 PSUM elements.
	MatmulMaxK int
	MatmulMaxM int
	MatmulMaxN int
	// MatmulNInBank: the matmul destination must stay within one PSUM bank
	// (NC-v2/v3); NC-v4 may span all banks.
	MatmulNInBank bool

	// MaxFreeSBUF and MaxFreePSUM bound the free elements of one
	// Vector/Scalar/GpSimd instruction's operand per partition.
	MaxFreeSBUF int
	MaxFreePSUM int

	// FP8DoubleRow: FP8 matmuls contract 256 rows in the time of 128 (v3+).
	FP8DoubleRow bool
	// ScalarCopy: ScalarE may run tensor_copy (v3+); on v2 a copy on ScalarE
	// is activation(copy).
	ScalarCopy bool
	// ConstBias: activation bias may be an immediate (v3+); on v2 it must be
	// a [P,1] tile.
	ConstBias bool
	// PSUMBF16: PSUM may hold bf16 matmul output and accumulation (v4).
	PSUMBF16 bool

	// DTypes lists the dtypes the engines accept for tensor data.
	DTypes []DType
}

// Trn1 returns the Trainium1 / Inferentia2 NeuronCore-v2.
func Trn1() Arch {
	return Arch{
		Name: "trn1", Core: "NeuronCore-v2",
		Partitions:         128,       // docs/hardware.md A §1.4 "Partition dim (P) max 128"
		SBUFPartitionBytes: 192 << 10, // A §1.1 SBUF 24 MiB = 128 × 192 KiB
		PSUMBanks:          8,         // A §1.1 PSUM 8 banks/partition
		PSUMBankBytes:      2 << 10,   // A §1.1 PSUM bank 2 KiB (512 FP32)
		MatmulMaxK:         128,       // A §2.2 nc_matmul K ≤ 128
		MatmulMaxM:         128,       // A §2.2 nc_matmul M ≤ 128
		MatmulMaxN:         512,       // A §2.2 nc_matmul N ≤ 512 on v2/v3
		MatmulNInBank:      true,      // A §2.2 one PSUM bank on v2/v3
		MaxFreeSBUF:        64 << 10,  // A §1.4 max F per Vector/Scalar instr 64K (SBUF)
		MaxFreePSUM:        4 << 10,   // A §1.4 4K elements (PSUM)
		DTypes:             []DType{FP32, BF16, FP16, FP8E4M3, FP8E5M2, Int32},
	}
}

// Trn2 returns the Trainium2 NeuronCore-v3.
func Trn2() Arch {
	a := Trn1()
	a.Name, a.Core = "trn2", "NeuronCore-v3"
	a.SBUFPartitionBytes = 224 << 10 // A §1.1 SBUF 28 MiB = 128 × 224 KiB
	a.FP8DoubleRow = true            // A §1.1 FP8 "double row" (v3)
	a.ScalarCopy = true              // A §2.2 tensor_copy on Scalar (v3+)
	a.ConstBias = true               // A §2.2 activation bias const (v3+)
	return a
}

// Trn3 returns the Trainium3 NeuronCore-v4.
func Trn3() Arch {
	a := Trn2()
	a.Name, a.Core = "trn3", "NeuronCore-v4"
	a.SBUFPartitionBytes = 256 << 10 // A §1.1 SBUF 32 MiB (= 128 × 256 KiB [I])
	a.MatmulMaxN = 4096              // A §2.2 N ≤ 4096 FP32 on v4 (all 8 banks)
	a.MatmulNInBank = false          // A §2.2 v4 spans banks
	a.PSUMBF16 = true                // A §1.1 v4 BF16 PSUM output/accumulate
	return a
}

// Archs returns every generation, oldest first.
func Archs() []Arch { return []Arch{Trn1(), Trn2(), Trn3()} }

// ArchByName returns the generation with the given name.
func ArchByName(name string) (Arch, error) {
	var names []string
	for _, a := range Archs() {
		if a.Name == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	return Arch{}, fmt.Errorf("unknown NeuronCore target %q (allowed: %s)", name, strings.Join(names, ", "))
}

// Supports reports whether the generation accepts dtype d.
func (a Arch) Supports(d DType) bool {
	for _, x := range a.DTypes {
		if x == d {
			return true
		}
	}
	return false
}

// PSUMPartitionBytes is the PSUM capacity of one partition.
func (a Arch) PSUMPartitionBytes() int { return a.PSUMBanks * a.PSUMBankBytes }
