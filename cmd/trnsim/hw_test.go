package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trnsim/trnsim/bench"
)

// TestHWShowRoundTrip: what `hw show T` prints, passed back with -hw,
// gives exactly the preset's configuration, for every target.
func TestHWShowRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range bench.AllTargets() {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCLI("hw", "show", name)
			if code != 0 || stderr != "" {
				t.Fatalf("hw show %s: exit %d, stderr %q", name, code, stderr)
			}
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			preset, err := bench.TargetByName(name, "")
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := bench.TargetByName(name, file)
			if err != nil {
				t.Fatalf("-hw with hw show's output: %v", err)
			}
			if !reflect.DeepEqual(configOf(preset), configOf(loaded)) {
				t.Errorf("round trip changed the configuration:\n got %+v\nwant %+v", configOf(loaded), configOf(preset))
			}
			// The edited copy applies: hw show -hw shows the override.
			cfgName := name // a chip target shows its cores' configuration
			if c, ok := preset.(*bench.ChipTarget); ok {
				cfgName = c.Core().Name()
			}
			edited := strings.Replace(stdout, `"name": "`+cfgName+`",`, `"name": "`+cfgName+`", "launch_us": 7, "semaphore_cycles": 99,`, 1)
			field := "semaphore_cycles"
			if _, ok := preset.(*bench.GPUTarget); ok {
				edited = strings.Replace(edited, `, "semaphore_cycles": 99`, ``, 1)
				field = "launch_us"
			} else {
				edited = strings.Replace(edited, ` "launch_us": 7,`, ``, 1)
			}
			// The file now names the field twice: refused, naming it.
			os.WriteFile(file, []byte(edited), 0o644)
			_, stderr, code = runCLI("hw", "show", name, "-hw", file)
			if code != 2 || !strings.Contains(stderr, field+": given twice") || !strings.Contains(stderr, file) {
				t.Errorf("duplicated field: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// hwCorpus is the bad -hw input the command line must refuse with exit
// status 2 and one line naming the file and the field: each entry is a
// NeuronCore (trn2) and a GPU (h100) document with what the error says.
var hwCorpus = []struct {
	name      string
	trn2, gpu string
	want      string
}{
	{"null", `null`, `null`, "want a JSON object"},
	{"array", `[1]`, `[1]`, "want a JSON object"},
	{"string", `"trn2"`, `"h100"`, "want a JSON object"},
	{"empty", ``, ``, "end of the document"},
	{"truncated", `{"tensor_ghz": 2`, `{"sms": 2`, "end of the document"},
	{"trailing brace", `{}}`, `{}}`, "trailing data"},
	{"second object", `{} {}`, `{} {}`, "trailing data"},
	{"trailing garbage", `{"lanes": 128} x`, `{"sms": 100} x`, "trailing data"},
	{"wrong case", `{"TENSOR_GHZ": 3}`, `{"SMs": 100}`, "unknown field"},
	{"unknown key", `{"tensor_gz": 3}`, `{"smz": 100}`, "unknown field"},
	{"null value", `{"tensor_ghz": null}`, `{"sms": null}`, "null is not a value"},
	{"duplicate key", `{"lanes": 128, "lanes": 64}`, `{"sms": 100, "sms": 90}`, "given twice"},
	{"rename", `{"name": "trn3"}`, `{"name": "b200"}`, "cannot rename"},
	{"tiny rate", `{"dma_peak_bytes_per_ns": 1e-300}`, `{"hbm_gbps": 1e-300}`, "plausible range"},
	{"MaxInt64 cycles", `{"semaphore_cycles": 9223372036854775807}`, `{"max_ctas_per_sm": 9223372036854775807}`, "plausible range"},
	{"int overflow", `{"semaphore_cycles": 9223372036854775808}`, `{"sms": 9223372036854775808}`, "whole number"},
	{"float overflow", `{"dge_ns": 1e999}`, `{"launch_us": 1e999}`, "out of range"},
	{"negative", `{"dma_start_latency_ns": -1}`, `{"launch_us": -1}`, "plausible range"},
	{"zero", `{"tensor_ghz": 0}`, `{"sms": 0}`, "plausible range"},
	{"huge", `{"hbm_bytes_per_ns": 1e300}`, `{"l2_latency_cycles": 1e300}`, "plausible range"},
	{"nan string", `{"tensor_ghz": "NaN"}`, `{"hbm_gbps": "NaN"}`, "want a number"},
	{"fraction", `{"dma_engines": 15.5}`, `{"sms": 131.5}`, "whole number"},
	{"old price field", `{"price_usd_per_chip_hour": 1}`, `{"price_usd_per_hour": 1}`, "unknown field"},
}

func TestHWBadInputCorpus(t *testing.T) {
	dir := t.TempDir()
	measured := filepath.Join(dir, "m.csv")
	os.WriteFile(measured, []byte("target,kernel,M,N,K,measured_us\ntrn2,matmul,128,128,128,10\nh100,matmul,128,128,128,10\n"), 0o644)
	for _, tc := range hwCorpus {
		for _, side := range []struct{ target, doc string }{{"trn2", tc.trn2}, {"h100", tc.gpu}} {
			t.Run(tc.name+"/"+side.target, func(t *testing.T) {
				file := filepath.Join(dir, tc.name+"-"+side.target+".json")
				if err := os.WriteFile(file, []byte(side.doc), 0o644); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, "out.csv")
				var runErr string
				for _, args := range [][]string{
					{"run", "matmul:M=128,N=128,K=128", "-target", side.target, "-hw", file, "-o", out},
					{"validate", measured, "-hw", side.target + "=" + file, "-o", out},
					{"sweep", "-suite", "baseline", "-targets", side.target, "-hw", file, "-o", out},
					{"hw", "show", side.target, "-hw", file},
				} {
					_, stderr, code := runCLI(args...)
					if code != 2 || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
						t.Errorf("%s: exit %d, stderr %q; want 2 and one line", args[0], code, stderr)
					}
					if !strings.Contains(stderr, file) || !strings.Contains(stderr, tc.want) {
						t.Errorf("%s: stderr %q does not name the file and %q", args[0], stderr, tc.want)
					}
					if _, err := os.Stat(out); err == nil {
						t.Errorf("%s: %s written on bad input", args[0], out)
					}
					// validate -hw errors exactly as run -hw.
					if args[0] == "run" {
						runErr = stderr
					} else if args[0] == "validate" && stderr != runErr {
						t.Errorf("validate -hw error %q differs from run -hw's %q", stderr, runErr)
					}
				}
			})
		}
	}
}

func TestPriceAndTargetListsRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	w := "matmul:M=128,N=128,K=128"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", w, "-target", "h100", "-price", "h100=NaN"}, "h100=NaN: NaN USD per hour: want a positive price"},
		{[]string{"run", w, "-target", "h100", "-price", "h100=Inf"}, "want a positive price"},
		{[]string{"run", w, "-target", "h100", "-price", "h100=-4"}, "want a positive price"},
		{[]string{"run", w, "-target", "h100", "-price", "h100=0"}, "want a positive price"},
		{[]string{"run", w, "-target", "h100", "-price", "h100=1e9"}, "at most 1e6"},
		{[]string{"run", w, "-target", "h100", "-price", "h100=cheap"}, "not a number"},
		{[]string{"run", w, "-target", "h100", "-price", "trn2=1"}, "trn2 is not among -target h100"},
		{[]string{"run", w, "-target", "trn2,trn2"}, "trn2 listed twice"},
		{[]string{"bench", "-targets", "trn2,trn2", "-o", out}, "trn2 listed twice"},
		{[]string{"bench", "-targets", "trn2,,h100", "-o", out}, "empty name"},
		{[]string{"sweep", "-suite", "baseline", "-targets", "h100,trn2,h100", "-o", out}, "h100 listed twice"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantUsageError(t, tc.args, tc.want, out)
		})
	}
}

// TestPriceOverride: -price replaces the table's row; the per-core cost of
// a NeuronCore follows from a chip price shared by its cores.
func TestPriceOverride(t *testing.T) {
	stdout, stderr, code := runCLI("run", "matmul:M=128,N=128,K=128", "-target", "trn1,h100", "-price", "h100=3600", "-format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{",3600,", ",0.671875,"} { // 21.50/16 per chip, 2 cores per chip
		if !strings.Contains(stdout, want) {
			t.Errorf("csv lacks %q:\n%s", want, stdout)
		}
	}
}

func configOf(t bench.Target) any {
	switch t := t.(type) {
	case *bench.NeuronTarget:
		return t.Config()
	case *bench.GPUTarget:
		return t.Config()
	case *bench.ChipTarget:
		return t.Core().Config()
	}
	return nil
}

func TestHWUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "none")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hw"}, "hw: want `trnsim hw show TARGET"},
		{[]string{"hw", "list"}, "hw: want `trnsim hw show TARGET"},
		{[]string{"hw", "show"}, "want one TARGET"},
		{[]string{"hw", "show", "trn2", "h100"}, "want one TARGET"},
		{[]string{"hw", "show", "tpu"}, `unknown target "tpu"`},
		{[]string{"hw", "show", "trn2", "-hw", out}, "hardware config " + out},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { wantUsageError(t, tc.args, tc.want, out) })
	}
}
