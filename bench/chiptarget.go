package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/sim/chip"
)

// ChipTarget is one whole Trainium chip: its physical NeuronCores grouped
// into logical cores of LNC physical cores each (docs/systems.md D1), over the
// chip's HBM banks. A single-kernel workload is split across the logical
// cores along its natural parallel axis (splitAxis), and each logical
// core's share is halved again SPMD over its two physical cores at LNC=2,
// as NKI shards a kernel[2] launch (D1 "NKI multi-core launch").
//
// The chip's time is the time of its busiest physical core, simulated with
// the HBM bandwidth that core gets on the bank it shares: the bank's
// bandwidth (D1 "Per-core HBM bandwidth": one Trn2 stack ≈ 725 GB/s, the
// preset's per-core share × cores per bank) divided among the busy cores of
// that bank. A lone core on a bank may use the whole bank, but no more than
// its own DMA engines move (D1 "Can one physical core use a whole stack?"),
// which the NeuronCore model times. Shards are placed on as many banks as
// possible: at LNC=2 one logical core owns one bank (D1 "LNC=2 ↔ HBM"); at
// LNC=1 shards go to one core of each bank before the second (a placement
// a user chooses with NEURON_RT_VISIBLE_CORES; the runtime's default fills
// neighbours, D1 "LNC=1 ↔ HBM").
//
// What is partial: the report is the busiest core's (its engines, spans and
// program), with the FLOPs and the memory traffic of the whole chip (the
// busiest core's traffic × the shards: exact when shards are equal, an
// upper bound otherwise). The shards do not communicate: a workload whose
// split needs a reduction (a matmul split along K) is not split that way.
type ChipTarget struct {
	core *NeuronTarget // one physical core, the preset (and -hw) of the chip's generation
	chip chip.Chip
	lnc  int
	name string
	// price is per chip-hour.
	price UnitPrice
}

// Chip returns the chip's facts.
func (t *ChipTarget) Chip() chip.Chip { return t.chip }

// LNC returns the logical-core size: physical cores per logical core.
func (t *ChipTarget) LNC() int { return t.lnc }

// Core returns the target of one physical core of the chip.
func (t *ChipTarget) Core() *NeuronTarget { return t.core }

func (t *ChipTarget) Name() string     { return t.name }
func (t *ChipTarget) Unit() string     { return "chip" }
func (t *ChipTarget) Price() UnitPrice { return t.price }

// HBMBytesPerSec is the chip's HBM bandwidth: every physical core's share.
func (t *ChipTarget) HBMBytesPerSec() float64 {
	return t.core.HBMBytesPerSec() * float64(t.chip.PhysicalCores)
}

// PeakFLOPs is the chip's peak: every physical core's.
func (t *ChipTarget) PeakFLOPs(d isa.DType) float64 {
	return t.core.PeakFLOPs(d) * float64(t.chip.PhysicalCores)
}

func (t *ChipTarget) TimeProgram(prog *isa.Program) (Timing, error) {
	return Timing{}, fmt.Errorf("program %s on %s: a hand-written program runs on one NeuronCore (target %s), not split over a chip: %w",
		prog.Name, t.name, t.core.Name(), kernels.ErrUnsupported)
}

func (t *ChipTarget) Describe() string {
	logical := t.chip.DevicesPerChip(t.lnc)
	return describe(fmt.Sprintf("%s chip, %d physical cores as %d logical (LNC=%d), %d HBM banks",
		t.chip.Name, t.chip.PhysicalCores, logical, t.lnc, t.chip.HBMBanks), t.PeakFLOPs(isa.BF16), t.HBMBytesPerSec(), t.price)
}

// ChipSplit says how a workload was divided over a chip's cores.
type ChipSplit struct {
	Axis string // the parameter split ("" when the workload has no axis to split: it runs on one core)
	// Len is the axis's length in the workload; Shard the length the
	// busiest physical core runs.
	Len, Shard int
	// Cores is the number of busy physical cores; BusyPerBank the most
	// busy cores on one HBM bank.
	Cores, BusyPerBank int
	// HBMBytesPerNs is the bandwidth the busiest core was timed with.
	HBMBytesPerNs float64
}

func (s ChipSplit) String() string {
	if s.Axis == "" {
		return fmt.Sprintf("not split: 1 core, %.0f GB/s HBM", s.HBMBytesPerNs)
	}
	return fmt.Sprintf("%s %d → %d per core on %d cores, %d per HBM bank at %.0f GB/s each", s.Axis, s.Len, s.Shard, s.Cores, s.BusyPerBank, s.HBMBytesPerNs)
}

// splitAxes lists, in order of preference, the parameters along which a
// kernel's work divides into independent shards: independent problems
// first (batch), then heads, then rows of row-wise kernels, then a
// matmul's columns N (each core reads all of A and its columns of B).
var splitAxes = []string{"batch", "kv_heads", "heads", "tokens", "rows", "N"}

// splitAxis returns the parameter to split p along and its length: the
// first of splitAxes whose length fills every physical core, else the
// longest. kv_heads counts only when it is set (GQA); heads only when KV
// heads are not (MHA, or a kernel without KV heads). ok is false when p has
// none.
func splitAxis(p kernels.Params, cores int) (axis string, n int, ok bool) {
	for _, a := range splitAxes {
		if !p.Has(a) {
			continue
		}
		v := p.Int(a)
		if a == "kv_heads" && (v == 0 || v == p.Int("heads")) {
			continue // MHA: heads are the axis
		}
		if a == "heads" && p.Has("kv_heads") && p.Int("kv_heads") != 0 && p.Int("kv_heads") != v {
			continue // GQA: split by KV heads, each with its query group
		}
		if v >= cores {
			return a, v, true
		}
		if v > n {
			axis, n = a, v
		}
	}
	return axis, n, axis != ""
}

// plan divides a workload of axis length n over the chip: the shard the
// busiest physical core runs, the busy cores and the most busy cores on one
// bank.
func (t *ChipTarget) plan(n int) (shard, cores, busyPerBank int) {
	phys, banks := t.chip.PhysicalCores, max(t.chip.HBMBanks, 1)
	if t.lnc == 1 {
		c := min(n, phys)
		return ceilDiv(n, c), c, ceilDiv(c, banks)
	}
	logical := t.chip.DevicesPerChip(t.lnc)
	nl := min(n, logical)
	sl := ceilDiv(n, nl) // one logical core's share
	inner := min(sl, t.lnc)
	// Logical cores fill the banks one by one (D1 "LNC=2 ↔ HBM"), each
	// with its inner busy physical cores.
	return ceilDiv(sl, inner), ceilDiv(n, ceilDiv(sl, inner)), ceilDiv(nl, banks) * inner
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Split returns how p would be divided over the chip.
func (t *ChipTarget) Split(p kernels.Params) ChipSplit {
	cfg := t.core.Config()
	perCore := cfg.HBMBytesPerNs
	phys, banks := t.chip.PhysicalCores, max(t.chip.HBMBanks, 1)
	// Bank bandwidth: the preset's per-core share (chip bandwidth over all
	// its cores, docs/hardware.md A §1.1) times the cores on one bank (D1 "HBM
	// organisation, Trn2").
	bank := perCore * float64(phys) / float64(banks)
	axis, n, ok := splitAxis(p, phys)
	if !ok {
		return ChipSplit{Cores: 1, BusyPerBank: 1, HBMBytesPerNs: bank}
	}
	shard, cores, busy := t.plan(n)
	return ChipSplit{Axis: axis, Len: n, Shard: shard, Cores: cores, BusyPerBank: busy, HBMBytesPerNs: bank / float64(busy)}
}

// shardParams returns p with its axis cut to shard (the query heads cut
// with the KV heads under GQA).
func shardParams(p kernels.Params, s ChipSplit) (kernels.Params, error) {
	if s.Axis == "" || s.Shard == s.Len {
		return p, nil
	}
	q := p
	var err error
	if s.Axis == "heads" && p.Has("kv_heads") && p.Int("kv_heads") == s.Len {
		// MHA stated as kv_heads = heads: the KV heads split alike (first,
		// so that heads stays a multiple of them).
		if q, err = q.With("kv_heads", strconv.Itoa(s.Shard)); err != nil {
			return p, err
		}
	}
	if q, err = q.With(s.Axis, strconv.Itoa(s.Shard)); err != nil {
		return p, err
	}
	if s.Axis == "kv_heads" {
		group := p.Int("heads") / p.Int("kv_heads")
		if q, err = q.With("heads", strconv.Itoa(s.Shard*group)); err != nil {
			return p, err
		}
	}
	return q, nil
}

// Time splits the workload over the chip and times its busiest core.
func (t *ChipTarget) Time(p kernels.Params) (Timing, error) {
	return t.time(p, (*NeuronTarget).Time)
}

// timeStreamed is Time with the busiest core's program streamed through the
// timing model (NeuronTarget.timeStreamed): the same figures, no Program.
func (t *ChipTarget) timeStreamed(p kernels.Params, mode int) (Timing, error) {
	return t.time(p, func(c *NeuronTarget, q kernels.Params) (Timing, error) { return c.timeStreamed(q, mode) })
}

// time splits p over the chip and times the busiest core's shard with
// timeCore on a core target with that core's HBM bandwidth.
func (t *ChipTarget) time(p kernels.Params, timeCore func(*NeuronTarget, kernels.Params) (Timing, error)) (Timing, error) {
	s := t.Split(p)
	q, err := shardParams(p, s)
	if err != nil {
		return Timing{}, fmt.Errorf("%s on %s: splitting %s: %w", p, t.name, s.Axis, err)
	}
	cfg := t.core.Config()
	cfg.HBMBytesPerNs = s.HBMBytesPerNs
	core := &NeuronTarget{cfg: cfg, arch: t.core.arch, price: t.core.price, tuned: t.core.tuned, exact: t.core.exact}
	tm, err := timeCore(core, q)
	if err != nil {
		return Timing{}, err
	}
	rep := tm.Report
	// The chip's traffic: every busy core's (see the type's comment).
	for l := range rep.Traffic {
		rep.Traffic[l].Read *= int64(s.Cores)
		rep.Traffic[l].Write *= int64(s.Cores)
	}
	rep.FLOPs = p.Kernel.FLOPs(p)
	rep.PeakFLOP = t.PeakFLOPs(dtypeOf(p))
	tm.Detail = s.String()
	return tm, nil
}

// Chip-level target names: the core preset's name, "-chip", and "-lnc1"
// for LNC=1 on a chip whose default is LNC=2.
const chipSuffix = "-chip"

// ChipTargetNames lists the chip-level targets, one per Trainium chip at
// its default LNC, and "-lnc1" variants where LNC=2 is the default.
func ChipTargetNames() []string {
	var out []string
	for _, c := range chip.Chips() {
		if c.Vendor != chip.Trainium {
			continue
		}
		out = append(out, c.CoreTarget+chipSuffix)
		if c.DefaultLNC != 1 && c.CheckLNC(1) == nil {
			out = append(out, c.CoreTarget+chipSuffix+"-lnc1")
		}
	}
	return out
}

// parseChipName splits a chip-level target name into its core preset and
// LNC; ok is false when name is no chip-level target.
func parseChipName(name string) (core string, c chip.Chip, lnc int, ok bool) {
	base, lncPart, hasLNC := strings.Cut(name, chipSuffix)
	if !strings.HasSuffix(name, chipSuffix) && !hasLNC {
		return "", chip.Chip{}, 0, false
	}
	for _, ch := range chip.Chips() {
		if ch.Vendor != chip.Trainium || ch.CoreTarget != base {
			continue
		}
		switch lncPart {
		case "":
			return base, ch, ch.DefaultLNC, true
		case "-lnc1":
			if ch.DefaultLNC != 1 && ch.CheckLNC(1) == nil {
				return base, ch, 1, true
			}
		}
	}
	return "", chip.Chip{}, 0, false
}

// newChipTarget builds the chip-level target name over its core target;
// cores per chip come from sim/chip and must agree with the core preset.
func newChipTarget(name string, core *NeuronTarget, c chip.Chip, lnc int, price UnitPrice) (*ChipTarget, error) {
	if err := c.CheckLNC(lnc); err != nil {
		return nil, err
	}
	if cpc := core.Config().CoresPerChip; cpc != c.PhysicalCores {
		return nil, fmt.Errorf("target %s: the hardware config has %d cores per chip, the chip %s %d", name, cpc, c.Name, c.PhysicalCores)
	}
	if math.IsNaN(price.PerUnitHour) {
		price = noPrice("chip")
	}
	return &ChipTarget{core: core, chip: c, lnc: lnc, name: name, price: price}, nil
}

var _ Target = (*ChipTarget)(nil)
