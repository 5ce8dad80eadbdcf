package results

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim"
	"github.com/trnsim/trnsim/sim/neuron"
)

// tinyKernel is a kernel for the exporter tests: a [128,512] = [256,128]ᵀ ·
// [256,512] bf16 matmul in two K tiles. Its instructions, in order:
//
//	0 load AT (q0)  1 load B (q1)  2 matmul  3 load AT (q2)  4 load B (q3)
//	5 matmul        6 tensor_copy  7 store C (q4)
func tinyKernel(t testing.TB) *isa.Program {
	t.Helper()
	b := isa.NewBuilder(isa.Trn2(), "tiny")
	at := b.Input("AT", isa.BF16, 256, 128)
	bm := b.Input("B", isa.BF16, 256, 512)
	c := b.Output("C", isa.BF16, 128, 512)
	lhs := b.SBUFPool("lhs", 2, 128*2)
	rhs := b.SBUFPool("rhs", 2, 512*2)
	out := b.SBUFPool("out", 1, 512*2)
	acc := b.PSUMPool("acc", 1, 512*4)
	ps := acc.Tile(isa.FP32, 128, 512)
	for k0 := 0; k0 < 256; k0 += 128 {
		a := lhs.Tile(isa.BF16, 128, 128)
		b.Load(a, at.Tile(k0, 0, 128, 128))
		r := rhs.Tile(isa.BF16, 128, 512)
		b.Load(r, bm.Tile(k0, 0, 128, 512))
		b.Matmul(ps, a, r, k0 > 0)
	}
	o := out.Tile(isa.BF16, 128, 512)
	b.TensorCopy(isa.Vector, o, ps)
	b.Store(c.Tile(0, 0, 128, 512), o)
	prog, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// tinyLanes are the lanes of a NeuronCore report: the four compute engines
// and the 16 DMA queues.
func tinyLanes() []string {
	lanes := []string{"tensor", "vector", "scalar", "gpsimd"}
	for q := range isa.NumDMAQueues {
		lanes = append(lanes, "dma.q"+strconv.Itoa(q))
	}
	return lanes
}

// tinyLaneGroups are the engines of tinyLanes.
func tinyLaneGroups() []string {
	groups := []string{"tensor", "vector", "scalar", "gpsimd"}
	for range isa.NumDMAQueues {
		groups = append(groups, "dma")
	}
	return groups
}

// operandBytes is what a NeuronCore report says instruction in moved: its
// operands' bytes by memory, read from the sources and written to the
// destination.
func operandBytes(in *isa.Instr) [sim.NumLevels]sim.SpanTraffic {
	var b [sim.NumLevels]sim.SpanTraffic
	level := func(a isa.AP) sim.Level {
		switch a.Mem {
		case isa.HBM:
			return sim.LevelHBM
		case isa.PSUM:
			return sim.LevelPSUM
		}
		return sim.LevelSBUF
	}
	for _, a := range in.Src {
		if a.Used() {
			b[level(a)].Read += float64(a.Bytes())
		}
	}
	if in.Dst.Used() {
		b[level(in.Dst)].Write += float64(in.Dst.Bytes())
	}
	return b
}

// fakeNeuronReport times prog serially, instruction i taking durs[i] ns
// and starting when instruction i-1 ends, on lane "tensor", "vector", ... or
// "dma.qN". Serial timing keeps expected totals easy to derive by hand.
// Spans carry their sites and bytes as sim/neuron's do.
func fakeNeuronReport(prog *isa.Program, durs []float64) *sim.Report {
	rep := &sim.Report{Target: "trn2", Clock: "tensor", ClockGHz: 1.4, Lanes: tinyLanes(), LaneGroups: tinyLaneGroups(),
		Program: prog.Name, Sources: neuron.Sources(prog)}
	t := 0.0
	for i, in := range prog.Instrs {
		lane := int32(in.Engine)
		if in.Engine == isa.DMA {
			lane = 4 + int32(in.Queue)
		}
		waited := ""
		if in.Op == isa.OpMatmul {
			waited = "dma"
		}
		rep.Spans.Append(&sim.Span{Lane: lane, Instr: int32(i), Start: t, End: t + durs[i], Op: in.Op.String(), Waited: waited,
			Site: in.Site, Bytes: operandBytes(&prog.Instrs[i])})
		t += durs[i]
	}
	rep.TimeNs = t
	rep.Cycles = int64(t * rep.ClockGHz)
	return rep
}

// fakeTiny is the report of tinyKernel with AT loads of 100 ns, B loads of
// 300 ns, matmuls of mm ns, the copy 40 ns and the store 200 ns.
func fakeTiny(prog *isa.Program, mm float64) *sim.Report {
	return fakeNeuronReport(prog, []float64{100, 300, mm, 100, 300, mm, 40, 200})
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("go command not found: cannot run go tool pprof")
	}
	return p
}

func pprofOut(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(goTool(t), append([]string{"tool", "pprof"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool pprof %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func writeProfileFile(t *testing.T, name string, rep *sim.Report) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var buf bytes.Buffer
	if err := WriteProfile(&buf, rep, "tiny"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lineTotals reads `pprof -list` output into source line → cum ns.
func lineTotals(t *testing.T, out string) map[int]int64 {
	t.Helper()
	got := map[int]int64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasSuffix(f[2], ":") || f[1] == "." {
			continue
		}
		line, err := strconv.Atoi(strings.TrimSuffix(f[2], ":"))
		if err != nil {
			continue
		}
		got[line] = parseNs(t, f[1])
	}
	return got
}

func parseNs(t *testing.T, s string) int64 {
	t.Helper()
	if s == "0" || s == "." {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(s, "ns"), 10, 64)
	if err != nil {
		t.Fatalf("pprof value %q: want NNNns (run with -unit=ns)", s)
	}
	return v
}

func TestWriteProfileSamples(t *testing.T) {
	prog := tinyKernel(t)
	rep := fakeTiny(prog, 64)
	var buf bytes.Buffer
	if err := WriteProfile(&buf, rep, "tiny"); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	// One sample per (site, opcode, lane): the AT and B loads each use two
	// queues, the matmuls share the tensor lane.
	if len(p.Sample) != 7 {
		t.Errorf("%d samples, want 7 (2 AT loads, 2 B loads, matmul, copy, store)", len(p.Sample))
	}
	var ns, cyc int64
	byOp := map[string]int64{}
	for _, s := range p.Sample {
		ns += s.Value[0]
		cyc += s.Value[1]
		if len(s.Location) != 3 {
			t.Fatalf("stack depth %d, want 3 (kernel, line, instruction)", len(s.Location))
		}
		leaf, line, root := s.Location[0].Line[0], s.Location[1].Line[0], s.Location[2].Line[0]
		if root.Function.Name != "tiny" {
			t.Errorf("root %q, want the kernel name", root.Function.Name)
		}
		if !strings.HasSuffix(line.Function.Name, ".tinyKernel") || !strings.HasSuffix(line.Function.Filename, "pprof_test.go") {
			t.Errorf("source frame %s %s, want tinyKernel in pprof_test.go", line.Function.Name, line.Function.Filename)
		}
		if s.Label["opcode"][0] != leaf.Function.Name {
			t.Errorf("opcode label %v, leaf %s", s.Label["opcode"], leaf.Function.Name)
		}
		byOp[leaf.Function.Name+"/"+s.Label["engine"][0]] += s.Value[0]
	}
	// 2·100 + 2·300 + 2·64 + 40 + 200 = 1168 ns; cycles at 1.4 GHz per
	// sample: 140+140 + 420+420 + round(179.2) + 56 + 280 = 1635.
	if ns != 1168 || cyc != 1635 {
		t.Errorf("totals %d ns, %d cycles; want 1168, 1635", ns, cyc)
	}
	want := map[string]int64{"dma_copy/dma": 1000, "nc_matmul/tensor": 128, "tensor_copy/vector": 40}
	for k, v := range want {
		if byOp[k] != v {
			t.Errorf("%s: %d ns, want %d", k, byOp[k], v)
		}
	}
}

func TestWriteProfileDeterministic(t *testing.T) {
	prog := tinyKernel(t)
	var a, b bytes.Buffer
	if err := WriteProfile(&a, fakeTiny(prog, 64), "tiny"); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfile(&b, fakeTiny(prog, 64), "tiny"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two profiles of the same report differ")
	}
}

// TestPprofTool opens the profile with `go tool pprof` the way a kernel
// author does: -top, -list on the kernel function, -tags, -diff_base.
func TestPprofTool(t *testing.T) {
	prog := tinyKernel(t)
	// The source lines of tinyKernel's calls, from the sites the builder
	// recorded.
	lineOf := func(i int) int { return prog.SiteOf(i).Line }
	loadAT, loadB, mm, cp, st := lineOf(0), lineOf(1), lineOf(2), lineOf(6), lineOf(7)
	if loadAT == 0 || loadAT == loadB || mm == cp {
		t.Fatalf("sites not resolved: %d %d %d %d %d", loadAT, loadB, mm, cp, st)
	}
	base := writeProfileFile(t, "base.pb.gz", fakeTiny(prog, 64))

	t.Run("top", func(t *testing.T) {
		out := pprofOut(t, "-top", "-unit=ns", base)
		// flat flat% sum% cum cum% name
		want := map[string][2]int64{
			"dma_copy":           {1000, 1000},
			"nc_matmul":          {128, 128},
			"tensor_copy":        {40, 40},
			"tiny":               {0, 1168},
			"results.tinyKernel": {0, 1168},
		}
		seen := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) != 6 || !strings.HasSuffix(f[3], "ns") {
				continue
			}
			name := f[5]
			if i := strings.LastIndex(name, "/"); i >= 0 {
				name = name[i+1:]
			}
			w, ok := want[name]
			if !ok {
				continue
			}
			seen[name] = true
			if flat, cum := parseNs(t, f[0]), parseNs(t, f[3]); flat != w[0] || cum != w[1] {
				t.Errorf("%s: flat %d cum %d, want %d %d", name, flat, cum, w[0], w[1])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("-top shows %v of %v:\n%s", seen, want, out)
		}
	})

	t.Run("list", func(t *testing.T) {
		out := pprofOut(t, "-list", "tinyKernel", "-unit=ns", base)
		got := lineTotals(t, out)
		want := map[int]int64{loadAT: 200, loadB: 600, mm: 128, cp: 40, st: 200}
		for line, ns := range want {
			if got[line] != ns {
				t.Errorf("line %d: %d ns, want %d", line, got[line], ns)
			}
		}
		if len(got) != len(want) {
			t.Errorf("-list shows lines %v, want %v:\n%s", got, want, out)
		}
	})

	t.Run("tags", func(t *testing.T) {
		out := pprofOut(t, "-tags", "-unit=ns", base)
		for _, w := range []string{"engine: Total 1168ns", "1000ns", ": dma", "128ns", ": tensor", "opcode: Total 1168ns", ": nc_matmul", "lane: Total 1168ns", ": dma.q4"} {
			if !strings.Contains(out, w) {
				t.Errorf("-tags output lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("diff_base", func(t *testing.T) {
		// Matmuls twice as slow: +128 ns, all on the matmul line.
		slow := writeProfileFile(t, "slow.pb.gz", fakeTiny(prog, 128))
		out := pprofOut(t, "-list", "tinyKernel", "-unit=ns", "-diff_base="+base, slow)
		got := lineTotals(t, out)
		if got[mm] != 128 || len(got) != 1 {
			t.Errorf("diff: lines %v, want only line %d with 128 ns:\n%s", got, mm, out)
		}
	})
}

func TestWriteProfileGPU(t *testing.T) {
	rep := &sim.Report{Target: "h100", Clock: "sm", ClockGHz: 1.755, TimeNs: 300,
		Lanes: []string{"sm0-65", "sm66-131"},
		Spans: sim.SpansOf([]sim.Span{
			{Lane: 0, Instr: 0, Start: 0, End: 100, Op: "load"},
			{Lane: 0, Instr: 1, Start: 100, End: 300, Op: "mma"},
			{Lane: 1, Instr: 0, Start: 0, End: 100, Op: "load"},
			{Lane: 1, Instr: 2, Start: 100, End: 150, Op: "exp"},
			{Lane: 1, Instr: 3, Start: 150, End: 160, Op: "combine/epilogue"},
		})}
	var buf bytes.Buffer
	if err := WriteProfile(&buf, rep, "attention"); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	byPhase := map[string]int64{}
	for _, s := range p.Sample {
		var names []string
		for _, l := range s.Location {
			names = append(names, l.Line[0].Function.Name)
		}
		if s.Label["phase"][0] == "combine/epilogue" {
			if want := []string{"combine/epilogue", "combine", "attention"}; !slices.Equal(names, want) {
				t.Errorf("stack %v, want %v", names, want)
			}
			continue
		}
		if len(s.Location) != 2 || s.Location[1].Line[0].Function.Name != "attention" {
			t.Fatalf("stack %v, want attention → phase", names)
		}
		byPhase[s.Location[0].Line[0].Function.Name] += s.Value[0]
		if s.Label["phase"][0] != s.Location[0].Line[0].Function.Name {
			t.Errorf("phase label %v", s.Label["phase"])
		}
	}
	want := map[string]int64{"load": 200, "mma": 200, "exp": 50}
	for k, v := range want {
		if byPhase[k] != v {
			t.Errorf("%s: %d ns, want %d", k, byPhase[k], v)
		}
	}
}

func TestWriteProfileErrors(t *testing.T) {
	prog := tinyKernel(t)
	tests := []struct {
		name string
		edit func(r *sim.Report)
		want string
	}{
		{"lane", func(r *sim.Report) { editSpan(r, 3, func(s *sim.Span) { s.Lane = 99 }) }, "span 3: lane 99"},
		{"instr", func(r *sim.Report) { editSpan(r, 2, func(s *sim.Span) { s.Instr = 8 }) }, "span 2: instruction 8"},
		{"negative", func(r *sim.Report) { editSpan(r, 1, func(s *sim.Span) { s.End = -1 }) }, "span 1 (dma_copy): [100, -1] ns"},
		{"nan", func(r *sim.Report) { editSpan(r, 0, func(s *sim.Span) { s.End = math.NaN() }) }, "span 0 (dma_copy)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := fakeTiny(prog, 64)
			tc.edit(rep)
			err := WriteProfile(&bytes.Buffer{}, rep, "tiny")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
