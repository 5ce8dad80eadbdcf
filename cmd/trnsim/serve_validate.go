package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/trnsim/trnsim/serve"
)

// isE2EFile reports whether path's header is the end-to-end serving schema
// (results/measured/e2e*.csv), which validate hands to validateE2EFile.
func isE2EFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h, err := csv.NewReader(bufio.NewReader(f)).Read()
	return err == nil && serve.IsE2EHeader(h)
}

// validateE2EFile predicts each end-to-end row with `trnsim serve`'s model
// and default overheads, prints every row and the MAPE per (target, metric
// family), and writes the rows with predictions to out when set.
func validateE2EFile(path, out string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("validate: %v", err)
	}
	defer f.Close()
	rows, err := serve.ReadE2E(bufio.NewReader(f), path)
	if err != nil {
		return usagef("validate: %v", err)
	}
	ps := serve.ValidateE2E(rows, serve.NewEstimator(), -1)
	tw := tabwriter.NewWriter(stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "line\ttarget\tmodel\tbatch\tin/out\ttp\tmetric\tmeasured\tpredicted\terror %\t")
	for _, p := range ps {
		r := p.Row
		b := "-"
		if r.Batch > 0 {
			b = fmt.Sprint(r.Batch)
		}
		pred, e := "-", p.Detail
		if p.Predicted == p.Predicted { // not NaN
			pred, e = fmt.Sprintf("%.4g", p.Predicted), fmt.Sprintf("%+.0f", p.ErrPct)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%.4g %s\t%s\t%s\t\n", r.Line, r.Target, r.Model, b, r.In, r.Out, r.TP, r.Metric, r.Value, r.Unit, pred, e)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nMAPE by target and metric (serving overhead: the calibrated default per vendor):")
	for _, g := range serve.E2EGroups(ps) {
		fmt.Fprintf(stdout, "  %-5s %-10s %3d rows  %5.1f%%\n", g.Target, g.Family, g.N, g.MAPE)
	}
	if out != "" {
		if err := writeOutput(out, stdout, func(w io.Writer) error { return serve.WriteE2ECSV(w, ps) }); err != nil {
			return err
		}
	}
	return nil
}
