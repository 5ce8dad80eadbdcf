package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/trnsim/trnsim/bench"
	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/results"
	"github.com/trnsim/trnsim/serve"
)

// The headline `make bench` opens with, and the README's first screen
// shows (TestREADMEHeadline keeps the two equal): one Trainium chip against
// one GPU on the representative suite, and one instance against another
// serving a model.
const (
	headlineChip, headlineGPU = "trn2-chip", "h100"
	headlineTrn, headlineGPUs = "trn2.48xlarge", "p5.48xlarge"
	headlineModel             = "llama3-70b"
	headlineIn, headlineOut   = 2048, 2048
	// headlineBasis prices both instances on the one basis both have rows
	// for (prices/prices.csv: trn2.48xlarge has no on-demand SKU).
	headlineBasis = "capacity-block"
)

// headlineBatches are the served batch sizes of the instance comparison.
var headlineBatches = []int{1, 16, 64}

// printHeadline writes the two comparisons, lines without trailing blanks.
// Every figure is simulated; the prices and their basis come from
// prices/prices.csv.
func printHeadline(w io.Writer) error {
	var buf strings.Builder
	if err := writeHeadline(&buf); err != nil {
		return err
	}
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(l, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func writeHeadline(w io.Writer) error {
	s, err := bench.SuiteByName("representative")
	if err != nil {
		return err
	}
	ws, _, err := s.Workloads(kernels.Builtin())
	if err != nil {
		return err
	}
	targets := []string{headlineChip, headlineGPU}
	rows, err := bench.Sweep(context.Background(), ws, targets, bench.Options{Jobs: 1})
	if err != nil {
		return err
	}
	byKey := map[results.Key]results.Row{}
	for _, r := range rows {
		byKey[results.Key{Spec: r.Spec, Target: r.Target}] = r
	}
	chip, err := bench.TargetByName(headlineChip, "")
	if err != nil {
		return err
	}
	gpu, err := bench.TargetByName(headlineGPU, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "One chip against one GPU: %s (8 NeuronCores as 4 logical cores, the workload split over them) vs %s, simulated µs per call\n", headlineChip, headlineGPU)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\t%s µs\t%s µs\ttime ratio\tcost ratio\t\n", headlineChip, headlineGPU)
	for _, p := range ws {
		a, okA := byKey[results.Key{Spec: p.String(), Target: headlineChip}]
		b, okB := byKey[results.Key{Spec: p.String(), Target: headlineGPU}]
		if !okA || !okB {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t%.2f\t\n", shortSpec(p.String()), a.TimeUs, b.TimeUs, a.TimeUs/b.TimeUs, a.CostPerCallUSD/b.CostPerCallUSD)
	}
	tw.Flush()
	fmt.Fprintf(w, "ratios are %s / %s (below 1: Trainium faster or cheaper); cost at %s and %s\n", headlineChip, headlineGPU, priceLine(chip), priceLine(gpu))
	cheaper := 0
	for _, p := range ws {
		a := byKey[results.Key{Spec: p.String(), Target: headlineChip}]
		b := byKey[results.Key{Spec: p.String(), Target: headlineGPU}]
		if a.CostPerCallUSD < b.CostPerCallUSD {
			cheaper++
		}
	}
	fmt.Fprintf(w, "answer: per call, one %s is cheaper than one %s on %d of %d workloads\n\n", headlineChip, headlineGPU, cheaper, len(ws))
	return printServedHeadline(w)
}

// priceLine states a target's price with its unit and basis.
func priceLine(t bench.Target) string {
	p := t.Price()
	if !p.Known() {
		return t.Name() + ": no price"
	}
	return fmt.Sprintf("%.3f USD per %s-hour (%s, %s)", p.PerUnitHour, bench.RowUnit(t), p.From.Basis, p.From.Date)
}

// bestTP serves m on s at batch b with the tensor-parallel degree, among
// one instance's devices over 1, 2, 4 and 8 (data-parallel replicas fill
// the rest), that fits and gives the most output tokens per second.
func bestTP(est *serve.Estimator, m serve.Model, s serve.System, b int) (serve.Estimate, error) {
	lnc := s.Chip.DefaultLNC
	all := s.InstanceChips * s.Chip.DevicesPerChip(lnc)
	var best serve.Estimate
	var firstErr error
	for _, div := range []int{1, 2, 4, 8} {
		if all%div != 0 {
			continue
		}
		o := serve.Options{Model: m, System: s, LNC: lnc, TP: all / div, Batch: b,
			InputLen: headlineIn, OutputLen: headlineOut, WeightDType: "bf16", KVDType: "bf16",
			OverheadUs: serve.DefaultOverheadUs(s.Chip.Vendor), PrefillChunk: 8192}
		e, err := est.Run(o)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if e.OutTokS > best.OutTokS {
			best = e
		}
	}
	if best.TP == 0 {
		return best, firstErr
	}
	return best, nil
}

// printServedHeadline compares the two instances serving the headline
// model at each headline batch.
func printServedHeadline(w io.Writer) error {
	m, err := serve.ModelByName(headlineModel)
	if err != nil {
		return err
	}
	est := serve.NewEstimator()
	fmt.Fprintf(w, "One instance against one instance: %s served (bf16 weights and KV cache, %d input / %d output tokens, static batch,\n"+
		"batch per replica; the TP among one instance's devices / 1, 2, 4, 8 with the most tokens/s, replicas on the rest)\n",
		headlineModel, headlineIn, headlineOut)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "batch\tsystem\tTP\tTTFT ms\tTPOT ms\tout tok/s/chip\tUSD/M out tok\tbreak-even trn2 USD/chip-h\t\n")
	var notes []string
	var rel []float64 // trn2's cost per output token over p5's, per batch
	for _, b := range headlineBatches {
		var trn, gpu serve.Estimate
		var trnC, gpuC serve.Cost
		for i, name := range []string{headlineTrn, headlineGPUs} {
			s, err := serve.SystemByName(name)
			if err != nil {
				return err
			}
			e, err := bestTP(est, m, s, b)
			if err != nil {
				return fmt.Errorf("headline %s batch %d: %w", name, b, err)
			}
			p, ok := s.PriceFor(headlineBasis)
			if !ok {
				return fmt.Errorf("headline %s: no %s price", name, headlineBasis)
			}
			c := serve.CostOf(e, p)
			if i == 0 {
				trn, trnC = e, c
			} else {
				gpu, gpuC = e, c
			}
			if b == headlineBatches[0] {
				notes = append(notes, fmt.Sprintf("%s %.2f USD/instance-hour = %.3f USD/chip-hour (%s, %s)", name, p.USDPerHour, s.PerChipHour(p), p.Basis, p.Date))
			}
		}
		trnP, _ := trn.System.PriceFor(headlineBasis)
		be := serve.BreakEvenOf(trn, gpu, gpuC, trnP, true)
		rel = append(rel, trnC.USDPerMOut/gpuC.USDPerMOut)
		for _, r := range []struct {
			e    serve.Estimate
			c    serve.Cost
			even string
		}{{trn, trnC, fmt.Sprintf("%.3f (now %+.0f%%)", be.EvenUSDPerChipHour, -be.TrnCheaperPct)}, {gpu, gpuC, ""}} {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%.0f\t%.1f\t%.0f\t%.2f\t%s\t\n", b, r.e.System.Name, r.e.TP, r.e.TTFTms, r.e.TPOTms, r.e.OutTokSChp, r.c.USDPerMOut, r.even)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "prices: %s\n", strings.Join(notes, "; "))
	lo, hi := rel[0], rel[0]
	for _, r := range rel {
		lo, hi = min(lo, r), max(hi, r)
	}
	pct := func(r float64) float64 { return math.Abs(r-1) * 100 }
	var verdict string
	switch {
	case lo >= 1:
		verdict = fmt.Sprintf("costs %.0f–%.0f %% more", pct(lo), pct(hi))
	case hi < 1:
		verdict = fmt.Sprintf("costs %.0f–%.0f %% less", pct(hi), pct(lo))
	default:
		verdict = fmt.Sprintf("costs from %.0f %% less to %.0f %% more", pct(lo), pct(hi))
	}
	fmt.Fprintf(w, "answer: serving %s, a %s %s per output token than a %s at batch %d–%d (AWS claims 30–40 %% less)\n",
		headlineModel, headlineTrn, verdict, headlineGPUs, headlineBatches[0], headlineBatches[len(headlineBatches)-1])
	fmt.Fprintf(w, "break-even: the trn2 chip-hour price at which its USD per million output tokens equals p5's; \"now\" is trn2's cost\n"+
		"relative to p5's at the price above (negative: cheaper). TP counts logical NeuronCores (LNC=2) on trn2 (64 per\n"+
		"instance), GPUs on p5 (8).\n")
	return nil
}
