package sim

import (
	"encoding/binary"
	"iter"
	"math"
)

// Spans is a report's timeline: one Span per instruction (NeuronCore) or
// phase (GPU), in the order the timing model appended them. It stores each
// span compactly, because a trace of a long program keeps one per
// instruction: a fixed 40-byte record (times, lane, instruction, site, and
// the opcode and wait reason as indices into a table of names the spans
// share) and an out-of-line part holding only the non-zero byte counts
// (exact integers in a few bytes each; fractional counts, from GPU runs, as
// 8-byte floats) and whatever the timing model attaches (AppendExtra: a
// NeuronCore run's operands). Both are kept in fixed-size chunks, so
// appending never copies what is stored and memory is what the spans hold.
//
// At returns a span as a Span value, with the same information it was
// appended with, bit for bit. The zero Spans is empty and ready to use.
// Copies of a Spans share storage: append to one copy only.
type Spans struct {
	recs  [][]spanRec // chunks of spanChunk records
	n     int
	ext   [][]byte // chunks of out-of-line parts; a part never spans two chunks
	names []string // opcodes, phases and wait reasons; names[0] is ""
	index map[string]uint16
	buf   []byte // scratch for encoding one out-of-line part
}

// spanRec is the fixed part of a stored span: 40 bytes.
type spanRec struct {
	start, end float64
	ext        uint64 // where the out-of-line part starts: chunk<<32 | offset
	instr      int32
	site       int32
	lane       int32
	op, waited uint16 // indices into names; nameOutOfLine: the string is in the out-of-line part
}

const (
	spanChunk     = 4096      // records per chunk (160 KiB)
	extChunk      = 256 << 10 // bytes per out-of-line chunk
	nameOutOfLine = math.MaxUint16
)

// SpansOf returns spans stored compactly, in order.
func SpansOf(spans []Span) Spans {
	var s Spans
	for i := range spans {
		s.Append(&spans[i])
	}
	return s
}

// Len returns the number of spans.
func (s *Spans) Len() int { return s.n }

// Append stores sp after the spans stored so far.
func (s *Spans) Append(sp *Span) { s.AppendExtra(sp, nil) }

// AppendExtra stores sp with extra, bytes the timing model attaches to the
// span and reads back with Extra (a NeuronCore run keeps the instruction's
// operands there).
func (s *Spans) AppendExtra(sp *Span, extra []byte) {
	rec := spanRec{start: sp.Start, end: sp.End, instr: sp.Instr, site: sp.Site, lane: sp.Lane}
	rec.op, rec.waited = s.name(sp.Op), s.name(sp.Waited)
	b := s.buf[:0]
	var mask byte
	for l := range sp.Bytes {
		if sp.Bytes[l].Read != 0 || math.Signbit(sp.Bytes[l].Read) {
			mask |= 1 << (2 * l)
		}
		if sp.Bytes[l].Write != 0 || math.Signbit(sp.Bytes[l].Write) {
			mask |= 2 << (2 * l)
		}
	}
	b = append(b, mask)
	for l := range sp.Bytes {
		if mask&(1<<(2*l)) != 0 {
			b = appendCount(b, sp.Bytes[l].Read)
		}
		if mask&(2<<(2*l)) != 0 {
			b = appendCount(b, sp.Bytes[l].Write)
		}
	}
	if rec.op == nameOutOfLine {
		b = binary.AppendUvarint(b, uint64(len(sp.Op)))
		b = append(b, sp.Op...)
	}
	if rec.waited == nameOutOfLine {
		b = binary.AppendUvarint(b, uint64(len(sp.Waited)))
		b = append(b, sp.Waited...)
	}
	b = append(b, extra...)
	s.buf = b

	k := len(s.ext) - 1
	if k < 0 || len(s.ext[k])+len(b) > cap(s.ext[k]) {
		s.ext = append(s.ext, make([]byte, 0, max(extChunk, len(b))))
		k++
	}
	rec.ext = uint64(k)<<32 | uint64(len(s.ext[k]))
	s.ext[k] = append(s.ext[k], b...)

	c := len(s.recs) - 1
	if c < 0 || len(s.recs[c]) == spanChunk {
		s.recs = append(s.recs, make([]spanRec, 0, spanChunk))
		c++
	}
	s.recs[c] = append(s.recs[c], rec)
	s.n++
}

// name returns the index of name in the table, adding it on first sight;
// nameOutOfLine once the table is full.
func (s *Spans) name(name string) uint16 {
	if name == "" {
		return 0
	}
	if i, ok := s.index[name]; ok {
		return i
	}
	if s.index == nil {
		s.index = map[string]uint16{}
		s.names = []string{""}
	}
	if len(s.names) >= nameOutOfLine {
		return nameOutOfLine
	}
	i := uint16(len(s.names))
	s.names = append(s.names, name)
	s.index[name] = i
	return i
}

// appendCount appends a byte count: an integer in [0, 2^62) as a varint of
// twice its value, anything else (fractional, negative, -0, NaN) as the
// marker 1 and its 8 bytes, so every value reads back exactly.
func appendCount(b []byte, v float64) []byte {
	if v >= 0 && v < 1<<62 && v == math.Trunc(v) && !math.Signbit(v) {
		return binary.AppendUvarint(b, uint64(v)<<1)
	}
	b = append(b, 1)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// readCount reads what appendCount wrote and returns the rest of b.
func readCount(b []byte) (float64, []byte) {
	u, n := binary.Uvarint(b)
	b = b[n:]
	if u&1 == 0 {
		return float64(u >> 1), b
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
}

func (s *Spans) rec(i int) *spanRec { return &s.recs[i/spanChunk][i%spanChunk] }

// part returns span i's out-of-line part, up to the next span's.
func (s *Spans) part(i int) []byte {
	off := s.rec(i).ext
	chunk := s.ext[off>>32]
	end := len(chunk)
	if i+1 < s.n {
		if next := s.rec(i + 1).ext; next>>32 == off>>32 {
			end = int(uint32(next))
		}
	}
	return chunk[uint32(off):end]
}

// At returns span i, 0 ≤ i < Len().
func (s *Spans) At(i int) Span {
	r := s.rec(i)
	sp := Span{Lane: r.lane, Instr: r.instr, Start: r.start, End: r.end, Site: r.site}
	if r.op != 0 && r.op != nameOutOfLine {
		sp.Op = s.names[r.op]
	}
	if r.waited != 0 && r.waited != nameOutOfLine {
		sp.Waited = s.names[r.waited]
	}
	b := s.part(i)
	sp.Bytes, b = readBytes(b)
	if r.op == nameOutOfLine {
		sp.Op, b = readString(b)
	}
	if r.waited == nameOutOfLine {
		sp.Waited, _ = readString(b)
	}
	return sp
}

// All yields each span with its index, in order.
func (s *Spans) All() iter.Seq2[int, Span] {
	return func(yield func(int, Span) bool) {
		for i := range s.n {
			if !yield(i, s.At(i)) {
				return
			}
		}
	}
}

// Extra returns what AppendExtra attached to span i (nil for none). The
// slice is the stored bytes: read it, do not change it.
func (s *Spans) Extra(i int) []byte {
	r := s.rec(i)
	_, b := readBytes(s.part(i))
	for _, n := range [2]uint16{r.op, r.waited} {
		if n == nameOutOfLine {
			_, b = readString(b)
		}
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

func readBytes(b []byte) (t [NumLevels]SpanTraffic, rest []byte) {
	mask := b[0]
	b = b[1:]
	for l := range t {
		if mask&(1<<(2*l)) != 0 {
			t[l].Read, b = readCount(b)
		}
		if mask&(2<<(2*l)) != 0 {
			t[l].Write, b = readCount(b)
		}
	}
	return t, b
}

func readString(b []byte) (string, []byte) {
	n, k := binary.Uvarint(b)
	b = b[k:]
	return string(b[:n]), b[n:]
}
