package neuron

import (
	"encoding/binary"
	"fmt"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
)

// spanKeeper is what a run keeps for a trace or profile: one compact span
// per instruction, and, when the program is not stored (a Stream), each
// instruction's operands in the span's out-of-line part, so a trace can
// print them without the program.
type spanKeeper struct {
	spans    sim.Spans
	operands bool // encode operands (a Stream); a stored replay reads the program's
	limit    int  // spans a Stream may keep; 0: no cap
	ops      [isa.NumOpcodes]string
	buf      []byte
}

// SpanCapError reports a streamed program with more instructions than a
// trace or profile may keep (Stream.KeepSpans).
type SpanCapError struct{ Cap int }

func (e *SpanCapError) Error() string {
	return fmt.Sprintf("more than %d instructions to trace or profile (each keeps a record of about 100 bytes; timing-only runs have no such cap): shrink the shape", e.Cap)
}

// record appends instruction i's span: it ran on lane from start to end
// (ns) after waiting for waited, from source site (sim.NoSite for none),
// and moved what r's traffic counters gained since moved.
func (r *runner) record(i int, in *isa.Instr, lane int8, start, end float64, waited string, site int32, moved *[sim.NumLevels]sim.Traffic) {
	k := r.keep
	sp := sim.Span{Lane: int32(lane), Instr: int32(i), Start: start, End: end, Waited: waited, Site: site}
	if int(in.Op) < len(k.ops) {
		if k.ops[in.Op] == "" {
			k.ops[in.Op] = in.Op.String()
		}
		sp.Op = k.ops[in.Op]
	} else {
		sp.Op = in.Op.String()
	}
	for l := range sp.Bytes {
		sp.Bytes[l] = sim.SpanTraffic{Read: float64(r.traffic[l].Read - moved[l].Read), Write: float64(r.traffic[l].Write - moved[l].Write)}
	}
	if !k.operands {
		k.spans.Append(&sp)
		return
	}
	k.buf = appendOperands(k.buf[:0], in)
	k.spans.AppendExtra(&sp, k.buf)
}

// appendOperands encodes what sim.Operands shows of in: a header byte
// (the number of used sources, and whether Red is used), then Dst, the used
// sources in order and Red, each as appendAP writes it.
func appendOperands(b []byte, in *isa.Instr) []byte {
	var nsrc byte
	for k := range in.Src {
		if in.Src[k].Used() {
			nsrc++
		}
	}
	h := nsrc
	if in.Red.Used() {
		h |= 4
	}
	b = append(b, h)
	b = appendAP(b, &in.Dst)
	for k := range in.Src {
		if in.Src[k].Used() {
			b = appendAP(b, &in.Src[k])
		}
	}
	if in.Red.Used() {
		b = appendAP(b, &in.Red)
	}
	return b
}

// appendAP encodes the fields of a that its text shows (the free
// dimensions up to NFree): memory, dtype and NFree as bytes, the rest as
// varints. A tile operand takes about 10 bytes, an HBM window about 15.
func appendAP(b []byte, a *isa.AP) []byte {
	b = append(b, byte(a.Mem), byte(a.DType), a.NFree)
	b = binary.AppendVarint(b, int64(a.Tensor))
	b = binary.AppendVarint(b, int64(a.Offset))
	b = binary.AppendVarint(b, int64(a.Start))
	b = binary.AppendVarint(b, int64(a.Parts))
	b = binary.AppendVarint(b, int64(a.PStride))
	for d := range min(int(a.NFree), isa.MaxFreeDims) {
		b = binary.AppendVarint(b, int64(a.Free[d].Stride))
		b = binary.AppendVarint(b, int64(a.Free[d].Count))
	}
	return b
}

// readOperands decodes what appendOperands wrote.
func readOperands(b []byte) sim.Operands {
	if len(b) == 0 {
		return sim.Operands{}
	}
	h := b[0]
	b = b[1:]
	var a isa.AP
	a, b = readAP(b)
	o := sim.Operands{Dst: a.String()}
	for range h & 3 {
		a, b = readAP(b)
		o.Src = append(o.Src, a.String())
	}
	if h&4 != 0 {
		a, _ = readAP(b)
		o.Red = a.String()
	}
	return o
}

func readAP(b []byte) (isa.AP, []byte) {
	a := isa.AP{Mem: isa.Memory(b[0]), DType: isa.DType(b[1]), NFree: b[2]}
	b = b[3:]
	next := func() int64 {
		v, n := binary.Varint(b)
		b = b[n:]
		return v
	}
	a.Tensor = int32(next())
	a.Offset = int(next())
	a.Start = int32(next())
	a.Parts = int32(next())
	a.PStride = int(next())
	for d := range min(int(a.NFree), isa.MaxFreeDims) {
		a.Free[d].Stride = int32(next())
		a.Free[d].Count = int32(next())
	}
	return a, b
}

// streamSources resolves the spans of a streamed run: sites are the
// Builder's (isa.Builder.Sites), operands come from the spans themselves.
type streamSources struct {
	sites []isa.Site
	spans sim.Spans
}

func (s streamSources) NumSites() int  { return len(s.sites) }
func (s streamSources) NumInstrs() int { return s.spans.Len() }

func (s streamSources) Location(h int32) sim.Location { return siteLocation(s.sites, h) }

func (s streamSources) Operands(i int32) sim.Operands {
	if i < 0 || int(i) >= s.spans.Len() {
		return sim.Operands{}
	}
	return readOperands(s.spans.Extra(int(i)))
}
