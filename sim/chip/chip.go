// Package chip describes accelerator chips as whole devices: how many
// NeuronCores a Trainium chip has, how they pair into logical cores (LNC)
// over its HBM banks, its HBM capacity, and the GPU parts serving systems
// are built from. bench builds chip-level targets from these facts and
// serve builds instances from them; the micro-architecture of one core is in
// sim/neuron and sim/gpu.
//
// Units: bytes for capacities, GB/s = 1e9 B/s for bandwidths.
package chip

import (
	"fmt"
	"strings"
)

// Vendor says which family a chip belongs to, and so which collective
// algorithms and which unit of tensor parallelism apply.
type Vendor string

const (
	Trainium Vendor = "trainium"
	NVIDIA   Vendor = "nvidia"
)

// Chip is one accelerator chip: a Trainium device (several NeuronCores
// sharing HBM banks) or a GPU (one device).
//
// A device is what one tensor-parallel rank runs on: a logical NeuronCore
// on Trainium (LNC physical cores sharing one HBM bank), a whole GPU on
// NVIDIA. Kernels are timed on CoreTarget, one physical core (a bench
// target); a logical core of LNC=2 runs each kernel SPMD over its two
// physical cores, each doing half the work.
type Chip struct {
	Name       string // "trainium2", "h100", ...
	Vendor     Vendor
	CoreTarget string // the bench target of one physical core or GPU
	// PhysicalCores is the number of NeuronCores on the chip (1 for a GPU).
	PhysicalCores int
	// DefaultLNC is the logical-core size the runtime uses unless told
	// otherwise (1 for trn1 and GPUs).
	DefaultLNC int
	// AllowedLNC lists the LNC values the chip accepts.
	AllowedLNC []int
	// HBMBytes is the chip's HBM capacity in bytes.
	HBMBytes float64
	// HBMBanks is the number of HBM stacks; at LNC=2 one logical core owns
	// one bank, at LNC=1 two physical cores share one.
	HBMBanks int
	// ReservedBytesPerCore is HBM the runtime keeps per physical core
	// (firmware), not available to the model.
	ReservedBytesPerCore float64
	// GPUHBMGBps overrides the GPU preset's HBM bandwidth where the part
	// differs (0: keep the preset's).
	GPUHBMGBps float64
	// MXFP4 says whether the chip runs MXFP4 weights natively.
	MXFP4 bool
}

// Byte units.
const (
	GiB = 1 << 30
	MiB = 1 << 20
	GB  = 1e9
)

const (
	gib = GiB
	mib = MiB
	gb  = GB
)

// Chips returns the built-in chips, a new slice on each call.
func Chips() []Chip {
	return []Chip{
		{
			Name: "trainium1", Vendor: Trainium, CoreTarget: "trn1",
			PhysicalCores: 2,                       // docs/systems.md D1 "Trainium1": 2 NC-v2 per chip
			DefaultLNC:    1, AllowedLNC: []int{1}, // D1 "LNC values allowed": trn1 LNC=1 only
			HBMBytes:             32 * gib, // D1 "Trn1 HBM": 2 stacks, 32 GiB
			HBMBanks:             2,        // D1 "Trn1 HBM"
			ReservedBytesPerCore: 96 * mib, // D1 "Per-NC firmware reservation" 96 MB
		},
		{
			Name: "trainium2", Vendor: Trainium, CoreTarget: "trn2",
			PhysicalCores: 8,                          // D1 "trn2.48xlarge core counts": 16 chips × 8
			DefaultLNC:    2, AllowedLNC: []int{1, 2}, // D1 "Default", "LNC values allowed"
			HBMBytes:             96 * gib, // D1 "HBM organisation, Trn2": four 24 GB banks (neuron-ls 96 GiB)
			HBMBanks:             4,
			ReservedBytesPerCore: 96 * mib, // D1 "Per-NC firmware reservation"
		},
		{
			Name: "trainium3", Vendor: Trainium, CoreTarget: "trn3",
			PhysicalCores: 8, // D1 "Trn3 server core count": 64 logical cores per 16 chips at LNC=2
			DefaultLNC:    2, AllowedLNC: []int{1, 2},
			HBMBytes:             144 * gib, // D1 "Trn3 HBM": 4 stacks, 144 GiB
			HBMBanks:             4,
			ReservedBytesPerCore: 96 * mib, // D1, taken as for Trn2 [I]
			MXFP4:                true,     // D5 "On Trainium": MXFP4 is Trn3 only
		},
		{
			Name: "a100-40gb", Vendor: NVIDIA, CoreTarget: "a100",
			PhysicalCores: 1, DefaultLNC: 1, AllowedLNC: []int{1},
			HBMBytes:   40 * gb, // D4.1 p4d: 8 × A100 40 GB
			HBMBanks:   1,
			GPUHBMGBps: 1555, // docs/hardware.md B §1.1 HBM: A100-40GB 1,555 GB/s
		},
		{
			Name: "a100-80gb", Vendor: NVIDIA, CoreTarget: "a100", // the a100 preset is the 80 GB part (2,039 GB/s)
			PhysicalCores: 1, DefaultLNC: 1, AllowedLNC: []int{1},
			HBMBytes: 80 * gb, // D4.1 p4de.24xlarge: 8 × A100 80 GB
			HBMBanks: 1,
		},
		{
			Name: "h100", Vendor: NVIDIA, CoreTarget: "h100",
			PhysicalCores: 1, DefaultLNC: 1, AllowedLNC: []int{1},
			HBMBytes: 80 * gb, // D4.1 p5.48xlarge: 8 × H100 80 GB
			HBMBanks: 1,
		},
		{
			Name: "h200", Vendor: NVIDIA, CoreTarget: "h200",
			PhysicalCores: 1, DefaultLNC: 1, AllowedLNC: []int{1},
			HBMBytes: 141 * gb, // D4.1 p5e/p5en: 8 × H200 141 GB
			HBMBanks: 1,
		},
		{
			Name: "b200", Vendor: NVIDIA, CoreTarget: "b200",
			PhysicalCores: 1, DefaultLNC: 1, AllowedLNC: []int{1},
			HBMBytes: 179 * gb, // D4.1 p6-b200: 1,432 GB / 8 = 179 GB per GPU
			HBMBanks: 1,
			MXFP4:    true, // issue 11: mxfp4 where the hardware has it (trn3, b200)
		},
	}
}

// ByName returns the built-in chip name.
func ByName(name string) (Chip, error) {
	var names []string
	for _, c := range Chips() {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Chip{}, fmt.Errorf("unknown chip %q (allowed: %s)", name, strings.Join(names, ", "))
}

// CheckLNC reports whether lnc is allowed on the chip.
func (c Chip) CheckLNC(lnc int) error {
	for _, v := range c.AllowedLNC {
		if v == lnc {
			return nil
		}
	}
	return fmt.Errorf("lnc=%d on %s: allowed %v (docs/systems.md D1: LNC applies only to Trn2 and Trn3)", lnc, c.Name, c.AllowedLNC)
}

// DevicesPerChip is the number of tensor-parallel devices on one chip: logical
// cores at the given LNC on Trainium, 1 on a GPU.
func (c Chip) DevicesPerChip(lnc int) int { return c.PhysicalCores / lnc }

// DeviceHBMBytes is the HBM one device can use, in bytes: the chip's capacity
// over its devices, less the firmware reservation of the device's physical
// cores. At LNC=2 on Trn2 that is one 24 GiB bank per logical core (D1 "LNC=2
// ↔ HBM"); at LNC=1 two physical cores share a bank, 12 GiB each.
func (c Chip) DeviceHBMBytes(lnc int) float64 {
	return c.HBMBytes/float64(c.DevicesPerChip(lnc)) - float64(lnc)*c.ReservedBytesPerCore
}
