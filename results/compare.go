package results

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchfmt"
)

// Key identifies a row: the canonical workload spec and the target.
type Key struct {
	Spec   string
	Target string
}

func (k Key) String() string {
	if k.Target == "" {
		return k.Spec
	}
	return k.Target + " " + k.Spec
}

// KeyOf returns the key of r.
func KeyOf(r *Row) Key { return Key{Spec: r.Spec, Target: r.Target} }

// Timing is one simulated time to compare: a workload on a target.
type Timing struct {
	Key
	TimeUs float64
}

// BenchTimeUnit is the unit under which `go test -bench ./bench` reports
// simulated time; compare reads it from benchmark text.
const BenchTimeUnit = "sim-us/op"

// TimingsFromRows returns the simulated time of each row, in row order.
// Rows without a time (an empty time_us) are left out. Two rows with the
// same key are an error.
func TimingsFromRows(rows []Row, name string) ([]Timing, error) {
	seen := make(map[Key]int, len(rows))
	var out []Timing
	for i := range rows {
		k := KeyOf(&rows[i])
		if j, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate row %s (first at line %d)", name, rowLine(i), k, rowLine(j))
		}
		seen[k] = i
		if math.IsNaN(rows[i].TimeUs) {
			continue
		}
		out = append(out, Timing{k, rows[i].TimeUs})
	}
	return out, nil
}

// ReadTimings reads the simulated times in a results CSV (see ReadCSV) or
// in `go test -bench` output (see ReadBenchTimings), telling them apart by
// the first line: a CSV header has commas, benchmark text does not. name
// is what errors call the input. An input with no simulated time at all is
// an error: a gate that compares nothing must not pass.
func ReadTimings(r io.Reader, name string) ([]Timing, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var ts []Timing
	if bytes.ContainsRune(first, ',') {
		rows, err := ReadCSV(bytes.NewReader(data), name)
		if err != nil {
			return nil, err
		}
		if ts, err = TimingsFromRows(rows, name); err != nil {
			return nil, err
		}
	} else if ts, err = ReadBenchTimings(bytes.NewReader(data), name); err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%s: no simulated times (want a results CSV with time_us, or go test -bench output with %s)", name, BenchTimeUnit)
	}
	return ts, nil
}

// ReadBenchTimings reads `go test -bench` output (the Go benchmark format,
// parsed with golang.org/x/perf/benchfmt) and returns the BenchTimeUnit
// value of each benchmark, in order of first appearance. A benchmark named
// Benchmark<Suite>/target=T/spec=S keys as (S, T), so it matches the CSV
// row of the same workload and target; any other name keys as the full
// name without its -GOMAXPROCS suffix. Repeated runs of a benchmark
// (-count) give their median. Benchmarks without the unit are skipped.
// Syntax errors are returned with file:line.
func ReadBenchTimings(r io.Reader, name string) ([]Timing, error) {
	br := benchfmt.NewReader(r, name)
	samples := map[Key][]float64{}
	var order []Key
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			v, ok := rec.Value(BenchTimeUnit)
			if !ok {
				continue
			}
			k := benchKey(rec.Name)
			if _, seen := samples[k]; !seen {
				order = append(order, k)
			}
			samples[k] = append(samples[k], v)
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]Timing, len(order))
	for i, k := range order {
		out[i] = Timing{k, median(samples[k])}
	}
	return out, nil
}

// benchKey keys a benchmark by its /target= and /spec= name parts.
func benchKey(n benchfmt.Name) Key {
	base, parts := n.Parts()
	var k Key
	full := string(base)
	for _, p := range parts {
		s := string(p)
		switch {
		case strings.HasPrefix(s, "/target="):
			k.Target = strings.TrimPrefix(s, "/target=")
		case strings.HasPrefix(s, "/spec="):
			k.Spec = strings.TrimPrefix(s, "/spec=")
		case strings.HasPrefix(s, "-"): // GOMAXPROCS
			continue
		}
		if !strings.HasPrefix(s, "-") {
			full += s
		}
	}
	if k.Spec == "" || k.Target == "" {
		return Key{Spec: full}
	}
	return k
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Change is one workload whose simulated time differs between base and new.
type Change struct {
	Key
	Base, New float64 // µs
	DeltaPct  float64 // (New − Base) / Base × 100; +Inf when Base is 0
}

// Comparison is the result of Compare.
type Comparison struct {
	ThresholdPct float64
	Compared     int      // keys present on both sides
	Changed      []Change // in base order
	OnlyBase     []Key    // in base order
	OnlyNew      []Key    // in new order
}

// Compare matches base and new by key and collects the changed times.
// thresholdPct is the slowdown, in percent, beyond which a change is a
// regression.
func Compare(base, new []Timing, thresholdPct float64) *Comparison {
	c := &Comparison{ThresholdPct: thresholdPct}
	newByKey := make(map[Key]float64, len(new))
	for _, t := range new {
		newByKey[t.Key] = t.TimeUs
	}
	inBase := make(map[Key]bool, len(base))
	for _, b := range base {
		inBase[b.Key] = true
		n, ok := newByKey[b.Key]
		if !ok {
			c.OnlyBase = append(c.OnlyBase, b.Key)
			continue
		}
		c.Compared++
		if n == b.TimeUs {
			continue
		}
		d := math.Inf(1)
		if b.TimeUs != 0 {
			d = (n - b.TimeUs) / b.TimeUs * 100
		}
		c.Changed = append(c.Changed, Change{b.Key, b.TimeUs, n, d})
	}
	for _, t := range new {
		if !inBase[t.Key] {
			c.OnlyNew = append(c.OnlyNew, t.Key)
		}
	}
	return c
}

// Regressions returns the changes slower than the threshold.
func (c *Comparison) Regressions() []Change {
	var out []Change
	for _, ch := range c.Changed {
		if ch.DeltaPct > c.ThresholdPct {
			out = append(out, ch)
		}
	}
	return out
}

// Write prints the comparison: a table of the changed workloads (base and
// new time, delta, and whether it is a regression), the workloads found
// on one side only, and a summary line.
func (c *Comparison) Write(w io.Writer, baseName, newName string) error {
	var b strings.Builder
	th := formatPct(c.ThresholdPct)
	fmt.Fprintf(&b, "%s vs %s: %d workloads on both sides, threshold %s\n", baseName, newName, c.Compared, th)
	var worse, better, within int
	if len(c.Changed) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "target\tspec\tbase µs\tnew µs\tdelta")
		for _, ch := range c.Changed {
			verdict := ""
			switch {
			case ch.DeltaPct > c.ThresholdPct:
				verdict = "REGRESSION"
				worse++
			case ch.DeltaPct < -c.ThresholdPct:
				verdict = "faster"
				better++
			default:
				verdict = "within threshold"
				within++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ch.Target, ch.Spec, formatUs(ch.Base), formatUs(ch.New), formatDelta(ch.DeltaPct), verdict)
		}
		tw.Flush()
	}
	for _, side := range []struct {
		name string
		keys []Key
	}{{baseName, c.OnlyBase}, {newName, c.OnlyNew}} {
		if len(side.keys) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nonly in %s (%d):\n", side.name, len(side.keys))
		for _, k := range side.keys {
			fmt.Fprintf(&b, "  %s\n", k)
		}
	}
	fmt.Fprintf(&b, "\n%d slower beyond %s, %d faster beyond %s, %d within %s, %d unchanged\n",
		worse, th, better, th, within, th, c.Compared-len(c.Changed))
	_, err := io.WriteString(w, b.String())
	return err
}

func formatUs(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func formatPct(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

func formatDelta(v float64) string {
	if math.IsInf(v, 1) {
		return "+inf%"
	}
	return fmt.Sprintf("%+.2f%%", v)
}
