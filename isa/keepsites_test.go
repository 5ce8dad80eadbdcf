package isa

import (
	"reflect"
	"testing"
)

// A streaming Builder that keeps sites hands over the instructions a
// storing one keeps, source sites included (Instr.Site indexes Sites, in
// order of first use), and its Sites are the stored program's.
func TestStreamBuilderKeepSites(t *testing.T) {
	stored := NewBuilder(Trn2(), "gelu")
	gelu(stored, 1000, 64)
	p, err := stored.Program()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{failAt: -1}
	sb := NewStreamBuilder(Trn2(), "gelu", rec)
	sb.KeepSites()
	gelu(sb, 1000, 64)
	if err := sb.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec.instrs, p.Instrs) {
		t.Errorf("streamed instructions differ from the stored program's")
	}
	if !reflect.DeepEqual(sb.Sites(), p.Sites) || len(p.Sites) != 3 {
		t.Errorf("sites %v, stored %v (want the 3 emitting lines of gelu)", sb.Sites(), p.Sites)
	}
	for i, in := range rec.instrs {
		if in.Site < 0 || int(in.Site) >= len(sb.Sites()) {
			t.Fatalf("instruction %d: site %d of %d", i, in.Site, len(sb.Sites()))
		}
	}
}
