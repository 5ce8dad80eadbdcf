package isa

import (
	"testing"
	"unsafe"
)

// TestPoolTile checks Tile's tiles by hand, in call order on one pool of
// two 4 KiB slots at byte 0: the same shape asked of a slot again (which
// Tile answers from what it made there last), a new shape in a slot that
// held another, and failed calls, which leave the rotation where it was.
func TestPoolTile(t *testing.T) {
	dims := func(d ...Dim) [MaxFreeDims]Dim {
		var f [MaxFreeDims]Dim
		copy(f[:], d)
		return f
	}
	b := NewBuilder(Trn2(), "pool")
	p := b.SBUFPool("p", 2, 4096)
	for i, tc := range []struct {
		dt    DType
		parts int
		free  []int
		want  AP
	}{
		{BF16, 128, []int{512}, AP{Mem: SBUF, DType: BF16, Parts: 128, NFree: 1, Free: dims(Dim{1, 512})}},
		{BF16, 128, []int{512}, AP{Mem: SBUF, DType: BF16, Parts: 128, NFree: 1, Offset: 4096, Free: dims(Dim{1, 512})}},
		{BF16, 128, []int{512}, AP{Mem: SBUF, DType: BF16, Parts: 128, NFree: 1, Free: dims(Dim{1, 512})}},
		{BF16, 64, []int{512}, AP{Mem: SBUF, DType: BF16, Parts: 64, NFree: 1, Offset: 4096, Free: dims(Dim{1, 512})}},
		{FP32, 64, []int{512}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 1, Free: dims(Dim{1, 512})}},
		{FP32, 64, []int{2, 256}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 2, Offset: 4096, Free: dims(Dim{256, 2}, Dim{1, 256})}},
		{FP32, 64, []int{2, 128}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 2, Free: dims(Dim{128, 2}, Dim{1, 128})}},
		{FP32, 64, []int{2, 128, 2}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 3, Offset: 4096, Free: dims(Dim{256, 2}, Dim{2, 128}, Dim{1, 2})}},
		{FP32, 64, []int{2, 128, 2}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 3, Free: dims(Dim{256, 2}, Dim{2, 128}, Dim{1, 2})}},
		{FP32, 64, []int{2, 128}, AP{Mem: SBUF, DType: FP32, Parts: 64, NFree: 2, Offset: 4096, Free: dims(Dim{128, 2}, Dim{1, 128})}},
	} {
		if got := p.Tile(tc.dt, tc.parts, tc.free...); got != tc.want {
			t.Errorf("call %d: Tile(%s, %d, %v) = %v, want %v", i, tc.dt, tc.parts, tc.free, got, tc.want)
		}
	}
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}

	// A tile too large for its slot fails and does not turn the rotation
	// (the next tile is in slot 0); asked again, it fails again.
	for range 2 {
		p.Tile(FP32, 128, 2048)
		if b.Err() == nil {
			t.Fatal("a [128, 2048] fp32 tile fit a 4 KiB slot")
		}
		b.err = nil
	}
	if got := p.Tile(FP32, 64, 2, 128); got.Offset != 0 {
		t.Errorf("after failed tiles, the next tile is at byte %d, want 0", got.Offset)
	}
}

// TestBuilderInstrClears: instr, which every emitting method starts
// from, leaves nothing of the previous instruction behind (the methods set
// only the fields their instruction uses).
func TestBuilderInstrClears(t *testing.T) {
	b := NewBuilder(Trn2(), "clear")
	raw := (*[unsafe.Sizeof(Instr{})]byte)(unsafe.Pointer(&b.cur))
	for i := range raw {
		raw[i] = 0xA5
	}
	in := b.instr(OpTensorCopy, Scalar)
	if want := (Instr{Op: OpTensorCopy, Engine: Scalar}); *in != want {
		t.Errorf("instr left %+v, want %+v", *in, want)
	}
}
