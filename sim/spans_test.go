package sim

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

func TestSpansRoundTrip(t *testing.T) {
	frac := Span{Lane: 3, Instr: 7, Start: 0.1, End: 0.30000000000000004, Op: "matmul/mainloop", Site: NoSite}
	frac.Bytes[LevelHBM] = SpanTraffic{Read: 1234.5678, Write: 1e-300}
	frac.Bytes[LevelL2] = SpanTraffic{Read: 3, Write: 1 << 62}
	odd := Span{Lane: -1, Instr: -5, Start: math.NaN(), End: math.Inf(1), Op: "x", Waited: "sem:tensor", Site: 1 << 30}
	odd.Bytes[LevelSBUF] = SpanTraffic{Read: math.Copysign(0, -1), Write: -3}
	odd.Bytes[LevelPSUM] = SpanTraffic{Read: math.NaN(), Write: math.Inf(-1)}
	exact := Span{Lane: 19, Instr: 1 << 20, Start: 12.5, End: 99, Op: "dma_copy", Waited: "sem:dma.q3", Site: 4}
	exact.Bytes[LevelHBM] = SpanTraffic{Read: 65536}
	exact.Bytes[LevelSBUF] = SpanTraffic{Write: 65536}
	tests := []struct {
		name  string
		span  Span
		extra []byte
	}{
		{"zero", Span{}, nil},
		{"exact NeuronCore bytes", exact, []byte{1, 2, 3}},
		{"fractional GPU bytes", frac, nil},
		{"negative, -0, NaN, Inf", odd, []byte("operands")},
	}
	var s Spans
	for _, tc := range tests {
		s.AppendExtra(&tc.span, tc.extra)
	}
	if s.Len() != len(tests) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.At(i); !sameSpan(got, tc.span) {
				t.Errorf("At(%d) = %+v, want %+v", i, got, tc.span)
			}
			if got := s.Extra(i); !bytes.Equal(got, tc.extra) || (got == nil) != (len(tc.extra) == 0) {
				t.Errorf("Extra(%d) = %q, want %q", i, got, tc.extra)
			}
		})
	}
}

// sameSpan compares spans bit for bit (NaN equals NaN, -0 differs from 0).
func sameSpan(a, b Span) bool {
	eq := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if a.Lane != b.Lane || a.Instr != b.Instr || a.Site != b.Site || a.Op != b.Op || a.Waited != b.Waited ||
		!eq(a.Start, b.Start) || !eq(a.End, b.End) {
		return false
	}
	for l := range a.Bytes {
		if !eq(a.Bytes[l].Read, b.Bytes[l].Read) || !eq(a.Bytes[l].Write, b.Bytes[l].Write) {
			return false
		}
	}
	return true
}

// TestSpansManyChunksAndNames stores enough spans to fill several record and
// out-of-line chunks, with more distinct names than the table holds, and
// reads every one back.
func TestSpansManyChunksAndNames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 17*spanChunk + 17 // 69649 spans, with more names than the table holds
	want := make([]Span, n)
	extra := make([][]byte, n)
	var s Spans
	for i := range want {
		sp := Span{Lane: int32(rng.IntN(20)), Instr: int32(i), Start: rng.Float64() * 1e6, Site: int32(rng.IntN(50)) - 1}
		sp.End = sp.Start + rng.Float64()
		sp.Op = "op" + strconv.Itoa(i%(n/2)) // names repeat, and later ones are new
		if i%2 == 0 {
			sp.Waited = "w" + strconv.Itoa(i)
		}
		for l := range sp.Bytes {
			sp.Bytes[l].Read = float64(rng.Int64N(1 << uint(rng.IntN(40)+1)))
		}
		want[i] = sp
		// Some parts larger than a chunk, so chunks of other sizes are made.
		extra[i] = bytes.Repeat([]byte{byte(i)}, rng.IntN(100)+map[bool]int{true: extChunk, false: 0}[i == 5000])
		s.AppendExtra(&sp, extra[i])
	}
	for i := range want {
		if got := s.At(i); !sameSpan(got, want[i]) {
			t.Fatalf("At(%d) = %+v, want %+v", i, got, want[i])
		}
		if got := s.Extra(i); !bytes.Equal(got, extra[i]) {
			t.Fatalf("Extra(%d): %d bytes, want %d", i, len(got), len(extra[i]))
		}
	}
	if len(s.names) != nameOutOfLine {
		t.Errorf("name table holds %d names, want it full (%d) so later names go out of line", len(s.names), nameOutOfLine)
	}
}

// TestSpanRecordSize pins the fixed part of a stored span: a trace keeps one
// per instruction, and issue 14 allows 100 bytes per instruction in all.
func TestSpanRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(spanRec{}); n != 40 {
		t.Errorf("span record is %d bytes, want 40", n)
	}
}

func TestSpansOf(t *testing.T) {
	spans := []Span{{Lane: 1, Op: "a", End: 1}, {Lane: 2, Op: "b", Waited: "a", Start: 1, End: 3}}
	s := SpansOf(spans)
	if s.Len() != 2 {
		t.Fatalf("Len = %d", s.Len())
	}
	for i := range spans {
		if got := s.At(i); !sameSpan(got, spans[i]) {
			t.Errorf("At(%d) = %+v, want %+v", i, got, spans[i])
		}
	}
	var empty Spans
	if empty.Len() != 0 {
		t.Errorf("zero Spans has %d spans", empty.Len())
	}
}
