package results

import (
	"bytes"
	"cmp"
	"encoding/json"
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

// Timing is one simulated time to compare: a workload on a target, and
// the resource that bounded it when the input says (results CSV rows do;
// benchmark text does not).
type Timing struct {
	Key
	TimeUs float64
	Bound  string // "" when unknown
}

// BenchTimeUnit is the unit under which `go test -bench ./bench` reports
// simulated time; compare reads it from benchmark text.
const BenchTimeUnit = "sim-us/op"

// checkTime is the rule every simulated time read for comparison obeys:
// finite and positive. A zero, negative or non-finite time is bad input
// (a broken writer or a hand edit), never a speed-up.
func checkTime(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return fmt.Errorf("simulated time %v µs: want a finite time > 0", v)
	}
	return nil
}

// TimingsFromRows returns the simulated time of each row, in row order.
// Rows without a time (an empty time_us) are left out. Two rows with the
// same key, or a time that is zero or negative, are an error naming
// name:line.
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
		if err := checkTime(rows[i].TimeUs); err != nil {
			return nil, &ParseError{File: name, Line: rowLine(i), Field: "time_us", Err: err}
		}
		out = append(out, Timing{k, rows[i].TimeUs, rows[i].Bound})
	}
	return out, nil
}

// IsBenchText reports whether data looks like `go test -bench` output
// rather than a results CSV: a line starts with "Benchmark", or the first
// non-blank line is a benchfmt configuration line ("goos: linux") or unit
// line ("Unit sim-us/op ..."). A results CSV header starts with a column
// name and a comma; benchmark names contain commas too (the workload
// spec), so the comma says nothing.
func IsBenchText(data []byte) bool {
	first := true
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(line, []byte("Benchmark")) {
			return true
		}
		if first && len(bytes.TrimSpace(line)) > 0 {
			first = false
			if bytes.HasPrefix(line, []byte("Unit ")) || isConfigLine(line) {
				return true
			}
		}
	}
	return false
}

// isConfigLine reports whether line is a benchfmt "key: value" line: a
// key of lower-case letters, digits, '-', '_' or '.', then ": ".
func isConfigLine(line []byte) bool {
	k, _, ok := bytes.Cut(line, []byte(": "))
	if !ok || len(k) == 0 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ReadTimings reads the simulated times in a results CSV (see ReadCSV) or
// in `go test -bench` output (see ReadBenchTimings), telling them apart by
// content (see IsBenchText). name is what errors call the input. An input
// with no simulated time at all is an error: a gate that compares nothing
// must not pass.
func ReadTimings(r io.Reader, name string) ([]Timing, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var ts []Timing
	if IsBenchText(data) {
		if ts, err = ReadBenchTimings(bytes.NewReader(data), name); err != nil {
			return nil, err
		}
	} else {
		rows, err := ReadCSV(bytes.NewReader(data), name)
		if err != nil {
			return nil, err
		}
		if ts, err = TimingsFromRows(rows, name); err != nil {
			return nil, err
		}
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
// Syntax errors are returned with file:line, and so is a time that is not
// finite and positive (a *ParseError).
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
			if err := checkTime(v); err != nil {
				file, line := rec.Pos()
				return nil, &ParseError{File: file, Line: line, Field: BenchTimeUnit, Err: err}
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
		out[i] = Timing{Key: k, TimeUs: median(samples[k])}
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
	Base, New           float64 // µs
	DeltaPct            float64 // (New − Base) / Base × 100; +Inf when Base is 0
	BaseBound, NewBound string  // the bounding resource on each side; "" when unknown
}

// BoundChanged reports whether both sides name a bound and they differ.
func (ch Change) BoundChanged() bool {
	return ch.BaseBound != "" && ch.NewBound != "" && ch.BaseBound != ch.NewBound
}

// Verdict is "REGRESSION", "faster" or "within threshold" against
// thresholdPct.
func (ch Change) Verdict(thresholdPct float64) string {
	switch {
	case ch.DeltaPct > thresholdPct:
		return "REGRESSION"
	case ch.DeltaPct < -thresholdPct:
		return "faster"
	}
	return "within threshold"
}

// Comparison is the result of Compare.
type Comparison struct {
	ThresholdPct float64
	Compared     int      // keys present on both sides
	Changed      []Change // slowest first (largest DeltaPct), ties in base order
	OnlyBase     []Key    // missing from new: each fails the gate; in base order
	OnlyNew      []Key    // added in new: listed, not failed; in new order
}

// Compare matches base and new by key and collects the changed times,
// sorted by slowdown. thresholdPct is the slowdown, in percent, beyond
// which a change is a regression.
func Compare(base, new []Timing, thresholdPct float64) *Comparison {
	c := &Comparison{ThresholdPct: thresholdPct}
	newByKey := make(map[Key]Timing, len(new))
	for _, t := range new {
		newByKey[t.Key] = t
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
		if n.TimeUs == b.TimeUs && n.Bound == b.Bound {
			continue
		}
		d := math.Inf(1)
		if b.TimeUs != 0 {
			d = (n.TimeUs - b.TimeUs) / b.TimeUs * 100
		}
		c.Changed = append(c.Changed, Change{b.Key, b.TimeUs, n.TimeUs, d, b.Bound, n.Bound})
	}
	slices.SortStableFunc(c.Changed, func(x, y Change) int { return cmp.Compare(y.DeltaPct, x.DeltaPct) })
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

// Failed reports whether the gate fails: a regression beyond the
// threshold, or a workload of base missing from new (it became
// unsupported, its target vanished, or new is another sweep).
func (c *Comparison) Failed() bool {
	return len(c.Regressions()) > 0 || len(c.OnlyBase) > 0
}

// CompareFormats returns the report formats Comparison.WriteFormat
// accepts.
func CompareFormats() []string { return []string{"text", "markdown", "json"} }

// Write prints the comparison as text (see WriteFormat).
func (c *Comparison) Write(w io.Writer, baseName, newName string) error {
	return c.WriteFormat(w, "text", baseName, newName)
}

// summary counts the changes by verdict.
type summary struct {
	Slower    int `json:"slower"`
	Faster    int `json:"faster"`
	Within    int `json:"within"`
	Unchanged int `json:"unchanged"`
	Missing   int `json:"missing"`
	Added     int `json:"added"`
}

func (c *Comparison) summary() summary {
	var s summary
	for _, ch := range c.Changed {
		switch ch.Verdict(c.ThresholdPct) {
		case "REGRESSION":
			s.Slower++
		case "faster":
			s.Faster++
		default:
			s.Within++
		}
	}
	s.Unchanged = c.Compared - len(c.Changed)
	s.Missing, s.Added = len(c.OnlyBase), len(c.OnlyNew)
	return s
}

// WriteFormat prints the comparison in format "text" (aligned columns),
// "markdown" (tables a CI job can post) or "json": the changed workloads
// slowest first with base and new time, delta, verdict and the bounding
// resource ("tensor → dma" when it changed), the workloads missing from
// new (failures) and added in new, and a summary.
func (c *Comparison) WriteFormat(w io.Writer, format, baseName, newName string) error {
	var b bytes.Buffer
	switch format {
	case "text":
		c.writeText(&b, baseName, newName)
	case "markdown":
		c.writeMarkdown(&b, baseName, newName)
	case "json":
		if err := c.writeJSON(&b, baseName, newName); err != nil {
			return err
		}
	default:
		return fmt.Errorf("compare format %q: allowed: %s", format, strings.Join(CompareFormats(), ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// boundCell is "tensor", "tensor → dma" when the bound changed, or "".
func boundCell(ch Change) string {
	if ch.BoundChanged() {
		return ch.BaseBound + " → " + ch.NewBound
	}
	return cmp.Or(ch.NewBound, ch.BaseBound)
}

func (c *Comparison) summaryLine() string {
	s, th := c.summary(), formatPct(c.ThresholdPct)
	return fmt.Sprintf("%d slower beyond %s, %d faster beyond %s, %d within %s, %d unchanged, %d missing from new, %d added",
		s.Slower, th, s.Faster, th, s.Within, th, s.Unchanged, s.Missing, s.Added)
}

func (c *Comparison) writeText(b *bytes.Buffer, baseName, newName string) {
	th := formatPct(c.ThresholdPct)
	fmt.Fprintf(b, "%s vs %s: %d workloads on both sides, threshold %s\n", baseName, newName, c.Compared, th)
	if len(c.Changed) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "target\tspec\tbase µs\tnew µs\tdelta\tverdict\tbound")
		for _, ch := range c.Changed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ch.Target, ch.Spec, formatUs(ch.Base), formatUs(ch.New),
				formatDelta(ch.DeltaPct), ch.Verdict(c.ThresholdPct), boundCell(ch))
		}
		tw.Flush()
	}
	for _, side := range []struct {
		title string
		keys  []Key
	}{
		{fmt.Sprintf("MISSING from %s (in %s only; each fails the gate)", newName, baseName), c.OnlyBase},
		{fmt.Sprintf("only in %s (added; not compared)", newName), c.OnlyNew},
	} {
		if len(side.keys) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s (%d):\n", side.title, len(side.keys))
		for _, k := range side.keys {
			fmt.Fprintf(b, "  %s\n", k)
		}
	}
	fmt.Fprintf(b, "\n%s\n", c.summaryLine())
}

// mdCell escapes the characters that would break a markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func (c *Comparison) writeMarkdown(b *bytes.Buffer, baseName, newName string) {
	verdict := "PASS"
	if c.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(b, "### trnsim compare: %s\n\n`%s` vs `%s`: %d workloads on both sides, threshold %s\n",
		verdict, mdCell(baseName), mdCell(newName), c.Compared, formatPct(c.ThresholdPct))
	if len(c.Changed) > 0 {
		b.WriteString("\n| target | spec | base µs | new µs | delta | verdict | bound |\n|---|---|---:|---:|---:|---|---|\n")
		for _, ch := range c.Changed {
			v := ch.Verdict(c.ThresholdPct)
			if v == "REGRESSION" {
				v = "**REGRESSION**"
			}
			fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %s |\n", mdCell(ch.Target), mdCell(ch.Spec), formatUs(ch.Base),
				formatUs(ch.New), formatDelta(ch.DeltaPct), v, mdCell(boundCell(ch)))
		}
	}
	for _, side := range []struct {
		title string
		keys  []Key
	}{{"**Missing** from `" + mdCell(newName) + "` (each fails the gate)", c.OnlyBase}, {"Added in `" + mdCell(newName) + "`", c.OnlyNew}} {
		if len(side.keys) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s (%d):\n\n", side.title, len(side.keys))
		for _, k := range side.keys {
			fmt.Fprintf(b, "- %s `%s`\n", mdCell(k.Target), mdCell(k.Spec))
		}
	}
	fmt.Fprintf(b, "\n%s\n", c.summaryLine())
}

// jsonKey, jsonChange and jsonReport are the JSON report's shape.
type jsonKey struct {
	Target string `json:"target"`
	Spec   string `json:"spec"`
}

type jsonChange struct {
	jsonKey
	BaseUs    float64  `json:"base_us"`
	NewUs     float64  `json:"new_us"`
	DeltaPct  *float64 `json:"delta_pct"` // null for an infinite slowdown
	Verdict   string   `json:"verdict"`
	BaseBound string   `json:"base_bound,omitempty"`
	NewBound  string   `json:"new_bound,omitempty"`
}

type jsonReport struct {
	Base         string       `json:"base"`
	New          string       `json:"new"`
	ThresholdPct float64      `json:"threshold_pct"`
	Pass         bool         `json:"pass"`
	Compared     int          `json:"compared"`
	Changed      []jsonChange `json:"changed"`
	Missing      []jsonKey    `json:"missing"`
	Added        []jsonKey    `json:"added"`
	Summary      summary      `json:"summary"`
}

func (c *Comparison) writeJSON(b *bytes.Buffer, baseName, newName string) error {
	keys := func(ks []Key) []jsonKey {
		out := make([]jsonKey, len(ks))
		for i, k := range ks {
			out[i] = jsonKey{k.Target, k.Spec}
		}
		return out
	}
	r := jsonReport{Base: baseName, New: newName, ThresholdPct: c.ThresholdPct, Pass: !c.Failed(), Compared: c.Compared,
		Changed: make([]jsonChange, len(c.Changed)), Missing: keys(c.OnlyBase), Added: keys(c.OnlyNew), Summary: c.summary()}
	for i, ch := range c.Changed {
		jc := jsonChange{jsonKey: jsonKey{ch.Target, ch.Spec}, BaseUs: ch.Base, NewUs: ch.New,
			Verdict: ch.Verdict(c.ThresholdPct), BaseBound: ch.BaseBound, NewBound: ch.NewBound}
		if !math.IsInf(ch.DeltaPct, 0) {
			d := ch.DeltaPct
			jc.DeltaPct = &d
		}
		r.Changed[i] = jc
	}
	enc := json.NewEncoder(b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func formatUs(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func formatPct(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

func formatDelta(v float64) string {
	if math.IsInf(v, 1) {
		return "+inf%"
	}
	return fmt.Sprintf("%+.2f%%", v)
}
