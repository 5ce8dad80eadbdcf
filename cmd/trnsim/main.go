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
	"syscall"
	"unicode/utf8"
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
		{"tune", "WORKLOAD|-suite NAME -target T1,T2 [-j N] [-budget N] [-top K] [-csv ALL.csv] [-o tuned.json]",
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

// internalError is a failure that is not the user's input: a bug (a
// recovered panic), a full disk, an I/O error. Exit status 3.
type internalError struct{ err error }

func (e *internalError) Error() string { return "internal error: " + e.err.Error() }

func (e *internalError) Unwrap() error { return e.err }

func main() {
	watchSignals(os.Stderr)
	os.Exit(exitCode(runRecovered(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// runRecovered is run with a panic turned into an internal error (exit
// status 3) instead of a Go crash.
func runRecovered(args []string, stdout, stderr io.Writer) error {
	return recovered(func() error { return run(args, stdout, stderr) })
}

// recovered calls f and turns a panic in it into an internalError.
func recovered(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &internalError{fmt.Errorf("%v (a bug in trnsim; please report it with the command line)", r)}
		}
	}()
	return f()
}

// exitCode maps run's error to an exit status (see exitStatusDoc),
// printing the message: 0 success, 1 a failed check or regression, 2 bad
// input, 3 an internal error.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isInternal(err) {
		var ie *internalError
		if !errors.As(err, &ie) {
			err = &internalError{err}
		}
		fmt.Fprintln(stderr, "trnsim:", boundedMessage(err))
		return exitInternal
	}
	fmt.Fprintln(stderr, "trnsim:", boundedMessage(err))
	// Everything a user can type or load is bad input unless a verb says
	// otherwise.
	return exitBadInput
}

// maxMessage bounds the bytes of an error line: an error quoting a
// 100 KB workload spec stays one readable line.
const maxMessage = 1024

// boundedMessage is err's message on one line of at most about
// maxMessage bytes, cut at a rune boundary with the count of bytes left
// out.
func boundedMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", msg[:cut], len(msg)-cut)
}

// isInternal reports whether err is an internal error: an internalError,
// or a system failure no input could fix (a full disk or quota, an I/O
// error, memory exhausted).
func isInternal(err error) bool {
	var ie *internalError
	return errors.As(err, &ie) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENOMEM)
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// run is the whole command, testable: it never calls os.Exit. `trnsim
// VERB -h` and `trnsim help VERB` print the verb's usage.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || (args[0] == "help" && len(args) == 1) {
		printHelp(stdout)
		return nil
	}
	if args[0] == "help" {
		if len(args) > 2 {
			return usagef("help: want one VERB, got %q", strings.Join(args[1:], " "))
		}
		args = []string{args[1], "-h"}
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			err := v.run(args[1:], stdout, stderr)
			var hr *helpRequested
			if errors.As(err, &hr) {
				printVerbHelp(stdout, v, hr.fs)
				return nil
			}
			if err != nil && len(args) == 2 && isHelpFlag(args[1]) {
				// A verb with subcommands (hw show) parses its flags after
				// the subcommand: its help without the flags.
				printVerbHelp(stdout, v, nil)
				return nil
			}
			return err
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
	fmt.Fprintln(w, "trnsim list shows every kernel's parameters; trnsim help VERB (or trnsim VERB -h) explains a verb.")
	fmt.Fprintln(w, "\n"+exitStatusDoc)
}
