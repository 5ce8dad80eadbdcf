package results

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/gpu"
)

type traceFile struct {
	DisplayTimeUnit string       `json:"displayTimeUnit"`
	TraceEvents     []traceEvent `json:"traceEvents"`
}

type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Ts   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	Args map[string]any `json:"args"`
}

func parseTrace(t *testing.T, runs ...*sim.Report) traceFile {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTraces(&buf, runs); err != nil {
		t.Fatal(err)
	}
	var tf traceFile
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		t.Fatalf("trace is not the documented JSON: %v", err)
	}
	if tf.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit %q, want ns", tf.DisplayTimeUnit)
	}
	return tf
}

// threads returns tid → thread name of process pid.
func threads(tf traceFile, pid int) map[int]string {
	m := map[int]string{}
	for _, e := range tf.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" && e.Pid == pid {
			m[e.Tid] = e.Args["name"].(string)
		}
	}
	return m
}

func spans(tf traceFile, pid int) []traceEvent {
	var s []traceEvent
	for _, e := range tf.TraceEvents {
		if e.Ph == "X" && e.Pid == pid {
			s = append(s, e)
		}
	}
	return s
}

// hbmBytes integrates the hbm_bandwidth counters of pid: GB/s × ns =
// bytes. It also returns the counter events in time order.
func hbmBytes(t *testing.T, tf traceFile, pid int) (read, write float64, cs []traceEvent) {
	t.Helper()
	for _, e := range tf.TraceEvents {
		if e.Ph == "C" && e.Pid == pid {
			if e.Name != "hbm_bandwidth" || e.Ts == nil {
				t.Fatalf("counter %+v, want hbm_bandwidth with ts", e)
			}
			cs = append(cs, e)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return *cs[i].Ts < *cs[j].Ts })
	for i := 0; i+1 < len(cs); i++ {
		dt := (*cs[i+1].Ts - *cs[i].Ts) * 1000
		read += cs[i].Args["read_GBps"].(float64) * dt
		write += cs[i].Args["write_GBps"].(float64) * dt
	}
	return read, write, cs
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestWriteTraceNeuron(t *testing.T) {
	prog := tinyKernel(t)
	rep := fakeTiny(prog, 64)
	tf := parseTrace(t, rep)

	var procs []string
	for _, e := range tf.TraceEvents {
		if e.Ph == "M" && e.Name == "process_name" {
			procs = append(procs, e.Args["name"].(string))
		}
	}
	if len(procs) != 1 || procs[0] != "trn2 tiny" {
		t.Errorf("processes %q, want [\"trn2 tiny\"]", procs)
	}
	th := threads(tf, 1)
	if len(th) != len(rep.Lanes) {
		t.Errorf("%d tracks, want one per lane (%d)", len(th), len(rep.Lanes))
	}
	for i, lane := range rep.Lanes {
		if th[i+1] != lane {
			t.Errorf("tid %d named %q, want %q", i+1, th[i+1], lane)
		}
	}

	xs := spans(tf, 1)
	if len(xs) != rep.Spans.Len() {
		t.Fatalf("%d spans, want %d", len(xs), rep.Spans.Len())
	}
	for i, e := range xs {
		for _, k := range []string{"op", "instr", "waited", "site", "dst", "src"} {
			if _, ok := e.Args[k]; !ok {
				t.Errorf("span %d lacks args.%s: %v", i, k, e.Args)
			}
		}
		if e.Ts == nil || e.Dur == nil || e.Args["instr"].(float64) != float64(i) {
			t.Errorf("span %d: %+v", i, e)
		}
	}
	// Instruction 2, the first matmul: after 100 + 300 ns of loads, 64 ns
	// long, on the tensor lane (tid 1), from SBUF tiles into PSUM.
	mm := xs[2]
	line := strconv.Itoa(prog.SiteOf(2).Line)
	if mm.Name != "nc_matmul" || mm.Cat != "tensor" || mm.Tid != 1 || *mm.Ts != 0.4 || *mm.Dur != 0.064 ||
		mm.Args["waited"] != "dma" || mm.Args["site"] != "pprof_test.go:"+line ||
		len(mm.Args["src"].([]any)) != 2 || !strings.HasPrefix(mm.Args["dst"].(string), "psum") {
		t.Errorf("matmul span %+v", mm)
	}
	// Instruction 7, the store on queue 4 (tid 4+4+1), starts at 968 ns.
	st := xs[7]
	if st.Cat != "dma" || st.Tid != 9 || *st.Ts != 0.968 || *st.Dur != 0.2 || !strings.HasPrefix(st.Args["dst"].(string), "hbm") {
		t.Errorf("store span %+v", st)
	}

	// HBM: reads 2·(128·128 + 128·512)·2 B = 327680 B, writes 128·512·2 B
	// = 131072 B. The first load moves 32768 B in 100 ns (327.68 GB/s);
	// the store 131072 B in 200 ns (655.36 GB/s), ending the run.
	r, w, cs := hbmBytes(t, tf, 1)
	if !near(r, 327680, 1) || !near(w, 131072, 1) {
		t.Errorf("HBM bytes from counters: %.3f read, %.3f written; want 327680, 131072", r, w)
	}
	if len(cs) < 3 || cs[0].Args["read_GBps"] != 327.68 || cs[len(cs)-2].Args["write_GBps"] != 655.36 {
		t.Errorf("counters %+v", cs)
	}
	if last := cs[len(cs)-1]; *last.Ts != 1.168 || last.Args["read_GBps"] != 0.0 || last.Args["write_GBps"] != 0.0 {
		t.Errorf("last counter %+v, want zeros at the end of the run (1.168 µs)", last)
	}
}

// gpuReport is a GPU report whose phases carry their own HBM bytes: the
// loads read 1000 and 2000 B, the store writes 1000 B.
func gpuReport() *sim.Report {
	hbm := func(r, w float64) [sim.NumLevels]sim.SpanTraffic {
		var b [sim.NumLevels]sim.SpanTraffic
		b[sim.LevelHBM] = sim.SpanTraffic{Read: r, Write: w}
		return b
	}
	rep := &sim.Report{Target: "h100", Clock: "sm", ClockGHz: 1.755, TimeNs: 300,
		Lanes: []string{"sm0-65", "sm66-131"}, LaneGroups: []string{"gpu", "gpu"},
		Spans: sim.SpansOf([]sim.Span{
			{Lane: 0, Instr: 0, Start: 0, End: 100, Op: "load", Site: sim.NoSite, Bytes: hbm(1000, 0)},
			{Lane: 0, Instr: 1, Start: 100, End: 250, Op: "mma", Waited: "load", Site: sim.NoSite},
			{Lane: 0, Instr: 2, Start: 250, End: 300, Op: "store", Site: sim.NoSite, Bytes: hbm(0, 1000)},
			{Lane: 1, Instr: 0, Start: 0, End: 200, Op: "load", Site: sim.NoSite, Bytes: hbm(2000, 0)},
			{Lane: 1, Instr: 3, Start: 200, End: 240, Op: "exp", Site: sim.NoSite},
		})}
	rep.Traffic[sim.LevelHBM] = sim.Traffic{Read: 3000, Write: 1000}
	return rep
}

func TestWriteTraceGPU(t *testing.T) {
	rep := gpuReport()
	tf := parseTrace(t, rep)
	th := threads(tf, 1)
	if len(th) != 2 || th[1] != "sm0-65" || th[2] != "sm66-131" {
		t.Errorf("tracks %v, want the two SM groups", th)
	}
	xs := spans(tf, 1)
	if len(xs) != 5 {
		t.Fatalf("%d spans, want 5", len(xs))
	}
	for _, e := range xs {
		if e.Cat != "gpu" || e.Args["op"] != e.Name || e.Args["waited"] == nil || e.Args["dst"] != nil {
			t.Errorf("GPU span %+v", e)
		}
	}
	if xs[1].Args["waited"] != "load" {
		t.Errorf("mma waited %v, want load", xs[1].Args["waited"])
	}
	// 3000 B read over 300 ns of load phases: 10 GB/s per load, two loads
	// in flight until 100 ns; 1000 B written in the 50 ns store: 20 GB/s.
	r, w, cs := hbmBytes(t, tf, 1)
	if !near(r, 3000, 0.01) || !near(w, 1000, 0.01) {
		t.Errorf("HBM bytes from counters: %.3f read, %.3f written; want 3000, 1000", r, w)
	}
	if cs[0].Args["read_GBps"] != 20.0 || cs[len(cs)-2].Args["write_GBps"] != 20.0 {
		t.Errorf("counters %+v", cs)
	}
}

// TestWriteTraceGPURun: the trace of a report from the GPU timing model
// (sim/gpu.Run, two kernels) draws HBM traffic where its spans say it
// moved: nothing during a launch, each kernel's bytes while it runs, and
// the counters add up to the report's HBM traffic.
func TestWriteTraceGPURun(t *testing.T) {
	cfg, err := gpu.Preset("h100")
	if err != nil {
		t.Fatal(err)
	}
	k := func(name string, loadBytes float64, ctas int) gpu.Kernel {
		return gpu.Kernel{Name: name, Threads: 128, Stages: 2, MMA: gpu.MMA{Family: gpu.WGMMA, DType: isa.BF16},
			Loop: gpu.Phase{TensorFLOPs: 1e6, Loads: []gpu.Load{{Bytes: loadBytes}}}, Grid: []gpu.Group{{Count: ctas, Iters: 4}}}
	}
	rep, err := gpu.Run(cfg, []gpu.Kernel{k("big", 1e5, 264), k("small", 1e3, 132)})
	if err != nil {
		t.Fatal(err)
	}
	tf := parseTrace(t, rep)
	if n := len(spans(tf, 1)); n != rep.Spans.Len() {
		t.Errorf("%d spans, want %d", n, rep.Spans.Len())
	}
	for _, e := range spans(tf, 1) {
		if e.Cat != "gpu" || e.Args["site"] != nil {
			t.Errorf("GPU span %+v", e)
		}
	}
	hbm := rep.Traffic[sim.LevelHBM]
	r, w, cs := hbmBytes(t, tf, 1)
	if !near(r, float64(hbm.Read), 2) || !near(w, float64(hbm.Write), 2) {
		t.Errorf("counters add up to %.1f B read, %.1f written; report: %d, %d", r, w, hbm.Read, hbm.Write)
	}
	if len(cs) == 0 || cs[0].Args["read_GBps"] != 0.0 {
		t.Errorf("first counter %v, want 0 during the launch", cs)
	}
}

func TestWriteTraceOverlap(t *testing.T) {
	rep := &sim.Report{Target: "trn2", TimeNs: 200, Lanes: []string{"dma.q0", "tensor"},
		Spans: sim.SpansOf([]sim.Span{
			{Lane: 0, Instr: 0, Start: 0, End: 100, Op: "dma_copy"},
			{Lane: 0, Instr: 1, Start: 50, End: 150, Op: "dma_copy"},
			{Lane: 0, Instr: 2, Start: 100, End: 200, Op: "dma_copy"},
			{Lane: 1, Instr: 3, Start: 0, End: 200, Op: "nc_matmul"},
		})}
	tf := parseTrace(t, rep)
	th := threads(tf, 1)
	want := map[int]string{1: "dma.q0", 2: "tensor", 3: "dma.q0 #2"}
	if len(th) != len(want) {
		t.Errorf("tracks %v, want %v", th, want)
	}
	for tid, name := range want {
		if th[tid] != name {
			t.Errorf("tid %d: %q, want %q", tid, th[tid], name)
		}
	}
	var tids []int
	for _, e := range spans(tf, 1) {
		tids = append(tids, e.Tid)
	}
	if got := []int{1, 3, 1, 2}; !equalInts(tids, got) {
		t.Errorf("span tids %v, want %v", tids, got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriteTracesTwoTargets(t *testing.T) {
	prog := tinyKernel(t)
	tf := parseTrace(t, fakeTiny(prog, 64), gpuReport())
	names := map[int]string{}
	for _, e := range tf.TraceEvents {
		if e.Name == "process_name" {
			names[e.Pid] = e.Args["name"].(string)
		}
	}
	if len(names) != 2 || names[1] != "trn2 tiny" || names[2] != "h100" {
		t.Errorf("processes %v", names)
	}
	if n1, n2 := len(spans(tf, 1)), len(spans(tf, 2)); n1 != 8 || n2 != 5 {
		t.Errorf("spans per process %d, %d; want 8, 5", n1, n2)
	}
}

func TestWriteTraceDeterministic(t *testing.T) {
	prog := tinyKernel(t)
	var a, b bytes.Buffer
	for _, buf := range []*bytes.Buffer{&a, &b} {
		if err := WriteTraces(buf, []*sim.Report{fakeTiny(prog, 64), gpuReport()}); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two traces of the same runs differ")
	}
}

func TestWriteTraceErrors(t *testing.T) {
	prog := tinyKernel(t)
	tests := []struct {
		name string
		edit func(r *sim.Report)
		want string
	}{
		{"lane", func(r *sim.Report) { editSpan(r, 3, func(s *sim.Span) { s.Lane = -1 }) }, "span 3: lane -1"},
		{"instr", func(r *sim.Report) { editSpan(r, 2, func(s *sim.Span) { s.Instr = 99 }) }, "span 2: instruction 99"},
		{"site", func(r *sim.Report) { editSpan(r, 4, func(s *sim.Span) { s.Site = 77 }) }, "span 4: site 77"},
		{"bytes", func(r *sim.Report) { editSpan(r, 5, func(s *sim.Span) { s.Bytes[sim.LevelHBM].Read = -1 }) }, "hbm bytes -1 read"},
		{"groups", func(r *sim.Report) { r.LaneGroups = r.LaneGroups[:3] }, "3 lane groups for 20 lanes"},
		{"nan", func(r *sim.Report) { editSpan(r, 1, func(s *sim.Span) { s.Start = math.NaN() }) }, "span 1 (dma_copy)"},
		{"backwards", func(r *sim.Report) { editSpan(r, 0, func(s *sim.Span) { s.End = -5 }) }, "End ≥ Start"},
		{"time", func(r *sim.Report) { r.TimeNs = math.Inf(1) }, "not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := fakeTiny(prog, 64)
			tc.edit(rep)
			var buf bytes.Buffer
			err := WriteTrace(&buf, rep)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the error", buf.Len())
			}
		})
	}
}

func TestAppendMicros(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{0, "0"}, {1000, "1"}, {400, "0.4"}, {1.5, "0.0015"}, {0.001, "0.000001"},
		{0.0004, "0"}, {123456789.25, "123456.78925"}, {-0.0001, "0"},
	}
	for _, tc := range tests {
		if got := string(appendMicros(nil, tc.ns)); got != tc.want {
			t.Errorf("appendMicros(%v) = %s, want %s", tc.ns, got, tc.want)
		}
	}
}

// FuzzAppendJSONString checks that any lane, opcode or operand string
// yields valid JSON that decodes to the string (invalid UTF-8 replaced).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "tensor", `a"b\c`, "\x00\x1f\x7f", "sm0\u20131", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Errorf("%q decoded as %q", s, got)
		}
		if !utf8.ValidString(s) && got != strings.ToValidUTF8(got, "") {
			t.Errorf("%q decoded as invalid UTF-8 %q", s, got)
		}
	})
}

// BenchmarkWriteTrace: 100k GPU spans over 8 lanes, the size of a large
// program's timeline.
func BenchmarkWriteTrace(b *testing.B) {
	rep := &sim.Report{Target: "h100", Lanes: []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7"}}
	ops := []string{"load", "mma", "exp", "store"}
	t := 0.0
	for i := range 100_000 {
		s := sim.Span{Lane: int32(i % 8), Instr: int32(i), Start: t, End: t + 10, Op: ops[i%4], Site: sim.NoSite}
		s.Bytes[sim.LevelHBM] = sim.SpanTraffic{Read: 1 << 14, Write: 1 << 12}
		rep.Spans.Append(&s)
		if i%8 == 7 {
			t += 10
		}
	}
	rep.TimeNs = t
	rep.Traffic[sim.LevelHBM] = sim.Traffic{Read: 1 << 30, Write: 1 << 28}
	for b.Loop() {
		if err := WriteTrace(io.Discard, rep); err != nil {
			b.Fatal(err)
		}
	}
}

// editSpan changes span i of r with f.
func editSpan(r *sim.Report, i int, f func(*sim.Span)) {
	var spans []sim.Span
	for _, s := range r.Spans.All() {
		spans = append(spans, s)
	}
	f(&spans[i])
	r.Spans = sim.SpansOf(spans)
}
