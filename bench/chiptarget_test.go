package bench

import (
	"errors"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

func chipTarget(t *testing.T, name string) *ChipTarget {
	t.Helper()
	tg, err := TargetByName(name, "")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := tg.(*ChipTarget)
	if !ok {
		t.Fatalf("%s: %T, want *ChipTarget", name, tg)
	}
	return c
}

// TestChipSplit: each workload splits along its natural axis, shards are
// spread over the banks, and a core alone on its bank gets the whole bank
// (docs/systems.md D1: a Trn2 bank ≈ 725 GB/s shared by two cores).
func TestChipSplit(t *testing.T) {
	reg := kernels.Builtin()
	for _, tt := range []struct {
		target, spec string
		axis         string
		shard, cores int
		busy         int
		gbps         float64
	}{
		{"trn2-chip", "matmul:M=4096,N=4096,K=4096", "N", 512, 8, 2, 362.5},
		{"trn2-chip", "matmul:M=64,N=4096,K=4096,batch=16", "batch", 2, 8, 2, 362.5},
		{"trn2-chip", "decode_attention:batch=4,heads=32,kv_heads=8", "kv_heads", 1, 8, 2, 362.5},
		{"trn2-chip", "decode_attention:batch=1,heads=4,kv_heads=4", "heads", 1, 4, 1, 725},      // MHA of 4 heads: one per logical core, one busy core per bank
		{"trn2-chip-lnc1", "decode_attention:batch=1,heads=4,kv_heads=4", "heads", 1, 4, 1, 725}, // LNC=1 placed one per bank too
		{"trn2-chip-lnc1", "rmsnorm:tokens=6,hidden=4096", "tokens", 1, 6, 2, 362.5},
		{"trn2-chip", "rmsnorm:tokens=6,hidden=4096", "tokens", 1, 6, 2, 362.5},
		{"trn2-chip", "attention:heads=2,kv_heads=2,seqlen=1000,headdim=64", "heads", 1, 2, 1, 725},
		{"trn2-chip", "softmax:rows=3,cols=4096", "rows", 1, 3, 1, 725},
		{"trn1-chip", "attention:heads=8,seqlen=1024", "heads", 4, 2, 1, 410},
		{"trn3-chip", "matmul:M=128,N=1000,K=512", "N", 125, 8, 2, 612.5},
	} {
		p, err := reg.Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		s := chipTarget(t, tt.target).Split(p)
		if s.Axis != tt.axis || s.Shard != tt.shard || s.Cores != tt.cores || s.BusyPerBank != tt.busy || s.HBMBytesPerNs != tt.gbps {
			t.Errorf("%s on %s: %+v; want axis %s, shard %d, %d cores, %d per bank at %v GB/s", tt.spec, tt.target, s, tt.axis, tt.shard, tt.cores, tt.busy, tt.gbps)
		}
	}
}

// TestChipTime: a chip runs a large matmul 6–8× faster than one of its
// cores (8 cores, less the shards' own overheads), never faster than 8×;
// a bandwidth-bound decode over 8 shards runs at most at the chip's HBM
// bandwidth; FLOPs and HBM traffic are the whole workload's.
func TestChipTime(t *testing.T) {
	reg := kernels.Builtin()
	core, err := TargetByName("trn2", "")
	if err != nil {
		t.Fatal(err)
	}
	chip := chipTarget(t, "trn2-chip")
	for _, tt := range []struct {
		spec   string
		lo, hi float64 // speed-up of the chip over one core
	}{
		{"matmul:M=4096,N=4096,K=4096", 6, 8},
		{"decode_attention:batch=8,heads=32,kv_heads=8,seqlen=8192", 6, 8.01},
		{"rmsnorm:tokens=4096,hidden=4096", 4, 8.01},
	} {
		p, err := reg.Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		rc, _, err := Run(p, core)
		if err != nil {
			t.Fatal(err)
		}
		rch, _, err := Run(p, chip)
		if err != nil {
			t.Fatal(err)
		}
		if sp := rc.TimeUs / rch.TimeUs; sp < tt.lo || sp > tt.hi {
			t.Errorf("%s: core %.1f µs, chip %.1f µs: speed-up %.2f, want %v–%v", tt.spec, rc.TimeUs, rch.TimeUs, sp, tt.lo, tt.hi)
		}
		if rch.Unit != "chip" || rch.FLOPs != rc.FLOPs || rch.PctHBM > 100.001 {
			t.Errorf("%s: chip row unit %q, FLOPs %v (core %v), %%HBM %v", tt.spec, rch.Unit, rch.FLOPs, rc.FLOPs, rch.PctHBM)
		}
		if rch.HBMReadBytes < rc.HBMReadBytes {
			t.Errorf("%s: chip reads %d B, one core alone %d B: the chip's traffic is every shard's", tt.spec, rch.HBMReadBytes, rc.HBMReadBytes)
		}
	}
	if _, err := chip.TimeProgram(&isa.Program{Name: "x"}); !errors.Is(err, kernels.ErrUnsupported) {
		t.Errorf("TimeProgram on a chip: %v, want ErrUnsupported", err)
	}
}

// TestChipNames: every chip name resolves, trn1 has no LNC=1 variant (its
// only LNC), and no GPU has a chip target (a GPU is a chip).
func TestChipNames(t *testing.T) {
	want := []string{"trn1-chip", "trn2-chip", "trn2-chip-lnc1", "trn3-chip", "trn3-chip-lnc1"}
	got := ChipTargetNames()
	if len(got) != len(want) {
		t.Fatalf("ChipTargetNames() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ChipTargetNames()[%d] = %s, want %s", i, got[i], want[i])
		}
		if c := chipTarget(t, want[i]); c.LNC() != map[bool]int{true: 1, false: 2}[want[i] == "trn1-chip" || want[i][len(want[i])-4:] == "lnc1"] {
			t.Errorf("%s: LNC %d", want[i], c.LNC())
		}
	}
	for _, bad := range []string{"trn1-chip-lnc1", "h100-chip", "trn2-chip-lnc2", "-chip"} {
		if _, err := TargetByName(bad, ""); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("%s: %v, want ErrUnknownTarget", bad, err)
		}
	}
}

// FuzzParsePriceOverride: any -price value either is refused or gives a
// valid price per unit of the target, positive and finite.
func FuzzParsePriceOverride(f *testing.F) {
	for _, s := range []string{"4", "4/chip-hour", "64/instance-hour", "1e9", "NaN", "x/y", "/", "3/ instance "} {
		f.Add("trn2", s)
		f.Add("h100", s)
		f.Add("trn2-chip", s)
	}
	f.Fuzz(func(t *testing.T, target, val string) {
		p, err := ParsePriceOverride(target, val)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil || p.Basis != "user" {
			t.Fatalf("-price %s=%s accepted as %+v: %v", target, val, p, err)
		}
	})
}

// TestChipStreamedEqualsStored: a chip target's figures are the same
// whether its busiest core's program is stored or streamed.
func TestChipStreamedEqualsStored(t *testing.T) {
	chip := chipTarget(t, "trn2-chip")
	for _, spec := range []string{"matmul:M=512,N=1024,K=512", "decode_attention:batch=4,heads=8,kv_heads=2,seqlen=1024", "rmsnorm:tokens=64,hidden=1024"} {
		p := mustParse(t, spec)
		stored, err := RunDetailed(p, chip)
		if err != nil {
			t.Fatal(err)
		}
		streamed, err := RunTiming(p, chip)
		if err != nil {
			t.Fatal(err)
		}
		a, b := stored.Row, streamed.Row
		if a.TimeUs != b.TimeUs || a.HBMReadBytes != b.HBMReadBytes || a.FLOPs != b.FLOPs || a.Unit != "chip" || b.Unit != "chip" {
			t.Errorf("%s: stored %v µs %d B, streamed %v µs %d B", spec, a.TimeUs, a.HBMReadBytes, b.TimeUs, b.HBMReadBytes)
		}
	}
}
