// Command trnsim simulates matmul and attention kernels on Trainium-like
// NeuronCores and CUDA-like GPUs and compares them.
//
// Usage: trnsim VERB [flags] [args]; run "trnsim help" for the verbs.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// verb is one subcommand.
type verb struct {
	name string
	args string // synopsis of the arguments
	doc  string // what it does, one line
	run  func(args []string, stdout, stderr io.Writer) error
}

// verbs returns the subcommands in the order help lists them.
func verbs() []verb {
	return []verb{
		{"list", "", "kernels with their parameters and defaults; targets", cmdList},
		{"asm", "WORKLOAD -target T", "print the NeuronCore program as text assembly", cmdAsm},
		{"check", "WORKLOAD -target T", "run functionally and compare with the float64 reference", cmdCheck},
		{"run", "WORKLOAD|-asm PROG.s -target T1,T2 [-hw F] [-price T=USD] [-format csv] [-o F] [-check] [-profile P] [-trace T]",
			"time a workload (or a text-assembly program) on several targets side by side", cmdRun},
		{"bench", "[-suite representative] [-targets T1,T2] [-o results/bench.csv]",
			"the main job: a suite on NeuronCores and GPUs side by side", cmdBench},
		{"sweep", "-suite NAME -o FILE.csv [-targets T1,T2] [-shard i/n] [-j N]", "run a suite on targets into a results CSV", cmdSweep},
		{"tune", "WORKLOAD -target T1,T2 [-j N] [-budget N] [-top K] [-csv ALL.csv] [-o tuned.json]",
			"search a kernel's tunable parameters (tiles, buffers, splits, variants; GPU plans) for the fastest configuration", cmdTune},
		{"merge", "-o OUT.csv SHARD.csv ...", "join the shards of a sweep", cmdMerge},
		{"compare", "BASE NEW [-threshold 1%]", "the regression gate: exit 1 when a simulated time got worse", cmdCompare},
		{"validate", "FILE.csv [-o OUT.csv] [-hw HW.json]", "predict measured rows: error per row, MAPE per (target, kernel, variant)", cmdValidate},
		{"hw", "show TARGET [-hw F]", "print a target's hardware configuration as the JSON -hw accepts", cmdHW},
		{"serve", "-model M -systems S1,S2 [-tp N1,N2] [-batch B1,B2] [-in N] [-out N] [-price S=USD/chip-hour]", "a model served on whole systems: TTFT, TPOT, tokens/s, $ per million tokens, break-even price", cmdServe},
		{"calibrate", "MEASURED.csv -target T -o T-fitted.json [-params P1,P2] [-folds 5]", "fit bounded hardware parameters of a target to measured rows (log-time error, k-fold cross-validated); writes a -hw file", cmdCalibrate},
		{"plot", "FILE.csv -o CHART.svg|png [-kind bars|roofline] [-metric M]", "chart results side by side, or a roofline", cmdPlot},
	}
}

// usageError is an error in what the user typed: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit status other than 2 without a message of its
// own (e.g. 1 for a failed check or a regression).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps run's error to an exit status, printing the message:
// 0 success, 1 a failed check or regression, 2 bad input.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "trnsim:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	// Everything a user can type or load is bad input unless a verb says
	// otherwise.
	return 2
}

// run is the whole command, testable: it never calls os.Exit.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return nil
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			return v.run(args[1:], stdout, stderr)
		}
	}
	var names []string
	for _, v := range verbs() {
		names = append(names, v.name)
	}
	sort.Strings(names)
	return usagef("unknown verb %q (allowed: %s)", args[0], strings.Join(names, ", "))
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "trnsim: cycle-approximate NeuronCore and GPU kernel simulator")
	fmt.Fprintln(w, "\nusage: trnsim VERB [flags] [args]")
	for _, v := range verbs() {
		fmt.Fprintf(w, "\n  %s\n      %s\n", strings.TrimSpace("trnsim "+v.name+" "+v.args), v.doc)
	}
	fmt.Fprintln(w, "\nA WORKLOAD is kernel:param=value,..., e.g. matmul:M=512,N=1024,K=384,dtype=bf16;")
	fmt.Fprintln(w, "trnsim list shows every kernel's parameters. Bad input exits with status 2.")
}
