package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"github.com/trnsim/trnsim/sim"
)

// traceBins is the number of intervals the HBM bandwidth counter divides
// a run into.
const traceBins = 500

// WriteTrace writes rep as a Chrome/Perfetto trace (the JSON trace-event
// format: open it in ui.perfetto.dev or chrome://tracing). See
// WriteTraces for the fields.
func WriteTrace(w io.Writer, rep *sim.Report) error {
	return WriteTraces(w, []*sim.Report{rep})
}

// WriteTraces writes reps as one Chrome/Perfetto trace, one process per
// run (per target), so several targets line up on one time axis. It reads
// the reports only: what each span moved and where in the source it comes
// from are the timing models' to say (sim.Span.Bytes, sim.Span.Site). The
// output is
//
//	{"displayTimeUnit":"ns","traceEvents":[EVENT,...]}
//
// with these events, all with "pid": the run's index + 1:
//
//   - metadata ("ph":"M"): "process_name" (args.name: the target, and
//     Report.Program when set) and "process_sort_index"; for each lane of
//     Report.Lanes (an engine or a DMA queue on a NeuronCore, an SM group
//     on a GPU) one track: "thread_name" (args.name: the lane) and
//     "thread_sort_index", tid = lane index + 1. A lane whose spans
//     overlap (a pipelined queue with several transfers in flight) gets
//     extra tracks named "LANE #2", "LANE #3", ... with tids after the
//     lanes, because trace viewers require the slices of one track to
//     nest.
//   - one complete event ("ph":"X") per span: name the opcode or phase,
//     cat the lane's group (Report.LaneGroups: the engine, "dma" for every
//     DMA queue, "gpu" for SM groups; the lane's name when the report has
//     no groups), ts and dur in µs (to the picosecond), and args: op
//     (opcode or phase), instr (instruction or kernel index), waited (what
//     the span waited for, "" if nothing), and where the report has
//     Sources (NeuronCore runs): site (kernel source file:line, "?" when
//     unknown), dst, src (the operands' access patterns) and red when the
//     instruction has a reduce output.
//   - counter events ("ph":"C") named "hbm_bandwidth", args read_GBps and
//     write_GBps: HBM bandwidth over time in GB/s (bytes per ns), averaged
//     over 500 equal intervals of the run, emitted where the value
//     changes. Each span's HBM bytes (Span.Bytes) are spread evenly over
//     the span.
//
// Events appear in that order; spans in Report.Spans order. The output is
// written through a bufio.Writer as it is produced (a run with 100k spans
// never sits in memory as one structure) and depends only on the input.
func WriteTraces(w io.Writer, reps []*sim.Report) error {
	for i, rep := range reps {
		if rep == nil {
			return fmt.Errorf("trace of run %d: no report", i)
		}
		if err := rep.Check(); err != nil {
			return fmt.Errorf("trace of run %d: %w", i, err)
		}
	}
	tw := &traceWriter{w: bufio.NewWriterSize(w, 64<<10), first: true}
	tw.raw(`{"displayTimeUnit":"ns","traceEvents":[`)
	for i, rep := range reps {
		tw.run(i+1, rep)
	}
	tw.raw("\n]}\n")
	return tw.w.Flush()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

type traceWriter struct {
	w     *bufio.Writer
	first bool
	buf   []byte
}

func (t *traceWriter) raw(s string) { t.w.WriteString(s) }

// event starts a new element of traceEvents and returns the scratch buffer
// to append it to; end writes it.
func (t *traceWriter) event() []byte {
	b := t.buf[:0]
	if !t.first {
		b = append(b, ',')
	}
	t.first = false
	return append(b, '\n')
}

func (t *traceWriter) end(b []byte) {
	t.w.Write(b)
	t.buf = b
}

// track is one trace track of a lane: its tid and when its last slice ends.
type track struct {
	tid int
	end float64
}

func (t *traceWriter) meta(pid, tid int, name, key string, val []byte) {
	b := t.event()
	b = append(b, `{"name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"ph":"M","pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	if tid > 0 {
		b = append(b, `,"tid":`...)
		b = strconv.AppendInt(b, int64(tid), 10)
	}
	b = append(b, `,"args":{"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	b = append(b, val...)
	b = append(b, "}}"...)
	t.end(b)
}

func (t *traceWriter) run(pid int, rep *sim.Report) {
	name := rep.Target
	if rep.Program != "" {
		name += " " + rep.Program
	}
	t.meta(pid, 0, "process_name", "name", appendJSONString(nil, name))
	t.meta(pid, 0, "process_sort_index", "sort_index", strconv.AppendInt(nil, int64(pid), 10))
	lt := t.newLaneTracks(pid, rep.Lanes)

	extent := rep.TimeNs
	for i := range rep.Spans.Len() {
		extent = max(extent, rep.Spans.At(i).End)
	}
	bw := newBandwidth(extent)
	sites := map[int32]string{}
	for i := range rep.Spans.Len() {
		s := rep.Spans.At(i)
		t.span(pid, lt.place(s), laneGroup(rep, s.Lane), s, rep.Sources, sites)
		hbm := s.Bytes[sim.LevelHBM]
		bw.add(0, s.Start, s.End, hbm.Read)
		bw.add(1, s.Start, s.End, hbm.Write)
	}
	bw.emit(t, pid)
}

// laneTracks places the spans of one process on trace tracks: each lane
// starts with one track and gains another ("lane #2", ...) whenever a span
// starts before every track of the lane is free, so overlapping spans of a
// lane (DMA queues in flight together) never nest wrongly.
type laneTracks struct {
	t       *traceWriter
	pid     int
	lanes   []string
	tracks  [][]track // per lane
	nextTid int
}

// newLaneTracks names each lane's first track (tid lane+1) and returns the
// placement.
func (t *traceWriter) newLaneTracks(pid int, lanes []string) *laneTracks {
	lt := &laneTracks{t: t, pid: pid, lanes: lanes, tracks: make([][]track, len(lanes)), nextTid: len(lanes) + 1}
	for i, lane := range lanes {
		t.meta(pid, i+1, "thread_name", "name", appendJSONString(nil, lane))
		t.meta(pid, i+1, "thread_sort_index", "sort_index", strconv.AppendInt(nil, int64(i)*1000, 10))
		lt.tracks[i] = []track{{tid: i + 1, end: math.Inf(-1)}}
	}
	return lt
}

// place returns the tid of the first track of s's lane free at s's start,
// naming a new track when none is, and marks it busy until s ends.
func (lt *laneTracks) place(s sim.Span) int {
	lane := lt.tracks[s.Lane]
	k := 0
	for k < len(lane) && s.Start < lane[k].end {
		k++
	}
	if k == len(lane) {
		tid := lt.nextTid
		lt.nextTid++
		name := lt.lanes[s.Lane] + " #" + strconv.Itoa(k+1)
		lt.t.meta(lt.pid, tid, "thread_name", "name", appendJSONString(nil, name))
		lt.t.meta(lt.pid, tid, "thread_sort_index", "sort_index", strconv.AppendInt(nil, int64(s.Lane)*1000+int64(k), 10))
		lane = append(lane, track{tid: tid})
		lt.tracks[s.Lane] = lane
	}
	lane[k].end = s.End
	return lane[k].tid
}

// span writes s as a complete event on track tid, in category cat. Where src
// is set its args also carry the source site (file:line, memoised in sites
// by handle) and the instruction's operands.
func (t *traceWriter) span(pid, tid int, cat string, s sim.Span, src sim.Sources, sites map[int32]string) {
	b := t.event()
	b = append(b, `{"name":`...)
	b = appendJSONString(b, s.Op)
	b = append(b, `,"cat":`...)
	b = appendJSONString(b, cat)
	b = append(b, `,"ph":"X","pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendInt(b, int64(tid), 10)
	b = append(b, `,"ts":`...)
	b = appendMicros(b, s.Start)
	b = append(b, `,"dur":`...)
	b = appendMicros(b, s.End-s.Start)
	b = append(b, `,"args":{"op":`...)
	b = appendJSONString(b, s.Op)
	b = append(b, `,"instr":`...)
	b = strconv.AppendInt(b, int64(s.Instr), 10)
	b = append(b, `,"waited":`...)
	b = appendJSONString(b, s.Waited)
	if src != nil {
		site, ok := sites[s.Site]
		if !ok {
			site = "?"
			if loc := src.Location(s.Site); loc.File != "" {
				site = filepath.Base(loc.File) + ":" + strconv.Itoa(loc.Line)
			}
			sites[s.Site] = site
		}
		b = append(b, `,"site":`...)
		b = appendJSONString(b, site)
		ops := src.Operands(s.Instr)
		b = append(b, `,"dst":`...)
		b = appendJSONString(b, ops.Dst)
		b = append(b, `,"src":[`...)
		for n, a := range ops.Src {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a)
		}
		b = append(b, ']')
		if ops.Red != "" {
			b = append(b, `,"red":`...)
			b = appendJSONString(b, ops.Red)
		}
	}
	b = append(b, "}}"...)
	t.end(b)
}

// bandwidth bins bytes moved into equal intervals of [0, extent). Each
// transfer moves its bytes at a uniform rate over its span: its first and
// last bins get the overlapping part, and the bins in between the full
// rate, accumulated through a difference array so a long span costs O(1).
type bandwidth struct {
	width float64
	part  [2][]float64 // bytes in bin (read, write): partial bins
	rate  [2][]float64 // difference array of bytes per ns over whole bins
}

func newBandwidth(extent float64) *bandwidth {
	n := traceBins
	if extent <= 0 {
		n, extent = 1, 1
	}
	bw := &bandwidth{width: extent / float64(n)}
	for d := range 2 {
		bw.part[d] = make([]float64, n)
		bw.rate[d] = make([]float64, n+1)
	}
	return bw
}

func (bw *bandwidth) bin(t float64) int {
	return min(max(int(t/bw.width), 0), len(bw.part[0])-1)
}

// add spreads bytes over [start, end) in direction d (0 read, 1 write).
func (bw *bandwidth) add(d int, start, end, bytes float64) {
	if bytes <= 0 {
		return
	}
	b0, b1 := bw.bin(start), bw.bin(end)
	if end <= start || b0 == b1 {
		bw.part[d][b0] += bytes
		return
	}
	r := bytes / (end - start)
	bw.part[d][b0] += r * (float64(b0+1)*bw.width - start)
	bw.part[d][b1] += r * (end - float64(b1)*bw.width)
	bw.rate[d][b0+1] += r
	bw.rate[d][b1] -= r
}

// emit writes the counter events: one at the start of each bin whose
// value, as written, differs from the previous bin's, and a final zero at
// the end.
func (bw *bandwidth) emit(t *traceWriter, pid int) {
	n := len(bw.part[0])
	var rate [2]float64
	var val, prev []byte
	for i := 0; i <= n; i++ {
		var v [2]float64
		if i < n {
			for d := range 2 {
				rate[d] += bw.rate[d][i]
				v[d] = max(rate[d]+bw.part[d][i]/bw.width, 0)
			}
		}
		val = append(val[:0], `{"read_GBps":`...)
		val = appendNum(val, v[0])
		val = append(val, `,"write_GBps":`...)
		val = appendNum(val, v[1])
		val = append(val, '}')
		if string(val) == string(prev) {
			continue
		}
		prev = append(prev[:0], val...)
		b := t.event()
		b = append(b, `{"name":"hbm_bandwidth","ph":"C","pid":`...)
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, `,"ts":`...)
		b = appendMicros(b, float64(i)*bw.width)
		b = append(b, `,"args":`...)
		b = append(b, val...)
		b = append(b, '}')
		t.end(b)
	}
}

// appendMicros appends ns as microseconds with picosecond resolution and
// no trailing zeros.
func appendMicros(b []byte, ns float64) []byte {
	var tmp [40]byte
	return appendTrimmed(b, strconv.AppendFloat(tmp[:0], ns/1000, 'f', 6, 64))
}

// appendNum appends a bandwidth with six decimals, trailing zeros trimmed.
func appendNum(b []byte, v float64) []byte {
	var tmp [40]byte
	return appendTrimmed(b, strconv.AppendFloat(tmp[:0], v, 'f', 6, 64))
}

func appendTrimmed(b, num []byte) []byte {
	if i := len(num) - 1; num[i] == '0' {
		for num[i] == '0' {
			i--
		}
		if num[i] == '.' {
			i--
		}
		num = num[:i+1]
	}
	if len(num) == 2 && num[0] == '-' && num[1] == '0' {
		num = num[1:]
	}
	return append(b, num...)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
