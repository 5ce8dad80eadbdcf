package main

import (
	"io"
	"strings"

	"github.com/trnsim/trnsim/results"
)

// cmdPlot draws a results CSV as a chart: the side-by-side bar chart
// (targets × workloads, one panel per kernel) or a roofline, as SVG or PNG
// by the extension of -o. The chart file is written atomically; on any error nothing is
// written and the status is 2.
func cmdPlot(args []string, stdout, _ io.Writer) error {
	fs := newFlags("plot")
	out := fs.String("o", "", "chart file: FILE.svg or FILE.png")
	kind := fs.String("kind", "bars", "bars (side by side) or roofline")
	metric := fs.String("metric", "time_us", "bar height: "+strings.Join(results.PlotMetrics(), ", "))
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("plot: want one results CSV file, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("plot: -o FILE.svg or -o FILE.png is required")
	}
	format, err := results.PlotFormat(*out)
	if err != nil {
		return usagef("plot: -o %v", err)
	}
	if *kind != "bars" && *kind != "roofline" {
		return usagef("plot: -kind %q: allowed: bars, roofline", *kind)
	}
	if err := checkOutput("-o", *out, pos[0]); err != nil {
		return err
	}
	rows, err := results.ReadCSVFile(pos[0])
	if err != nil {
		return usagef("plot: %v", err)
	}
	if len(rows) == 0 {
		return usagef("plot: %s: no rows to draw", pos[0])
	}
	var chart *results.Chart
	if *kind == "bars" {
		chart, err = results.BarChart(rows, *metric)
	} else {
		chart, err = results.RooflineChart(rows)
	}
	if err == nil {
		err = chart.Check(format)
	}
	if err != nil {
		return usagef("plot: %s: %v", pos[0], err)
	}
	return writeOutput(*out, stdout, func(w io.Writer) error { return chart.Write(w, format) })
}
