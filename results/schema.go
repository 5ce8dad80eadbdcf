package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// SchemaVersion is the version of the CSV schema Columns describes. It
// changes whenever a column is added, removed, renamed, reordered or
// changes meaning or unit; ReadCSV reads only this version.
const SchemaVersion = 2

// Kind is how a column's cells are written and read.
type Kind uint8

const (
	// Text is free text without control characters; Column.Allowed, when
	// set, lists the only values accepted.
	Text Kind = iota
	// Shape is a positive integer workload dimension; the cell is empty
	// (0 in Row) when the dimension does not apply to the kernel.
	Shape
	// Count is an integer ≥ 0 that every row has (cycles, bytes).
	Count
	// Float is a finite number written with the fewest digits that read
	// back to the same float64 (see formatFloat); the cell is empty (NaN in
	// Row) when the figure does not apply.
	Float
	// Version is the schema_version column: always SchemaVersion.
	Version
)

var kindNames = [...]string{"text", "integer > 0 or empty", "integer ≥ 0", "number or empty", "integer"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Numeric reports whether cells of kind k parse as numbers (or are empty).
func (k Kind) Numeric() bool { return k != Text }

// Column is one column of the CSV schema: its name, unit, meaning and where
// its value lives in a Row.
type Column struct {
	Name     string
	Unit     string // "" for text and dimensionless counts
	Kind     Kind
	Doc      string
	Allowed  []string // Text: the only values accepted ("" included when the cell may be empty)
	Required bool     // Text: the cell may not be empty

	// Exactly one accessor is set, matching Kind (none for Version).
	text  func(*Row) *string
	shape func(*Row) *int
	count func(*Row) *int64
	float func(*Row) *float64
	// alias, for a Float column that repeats another column under the
	// Neuron profiler's name: ReadCSV requires both to hold the same value.
	alias string
}

// Columns returns the CSV schema, in column order. It is built anew on each
// call.
func Columns() []Column {
	txt := func(name, doc string, f func(*Row) *string) Column {
		return Column{Name: name, Kind: Text, Doc: doc, text: f}
	}
	shp := func(name, doc string, f func(*Row) *int) Column {
		return Column{Name: name, Kind: Shape, Doc: doc, shape: f}
	}
	cnt := func(name, unit, doc string, f func(*Row) *int64) Column {
		return Column{Name: name, Unit: unit, Kind: Count, Doc: doc, count: f}
	}
	flt := func(name, unit, doc string, f func(*Row) *float64) Column {
		return Column{Name: name, Unit: unit, Kind: Float, Doc: doc, float: f}
	}
	required := func(c Column) Column { c.Required = true; return c }
	aliasOf := func(c Column, of string) Column { c.alias = of; return c }
	allowed := func(c Column, vals ...string) Column { c.Allowed = vals; return c }

	return []Column{
		// Workload.
		required(txt("kernel", "kernel name (`trnsim list`)", func(r *Row) *string { return &r.Kernel })),
		txt("variant", "the kernel variant that ran (resolved when the workload asked for `best`)", func(r *Row) *string { return &r.Variant }),
		required(txt("target", "the simulated target: trn1, trn2, trn3 (one NeuronCore), trn2-chip, trn2-chip-lnc1, ... (one Trainium chip) or a100, h100, h200, ... (one GPU)", func(r *Row) *string { return &r.Target })),
		allowed(required(txt("unit", "what one row times and one price buys: `core` (one NeuronCore), `chip` (one Trainium chip, the workload split over its cores), `gpu` (one GPU) or `instance`", func(r *Row) *string { return &r.Unit })), "core", "chip", "gpu", "instance"),
		txt("dtype", "input dtype: fp32, bf16, fp16, fp8e4m3, fp8e5m2", func(r *Row) *string { return &r.DType }),
		shp("batch", "independent problems (matmul batch, sequences)", func(r *Row) *int { return &r.Batch }),
		shp("heads", "attention query heads", func(r *Row) *int { return &r.Heads }),
		shp("kv_heads", "attention key/value heads (GQA, MQA)", func(r *Row) *int { return &r.KVHeads }),
		shp("M", "matmul rows of C", func(r *Row) *int { return &r.M }),
		shp("N", "matmul columns of C", func(r *Row) *int { return &r.N }),
		shp("K", "matmul contraction length", func(r *Row) *int { return &r.K }),
		shp("seqlen", "attention sequence length; KV-cache length for decode attention", func(r *Row) *int { return &r.Seqlen }),
		shp("headdim", "attention head dimension", func(r *Row) *int { return &r.Headdim }),
		allowed(txt("causal", "attention causal mask: `true`, `false`, empty when not applicable", func(r *Row) *string { return &r.Causal }), "", "true", "false"),
		required(txt("spec", "the canonical workload spec with every parameter (`trnsim run SPEC` reruns it); with target, the key of a row", func(r *Row) *string { return &r.Spec })),

		// Timing.
		flt("time_us", "µs", "simulated time of one call", func(r *Row) *float64 { return &r.TimeUs }),
		cnt("cycles", "cycles", "time_us in cycles of the target's reference clock (TensorE on NeuronCores, SM on GPUs)", func(r *Row) *int64 { return &r.Cycles }),
		flt("clock_ghz", "GHz", "the clock cycles counts", func(r *Row) *float64 { return &r.ClockGHz }),
		flt("flops", "FLOP", "useful (model) FLOPs of one call: GEMM 2·batch·M·N·K; attention 4·batch·heads·seqlen²·headdim, halved when causal; decode attention 4·batch·heads·seqlen·headdim", func(r *Row) *float64 { return &r.FLOPs }),
		flt("tflops", "TFLOP/s", "flops / time: achieved 10¹² FLOP/s", func(r *Row) *float64 { return &r.TFLOPS }),
		flt("pct_peak", "%", "tflops as a percentage of the target's peak for the dtype", func(r *Row) *float64 { return &r.PctPeak }),
		aliasOf(flt("mfu_estimated_percent", "%", "pct_peak under the Neuron profiler's name (model FLOPs utilisation), so simulated and profiled runs line up; always equal to pct_peak", func(r *Row) *float64 { return &r.PctPeak }), "pct_peak"),

		// Memory.
		cnt("hbm_read_bytes", "bytes", "bytes read from HBM", func(r *Row) *int64 { return &r.HBMReadBytes }),
		cnt("hbm_write_bytes", "bytes", "bytes written to HBM", func(r *Row) *int64 { return &r.HBMWriteBytes }),
		flt("hbm_gbps", "GB/s", "achieved HBM bandwidth: (read + write bytes) / time, 10⁹ bytes per second", func(r *Row) *float64 { return &r.HBMGBps }),
		flt("mbu_estimated_percent", "%", "hbm_gbps as a percentage of the target's HBM bandwidth (per NeuronCore share on Trainium), the Neuron profiler's memory-bandwidth utilisation", func(r *Row) *float64 { return &r.PctHBM }),

		// NeuronCore engines (Neuron profiler names).
		flt("tensor_active_time_percent", "%", "share of time TensorE was busy; empty on GPUs", func(r *Row) *float64 { return &r.TensorActivePct }),
		flt("vector_active_time_percent", "%", "share of time VectorE was busy; empty on GPUs", func(r *Row) *float64 { return &r.VectorActivePct }),
		flt("scalar_active_time_percent", "%", "share of time ScalarE was busy; empty on GPUs", func(r *Row) *float64 { return &r.ScalarActivePct }),
		flt("gpsimd_active_time_percent", "%", "share of time GpSimdE was busy; empty on GPUs", func(r *Row) *float64 { return &r.GpSimdActivePct }),
		flt("dma_active_time_percent", "%", "share of time at least one DMA queue was busy; empty on GPUs", func(r *Row) *float64 { return &r.DMAActivePct }),

		// GPU pipes.
		flt("sm_occupancy_percent", "%", "resident warps as a percentage of the SM's maximum; empty on NeuronCores", func(r *Row) *float64 { return &r.SMOccupancyPct }),
		flt("tensor_pipe_active_percent", "%", "share of time the tensor-core pipe was busy; empty on NeuronCores", func(r *Row) *float64 { return &r.TensorPipePct }),
		flt("mufu_active_percent", "%", "share of time the MUFU (exp) pipe was busy; empty on NeuronCores", func(r *Row) *float64 { return &r.MUFUPct }),

		txt("bound", "the resource that bounds the run: an engine (tensor, vector, scalar, gpsimd), dma, hbm, or on trn1 a shared access port (psum_port, sbuf_port); on GPUs tensor_pipe, mufu, smem, l2, hbm, launch or latency", func(r *Row) *string { return &r.Bound }),

		// Cost.
		flt("price_per_hour_usd", "USD/h", "price of one hour of the row's unit: a NeuronCore's share of a chip-hour, a chip-hour or a GPU-hour, from an instance row of prices/prices.csv over its chips or from `-price` (per chip-hour or instance-hour); empty when no price is set, never guessed", func(r *Row) *float64 { return &r.PricePerHourUSD }),
		flt("cost_per_call_usd", "USD", "price_per_hour_usd × time of one call", func(r *Row) *float64 { return &r.CostPerCallUSD }),
		flt("cost_per_tflop_usd", "USD/TFLOP", "cost of 10¹² FLOPs of this workload's work at its achieved rate", func(r *Row) *float64 { return &r.CostPerTFLOPUSD }),
		allowed(txt("price_basis", "how the price is bought (prices/prices.csv): `on-demand`, `capacity-block`, `spot`, `reserved-1yr`, or `user` for `-price`; empty when no price is set", func(r *Row) *string { return &r.PriceBasis }), "", "on-demand", "capacity-block", "spot", "reserved-1yr", "user"),

		{Name: "schema_version", Kind: Version, Doc: fmt.Sprintf("the version of this schema: %d", SchemaVersion)},
	}
}

// ColumnNames returns the schema's column names in order.
func ColumnNames() []string {
	cols := Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// ColumnByName returns the schema column called name.
func ColumnByName(name string) (Column, error) {
	for _, c := range Columns() {
		if c.Name == name {
			return c, nil
		}
	}
	return Column{}, fmt.Errorf("unknown column %q (%s)", name, schemaList())
}

// schemaList names the schema's columns for error messages.
func schemaList() string {
	return fmt.Sprintf("schema version %d columns: %s", SchemaVersion, strings.Join(ColumnNames(), ", "))
}

// Value returns the column's value in r as a number, and false for a text
// column or an empty (not applicable) cell.
func (c Column) Value(r *Row) (float64, bool) {
	switch c.Kind {
	case Shape:
		v := *c.shape(r)
		return float64(v), v != 0
	case Count:
		return float64(*c.count(r)), true
	case Float:
		v := *c.float(r)
		return v, !math.IsNaN(v)
	case Version:
		return SchemaVersion, true
	}
	return 0, false
}

// Format returns the cell that represents the column's value in r, or an
// error when the value cannot be written under the schema (an infinite
// number, a negative count, a control character, a value outside Allowed).
func (c Column) Format(r *Row) (string, error) {
	switch c.Kind {
	case Text:
		s := *c.text(r)
		if err := c.checkText(s); err != nil {
			return "", err
		}
		return s, nil
	case Shape:
		v := *c.shape(r)
		if v < 0 {
			return "", fmt.Errorf("%d is negative; want a positive integer, or 0 for not applicable", v)
		}
		if v == 0 {
			return "", nil
		}
		return strconv.Itoa(v), nil
	case Count:
		v := *c.count(r)
		if v < 0 {
			return "", fmt.Errorf("%d is negative; want an integer ≥ 0", v)
		}
		return strconv.FormatInt(v, 10), nil
	case Float:
		v := *c.float(r)
		if math.IsNaN(v) {
			return "", nil
		}
		if math.IsInf(v, 0) {
			return "", fmt.Errorf("%v is not a finite number", v)
		}
		return formatFloat(v), nil
	case Version:
		return strconv.Itoa(SchemaVersion), nil
	}
	return "", fmt.Errorf("column %s has unknown kind %d", c.Name, c.Kind)
}

// parse reads cell into r. Alias columns are read by the caller.
func (c Column) parse(r *Row, cell string) error {
	switch c.Kind {
	case Text:
		if err := c.checkText(cell); err != nil {
			return err
		}
		*c.text(r) = cell
	case Shape:
		if cell == "" {
			*c.shape(r) = 0
			return nil
		}
		v, err := strconv.Atoi(cell)
		if err != nil || v <= 0 {
			return fmt.Errorf("%q is not a positive integer (empty when not applicable)", cell)
		}
		*c.shape(r) = v
	case Count:
		v, err := strconv.ParseInt(cell, 10, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("%q is not an integer ≥ 0", cell)
		}
		*c.count(r) = v
	case Float:
		v, err := parseFloatCell(cell)
		if err != nil {
			return err
		}
		*c.float(r) = v
	case Version:
		v, err := strconv.Atoi(cell)
		if err != nil {
			return fmt.Errorf("%q is not a schema version", cell)
		}
		if v != SchemaVersion {
			return &VersionError{Got: v}
		}
	}
	return nil
}

// formatFloat writes v with the fewest digits that read back to the same
// float64: plain decimals for magnitudes in [1e-4, 1e21), as people write
// them, and an exponent ("1e-07", "2.5e+21") outside that range.
func formatFloat(v float64) string {
	if a := math.Abs(v); a == 0 || (a >= 1e-4 && a < 1e21) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// parseFloatCell reads a Float cell: empty is NaN (not applicable); NaN and
// infinities written out are rejected so that every cell a pandas user sees
// is a plain number or empty.
func parseFloatCell(cell string) (float64, error) {
	if cell == "" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number (empty when not applicable)", cell)
	}
	return v, nil
}

func (c Column) checkText(s string) error {
	if s == "" && c.Required {
		return fmt.Errorf("empty; every row needs a %s", c.Name)
	}
	for _, ch := range s {
		if ch < 0x20 || ch == 0x7f {
			return fmt.Errorf("%q contains a control character", s)
		}
	}
	if c.Allowed != nil && !contains(c.Allowed, s) {
		return fmt.Errorf("%q is not allowed (allowed: %s)", s, quoteAll(c.Allowed))
	}
	return nil
}

// VersionError reports a file written under another schema version.
type VersionError struct{ Got int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("schema_version %d: this trnsim reads version %d only", e.Got, SchemaVersion)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// writeSchemaDoc writes SCHEMA.md, the schema's documentation, from
// Columns. TestSchemaDocUpToDate keeps the committed file in step.
func writeSchemaDoc(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# trnsim results CSV, schema version %d\n\n", SchemaVersion)
	b.WriteString("<!-- Generated from results/schema.go by `go test ./results -run TestSchemaDoc -update`. Do not edit. -->\n\n")
	b.WriteString("One row per (workload, target), written by `trnsim sweep` and `trnsim run -format csv`, joined by\n")
	b.WriteString("`trnsim merge`, gated by `trnsim compare`. The key of a row is (`spec`, `target`).\n\n")
	b.WriteString("Reading rules:\n\n")
	b.WriteString("- Comma-separated, RFC 4180 quoting (`spec` contains commas, so it is quoted), `\\n` line ends, UTF-8, one\n")
	b.WriteString("  header line with these column names, written in this order (readers accept any order).\n")
	b.WriteString("- Every numeric column is either empty or a plain number: no units in cells, no `NaN` or `inf`, no thousands\n")
	b.WriteString("  separators. `pandas.read_csv(path)` gives float64 or int64 columns with no clean-up; empty cells become NaN.\n")
	b.WriteString("- An empty cell means *not applicable* (attention heads of a matmul, engine activity on a GPU, cost where no\n")
	b.WriteString("  price is set); it never means zero.\n")
	b.WriteString("- Numbers are written with the fewest digits that read back to the same float64: plain decimals\n")
	b.WriteString("  (`402653184`, `0.0322`) for magnitudes in [1e-4, 1e21), an exponent (`1e-07`) outside it. The same run\n")
	b.WriteString("  always writes the same bytes.\n")
	fmt.Fprintf(&b, "- The schema changes only with a version bump; `trnsim` reads version %d only.\n\n", SchemaVersion)
	b.WriteString("| # | column | unit | kind | meaning |\n|---|---|---|---|---|\n")
	for i, c := range Columns() {
		kind := c.Kind.String()
		if c.Kind == Text {
			switch {
			case c.Allowed != nil:
				kind = "one of " + strings.Join(quoteDisplay(c.Allowed), ", ")
			case c.Required:
				kind = "text, never empty"
			}
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s |\n", i+1, c.Name, c.Unit, kind, strings.ReplaceAll(c.Doc, "|", "\\|"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func quoteDisplay(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		if x == "" {
			out[i] = "empty"
		} else {
			out[i] = "`" + x + "`"
		}
	}
	return out
}
