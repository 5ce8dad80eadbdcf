package kernels

import (
	"strings"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/neuron"
)

func TestDecodeCheck(t *testing.T) {
	// Group sizes 4 (packed four to a tile), 1 (MHA), 8, 64 (packed two)
	// and 128 (one); ragged KV lengths, several KV tiles per split
	// (1100 keys: 1024 + 76) and splits.
	specs := []string{
		"decode_attention:batch=1,heads=8,kv_heads=2,seqlen=1100,headdim=64,variant=splitkv,splits=2",
		"decode_attention:batch=3,heads=8,kv_heads=2,seqlen=1100,headdim=64,variant=nosplit",
		"decode_attention:batch=2,heads=8,kv_heads=0,seqlen=300,headdim=128,variant=best",
		"decode_attention:batch=1,heads=12,kv_heads=4,seqlen=1,headdim=64,variant=splitkv",
		"decode_attention:batch=2,heads=64,kv_heads=1,seqlen=200,headdim=256,variant=splitkv,splits=2",
		"decode_attention:batch=1,heads=128,kv_heads=1,seqlen=200,headdim=64,variant=nosplit",
		"decode_attention:batch=2,heads=16,kv_heads=2,seqlen=130,headdim=128,variant=splitkv,splits=64",
	}
	if !testing.Short() {
		specs = append(specs, "decode_attention:batch=3,heads=96,kv_heads=3,seqlen=9000,headdim=128,variant=splitkv,splits=0")
	}
	checkMatrix(t, specs, "bf16", "fp16", "fp8e4m3")
}

func TestDecodeSplits(t *testing.T) {
	ks := Builtin()
	for _, tc := range []struct {
		spec    string
		splits  int
		combine bool
	}{
		// splitkv, automatic: one split per 8192 keys, at most 64
		{"decode_attention:seqlen=32768,variant=splitkv", 4, true},
		{"decode_attention:seqlen=100,variant=splitkv", 1, true},
		{"decode_attention:seqlen=8193,variant=splitkv", 2, true},
		{"decode_attention:seqlen=131072,variant=splitkv", 16, true},
		// best: no split on one core unless splits are given
		{"decode_attention:seqlen=32768", 1, false},
		{"decode_attention:seqlen=4096,splits=7", 7, true},
		{"decode_attention:seqlen=4096,variant=nosplit,splits=7", 1, false},
	} {
		p, err := ks.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if sp, c := decodeSplits(p); sp != tc.splits || c != tc.combine {
			t.Errorf("%s: %d splits, combine %v; want %d, %v", tc.spec, sp, c, tc.splits, tc.combine)
		}
	}
}

func TestDecodePack(t *testing.T) {
	for _, tc := range []struct{ g, pack, stride int }{
		{1, 4, 32}, {4, 4, 32}, {32, 4, 32}, {33, 2, 64}, {64, 2, 64}, {65, 1, 128}, {128, 1, 128},
	} {
		if p, s := decodePack(tc.g); p != tc.pack || s != tc.stride {
			t.Errorf("decodePack(%d) = %d, %d; want %d, %d", tc.g, p, s, tc.pack, tc.stride)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	ks := Builtin()
	for _, tc := range []struct{ spec, want string }{
		{"decode_attention:heads=256,kv_heads=1", "heads/kv_heads=256"},
		{"decode_attention:seqlen=10,splits=11", "splits=11"},
		{"decode_attention:seqlen=200000", "seqlen=200000"},
		{"decode_attention:headdim=80", "headdim=80"},
		{"decode_attention:splits=-1", "splits"},
	} {
		_, err := ks.Parse(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	p, err := ks.Parse("decode_attention:batch=1,seqlen=1000,splits=100")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildNeuron(isa.Trn2(), p); err == nil || !strings.Contains(err.Error(), "splits=100") {
		t.Errorf("splits=100 on a NeuronCore: error %v, want one naming splits=100", err)
	}
}

// decodeMBU runs spec on target and returns the HBM bandwidth it reaches
// as a percentage of the core's.
func decodeMBU(t *testing.T, spec, target string) float64 {
	t.Helper()
	cfg, err := neuron.Preset(target)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := BuildNeuron(cfg.Arch(), p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := neuron.Run(prog, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The KV cache is read once: batch·kv_heads·seqlen·headdim·2 (K, V)
	// elements.
	kv := float64(p.Int("batch")*kvHeadsOf(p)*p.Int("seqlen")*p.Int("headdim")*2) * float64(p.DType("dtype").Size())
	moved := float64(rep.Traffic[0].Read + rep.Traffic[0].Write)
	if moved < kv || moved > 1.02*kv {
		t.Errorf("%s: HBM traffic %.0f bytes, want the KV cache (%.0f) plus under 2%%", spec, moved, kv)
	}
	return moved / (rep.TimeNs * 1e-9) / cfg.HBMBytesPerSec() * 100
}

// TestDecodeBandwidth is the check: decode attention at batch 64,
// context 32k, headdim 128, 32 heads on 8 KV heads reaches at least 60% of
// the core's HBM bandwidth on trn2. With -short it runs at batch 8 (the
// same per-sequence work, an eighth of the instructions).
func TestDecodeBandwidth(t *testing.T) {
	batch := "64"
	if testing.Short() {
		batch = "8"
	}
	for _, v := range []string{"best", "splitkv"} {
		spec := "decode_attention:batch=" + batch + ",heads=32,kv_heads=8,seqlen=32768,headdim=128,dtype=bf16,variant=" + v
		if mbu := decodeMBU(t, spec, "trn2"); mbu < 60 {
			t.Errorf("%s on trn2: %.1f%% of HBM bandwidth, want ≥ 60%%", spec, mbu)
		} else {
			t.Logf("%s on trn2: %.1f%% of HBM bandwidth", spec, mbu)
		}
	}
}
