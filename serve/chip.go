package serve

import "github.com/trnsim/trnsim/sim/chip"

// The chip facts live in sim/chip, below bench, so that bench's chip-level
// targets and serve's systems read the same rows.

// Vendor says which family a chip belongs to (see chip.Vendor).
type Vendor = chip.Vendor

// Chip is one accelerator chip (see chip.Chip).
type Chip = chip.Chip

const (
	Trainium = chip.Trainium
	NVIDIA   = chip.NVIDIA
)

const (
	gib = chip.GiB
	mib = chip.MiB
	gb  = chip.GB
)

// Chips returns the built-in chips, a new slice on each call.
func Chips() []Chip { return chip.Chips() }

// ChipByName returns the built-in chip name.
func ChipByName(name string) (Chip, error) { return chip.ByName(name) }
