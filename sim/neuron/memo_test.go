package neuron

import (
	"testing"

	"github.com/trnsim/trnsim/isa"
)

// TestSameWords checks the memo's key comparison against sameAP: byte-equal
// patterns are sameAP-equal, a change to any field is seen, and patterns
// that differ only in a free dimension past NFree (sameAP-equal) are told
// apart, which costs the memo a miss and nothing else.
func TestSameWords(t *testing.T) {
	base := isa.AP{Mem: isa.SBUF, DType: isa.BF16, NFree: 2, Tensor: -1, Offset: 4096, Start: 0, Parts: 128, PStride: 0,
		Free: [isa.MaxFreeDims]isa.Dim{{Stride: 512, Count: 4}, {Stride: 1, Count: 512}}}
	for _, tc := range []struct {
		name          string
		edit          func(a *isa.AP)
		words, sameAP bool
	}{
		{"identical", func(a *isa.AP) {}, true, true},
		{"memory", func(a *isa.AP) { a.Mem = isa.PSUM }, false, false},
		{"dtype", func(a *isa.AP) { a.DType = isa.FP32 }, false, false},
		{"nfree", func(a *isa.AP) { a.NFree = 1 }, false, false},
		{"tensor", func(a *isa.AP) { a.Tensor = 3 }, false, false},
		{"offset", func(a *isa.AP) { a.Offset = 4098 }, false, false},
		{"start", func(a *isa.AP) { a.Start = 32 }, false, false},
		{"parts", func(a *isa.AP) { a.Parts = 64 }, false, false},
		{"pstride", func(a *isa.AP) { a.PStride = 8 }, false, false},
		{"outer stride", func(a *isa.AP) { a.Free[0].Stride = 1024 }, false, false},
		{"inner count", func(a *isa.AP) { a.Free[1].Count = 256 }, false, false},
		{"unused dimension", func(a *isa.AP) { a.Free[3] = isa.Dim{Stride: 1, Count: 2} }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			if got := sameWords(&base, &a); got != tc.words {
				t.Errorf("sameWords = %v, want %v", got, tc.words)
			}
			if got := sameAP(&base, &a); got != tc.sameAP {
				t.Errorf("sameAP = %v, want %v", got, tc.sameAP)
			}
			if tc.words && memoSetOf(&a) != memoSetOf(&base) {
				t.Errorf("equal patterns hash to sets %d and %d", memoSetOf(&a), memoSetOf(&base))
			}
		})
	}
}

// TestMemoHit checks that a pattern looked up twice is filled once and
// that the hit returns what the fill computed.
func TestMemoHit(t *testing.T) {
	cfg, err := Preset("trn2")
	if err != nil {
		t.Fatal(err)
	}
	r := newTimer(cfg)
	a := isa.AP{Mem: isa.SBUF, DType: isa.BF16, NFree: 1, Tensor: -1, Offset: 1024, Parts: 128,
		Free: [isa.MaxFreeDims]isa.Dim{{Stride: 1, Count: 512}}}
	var o operands
	n1, err := r.addOperand(&o, &a, accRead)
	if err != nil {
		t.Fatal(err)
	}
	entries := len(r.tr.entries)
	n2, err := r.addOperand(&o, &a, accWrite)
	if err != nil {
		t.Fatal(err)
	}
	if n1 != 128*512*2 || n2 != n1 {
		t.Errorf("bytes %d then %d, want %d both times", n1, n2, 128*512*2)
	}
	if len(r.tr.entries) != entries || o.nrd != 1 || o.nwr != 1 || o.rd[0] != o.wr[0] {
		t.Errorf("second lookup: %d tracker entries (had %d), reads %v, writes %v; want the same single entry",
			len(r.tr.entries), entries, o.rd[:o.nrd], o.wr[:o.nwr])
	}
	if got := r.traffic[0].Read + r.traffic[0].Write; got != 0 {
		t.Errorf("HBM traffic %d from an SBUF operand", got)
	}
}
