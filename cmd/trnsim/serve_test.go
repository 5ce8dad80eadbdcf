package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/serve"
)

func TestServeTableAndCSV(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.csv")
	var so, se bytes.Buffer
	err := run([]string{"serve", "-model", "llama3-8b", "-systems", "trn2.48xlarge,p5.48xlarge", "-tp", "8,1",
		"-batch", "1,8", "-in", "128", "-out", "64", "-o", out, "-plot", filepath.Join(dir, "p.svg")}, &so, &se)
	if err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	for _, want := range []string{"trn2.48xlarge", "p5.48xlarge", "capacity-block", "on-demand", "break-even", "30% cheaper"} {
		if !strings.Contains(so.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, so.String())
		}
	}
	for _, f := range []string{"p.svg", "p-cost.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("chart %s: %v", f, err)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "schema_version,") || !strings.HasPrefix(lines[1], "serve-2,llama3-8b,trn2.48xlarge") {
		t.Errorf("CSV:\n%s", b)
	}
}

func TestServeBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-model", "llama9"},
		{"-systems", "p9.48xlarge"},
		{"-tp", "8"},                              // two systems, one degree
		{"-tp", "7,8"},                            // does not divide the heads
		{"-in", "128,256", "-out", "64"},          // unpaired lengths
		{"-price", "trn2.48xlarge=2.2"},           // no unit
		{"-price", "p4d.24xlarge=2.2/chip-hour"},  // not in -systems
		{"-weights", "mxfp4"},                     // dense model, no MXFP4 on these chips
		{"-model", "llama3.1-405b", "-tp", "1,1"}, // nothing fits
		{"-lnc", "3"},
		{"-format", "svg"},
		{"-plot", "chart.pdf"},
	} {
		var so, se bytes.Buffer
		err := run(append([]string{"serve", "-batch", "1", "-in", "128", "-out", "16"}, args...), &so, &se)
		if code := exitCode(err, &se); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%v)", args, code, err)
		}
	}
}

func TestValidateE2EFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "v.csv")
	var so, se bytes.Buffer
	if err := run([]string{"validate", "../../results/measured/e2e_measured.csv", "-o", out}, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	if !strings.Contains(so.String(), "trn1  tpot") {
		t.Errorf("no MAPE line for trn1 tpot:\n%s", so.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 19 || !strings.HasSuffix(lines[0], ",predicted,error_pct,detail") {
		t.Errorf("validate CSV: %d lines, header %q", len(lines), lines[0])
	}
}

// TestServeHelpNamesEverything: -h lists every built-in model and system.
func TestServeHelpNamesEverything(t *testing.T) {
	var so, se bytes.Buffer
	if err := run([]string{"serve", "-h"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	for _, m := range serve.Models() {
		if !strings.Contains(so.String(), m.Name) {
			t.Errorf("-h does not name model %s", m.Name)
		}
	}
	for _, s := range serve.Systems() {
		if !strings.Contains(so.String(), s.Name) {
			t.Errorf("-h does not name system %s", s.Name)
		}
	}
	if !strings.Contains(so.String(), "chip-hour or instance-hour") {
		t.Error("-h does not state the price unit")
	}
}
