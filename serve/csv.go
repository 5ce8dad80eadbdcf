package serve

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
)

// SchemaVersion is the version of the serve CSV schema (serve/SCHEMA.md).
// It changes whenever a column is added, removed, renamed or changes
// meaning.
const SchemaVersion = "serve-2"

// Row is one line of the serve CSV: an estimate (or a configuration that
// does not fit), its cost and, for Trainium rows in a run with a GPU
// system, the break-even against the first GPU system.
type Row struct {
	Est    Estimate
	FitErr *FitError // non-nil: the configuration does not fit; the metrics are empty
	Cost   *Cost
	// Evens are the break-evens against each priced GPU system of the run,
	// in -systems order; the CSV carries the first.
	Evens []BreakEven
}

type column struct {
	name string
	get  func(r Row) string
}

func fnum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func columns() []column {
	i := strconv.Itoa
	ok := func(r Row) bool { return r.FitErr == nil }
	met := func(f func(e Estimate) float64) func(r Row) string {
		return func(r Row) string {
			if !ok(r) {
				return ""
			}
			return fnum(f(r.Est))
		}
	}
	cost := func(f func(c Cost) string) func(r Row) string {
		return func(r Row) string {
			if r.Cost == nil || !ok(r) {
				return ""
			}
			return f(*r.Cost)
		}
	}
	even := func(f func(b BreakEven) string) func(r Row) string {
		return func(r Row) string {
			if len(r.Evens) == 0 || !ok(r) {
				return ""
			}
			return f(r.Evens[0])
		}
	}
	return []column{
		{"schema_version", func(Row) string { return SchemaVersion }},
		{"model", func(r Row) string { return r.Est.Model.Name }},
		{"system", func(r Row) string { return r.Est.System.Name }},
		{"chip", func(r Row) string { return r.Est.System.Chip.Name }},
		{"chips", func(r Row) string { return i(r.Est.System.Chips) }},
		{"device_unit", func(r Row) string {
			if r.Est.System.Chip.Vendor == Trainium {
				return "logical_core"
			}
			return "gpu"
		}},
		{"lnc", func(r Row) string { return i(r.Est.LNC) }},
		{"tp", func(r Row) string { return i(r.Est.TP) }},
		{"ep", func(r Row) string { return i(r.Est.EP) }},
		{"replicas", func(r Row) string { return i(r.Est.System.Devices(r.Est.LNC) / r.Est.TP) }},
		{"batch", func(r Row) string { return i(r.Est.Batch) }},
		{"input_len", func(r Row) string { return i(r.Est.InputLen) }},
		{"output_len", func(r Row) string { return i(r.Est.OutputLen) }},
		{"weights_dtype", func(r Row) string { return r.Est.WeightDType }},
		{"kv_dtype", func(r Row) string { return r.Est.KVDType }},
		{"fits", func(r Row) string { return strconv.FormatBool(ok(r)) }},
		{"hbm_gib_per_device", func(r Row) string { return fnum(r.Est.Fit.Have / gib) }},
		{"weights_gib_per_device", func(r Row) string { return fnum(r.Est.Fit.Weights / gib) }},
		{"kv_gib_per_device", func(r Row) string { return fnum(r.Est.Fit.KV / gib) }},
		{"activations_gib_per_device", func(r Row) string { return fnum(r.Est.Fit.Activations / gib) }},
		{"short_gib_per_device", func(r Row) string {
			if ok(r) {
				return ""
			}
			return fnum(r.FitErr.ShortGiB)
		}},
		{"min_tp_that_fits", func(r Row) string {
			if ok(r) || r.FitErr.MinTP == 0 {
				return ""
			}
			return i(r.FitErr.MinTP)
		}},
		{"max_batch", func(r Row) string { return i(r.Est.Fit.MaxBatch) }},
		{"prefill_kernel_ms", met(func(e Estimate) float64 { return e.Prefill.KernelUs / 1e3 })},
		{"prefill_collective_ms", met(func(e Estimate) float64 { return e.Prefill.CollectiveUs / 1e3 })},
		{"prefill_exposed_collective_ms", met(func(e Estimate) float64 { return e.Prefill.ExposedCollectiveUs / 1e3 })},
		{"prefill_dma_contention_ms", met(func(e Estimate) float64 { return e.Prefill.ContentionUs / 1e3 })},
		{"decode_context", met(func(e Estimate) float64 { return float64(e.DecodeCtx) })},
		{"decode_kernel_ms", met(func(e Estimate) float64 { return e.Decode.KernelUs / 1e3 })},
		{"decode_collective_ms", met(func(e Estimate) float64 { return e.Decode.CollectiveUs / 1e3 })},
		{"decode_exposed_collective_ms", met(func(e Estimate) float64 { return e.Decode.ExposedCollectiveUs / 1e3 })},
		{"decode_dma_contention_ms", met(func(e Estimate) float64 { return e.Decode.ContentionUs / 1e3 })},
		{"overhead_ms_per_step", func(r Row) string { return fnum(r.Est.OverheadUs / 1e3) }},
		{"ttft_ms", met(func(e Estimate) float64 { return e.TTFTms })},
		{"tpot_ms", met(func(e Estimate) float64 { return e.TPOTms })},
		{"e2e_ms", met(func(e Estimate) float64 { return e.E2Ems })},
		{"output_tok_s_system", met(func(e Estimate) float64 { return e.OutTokS })},
		{"output_tok_s_per_chip", met(func(e Estimate) float64 { return e.OutTokSChp })},
		{"tok_s_per_user", met(func(e Estimate) float64 { return e.UserTokS })},
		{"price_usd_per_instance_hour", cost(func(c Cost) string { return fnum(c.Price.USDPerHour) })},
		{"price_usd_per_chip_hour", cost(func(c Cost) string { return fnum(c.USDPerChipHour) })},
		{"price_basis", cost(func(c Cost) string { return c.Price.Basis })},
		{"price_date", cost(func(c Cost) string { return c.Price.Date })},
		{"usd_per_m_output_tokens", cost(func(c Cost) string { return fnum(c.USDPerMOut) })},
		{"usd_per_m_input_tokens", cost(func(c Cost) string { return fnum(c.USDPerMIn) })},
		{"breakeven_vs", even(func(b BreakEven) string { return b.GPU })},
		{"breakeven_usd_per_chip_hour", even(func(b BreakEven) string { return fnum(b.EvenUSDPerChipHour) })},
		{"cheaper30_usd_per_chip_hour", even(func(b BreakEven) string { return fnum(b.Cheaper30USDPerChipHour) })},
		{"cheaper40_usd_per_chip_hour", even(func(b BreakEven) string { return fnum(b.Cheaper40USDPerChipHour) })},
	}
}

// Header returns the CSV column names.
func Header() []string {
	var h []string
	for _, c := range columns() {
		h = append(h, c.name)
	}
	return h
}

// WriteCSV writes rows under the versioned header.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cols := columns()
	if err := cw.Write(Header()); err != nil {
		return err
	}
	for _, r := range rows {
		rec := make([]string, len(cols))
		for j, c := range cols {
			rec[j] = c.get(r)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
