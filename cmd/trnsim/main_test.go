package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/trnsim/trnsim/kernels"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

// runCLI runs the command line and returns stdout, stderr and the exit
// status main would use.
func runCLI(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// wantUsageError runs the command line args and checks that it is refused
// as bad input: exit status 2, want in the error, nothing on standard output
// and no file written at out.
func wantUsageError(t *testing.T, args []string, want, out string) {
	t.Helper()
	stdout, stderr, code := runCLI(args...)
	if code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	if stdout != "" {
		t.Errorf("stdout %q on bad input", stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written on bad input", out)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	tests := []struct {
		args []string
		want []string // substrings of the one-line error
	}{
		{[]string{"frobnicate"}, []string{`unknown verb "frobnicate"`, "allowed:", "check"}},
		{[]string{"asm", "nosuch:M=1"}, []string{`unknown kernel "nosuch"`, "allowed:", "matmul"}},
		{[]string{"asm", "matmul:Q=1"}, []string{`no parameter "Q"`, "allowed: M, N, K"}},
		{[]string{"asm", "matmul:M=abc"}, []string{`M="abc"`, "positive integer"}},
		{[]string{"asm", "matmul:M=-3"}, []string{`M="-3"`, "positive integer"}},
		{[]string{"asm", "matmul:dtype=int4"}, []string{`dtype="int4"`, "allowed:"}},
		{[]string{"asm", "matmul:M"}, []string{`"M" is not param=value`}},
		{[]string{"asm", "matmul:M=1", "-target", "trn9"}, []string{`unknown NeuronCore target "trn9"`, "trn1, trn2, trn3"}},
		{[]string{"asm", "-bogus"}, []string{"flag provided but not defined"}},
		{[]string{"asm"}, []string{"want one WORKLOAD"}},
		{[]string{"check", "matmul:M=1,M=2"}, []string{"given twice"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(tc.args...)
			if code != 2 {
				t.Fatalf("exit status %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing on bad input", stdout)
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
}

func TestListNamesKernelsAndTargets(t *testing.T) {
	stdout, _, code := runCLI("list")
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, w := range []string{"matmul", "M=4096", "trn1", "trn2", "trn3"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("list output lacks %q", w)
		}
	}
}

// TestVerbHelp: `trnsim VERB -h`, `--help` and `trnsim help VERB` print
// the verb's usage, every flag, examples and the exit statuses, exit 0
// (they used to print "flag: help requested" and exit 2).
func TestVerbHelp(t *testing.T) {
	for _, v := range verbs() {
		t.Run(v.name, func(t *testing.T) {
			err := v.run([]string{"-h"}, io.Discard, io.Discard)
			var hr *helpRequested
			if !errors.As(err, &hr) {
				// A verb that prints its own help (serve) or takes a
				// subcommand first (hw show): -h and help VERB exit 0 with
				// the verb's usage, the same for both.
				a, _, code1 := runCLI(v.name, "-h")
				b, _, code2 := runCLI("help", v.name)
				if code1 != 0 || code2 != 0 || a != b || !strings.Contains(a, "trnsim "+v.name) {
					t.Errorf("%s -h: exit %d, help %s: exit %d\n%s\n%s", v.name, code1, v.name, code2, a, b)
				}
				return
			}
			var first string
			for _, args := range [][]string{{v.name, "-h"}, {v.name, "--help"}, {v.name, "-help"}, {"help", v.name}} {
				stdout, stderr, code := runCLI(args...)
				if code != 0 || stderr != "" {
					t.Fatalf("%q: exit %d, stderr %q", args, code, stderr)
				}
				if first == "" {
					first = stdout
				} else if stdout != first {
					t.Errorf("%q prints other help than %s -h:\n%s", args, v.name, stdout)
				}
			}
			want := []string{"usage: trnsim " + v.name, "examples:\n  trnsim " + v.name, "exit status: 0 ok; 1 ", "2 bad input", "3 internal error"}
			// Every flag of the verb, with a help text.
			hr.fs.VisitAll(func(f *flag.Flag) {
				want = append(want, "\n  -"+f.Name)
				if f.Usage == "" {
					t.Errorf("-%s has no help", f.Name)
				}
				if f.DefValue != "" && f.DefValue != "false" {
					want = append(want, "(default "+f.DefValue+")")
				}
			})
			for _, w := range want {
				if !strings.Contains(first, w) {
					t.Errorf("help lacks %q:\n%s", w, first)
				}
			}
		})
	}
	if _, stderr, code := runCLI("help", "nosuch"); code != 2 || !strings.Contains(stderr, `unknown verb "nosuch"`) {
		t.Errorf("help nosuch: exit %d, %q", code, stderr)
	}
	if stdout, _, code := runCLI("help"); code != 0 || !strings.Contains(stdout, "exit status: 0 ok") {
		t.Errorf("help: exit %d\n%s", code, stdout)
	}
}

// TestExitStatuses: 0 ok, 1 a failed gate, 2 bad input, 3 an internal
// error — a panic is recovered into 3 with a message, a full disk is 3.
func TestExitStatuses(t *testing.T) {
	full := fmt.Errorf("writing out.csv: %w", &fs.PathError{Op: "write", Path: "out.csv", Err: syscall.ENOSPC})
	tests := []struct {
		name string
		err  error
		code int
		msg  string
	}{
		{"ok", nil, 0, ""},
		{"failed gate", &exitError{1}, 1, ""},
		{"usage", usagef("run: want one WORKLOAD argument"), 2, "trnsim: run: want one WORKLOAD argument\n"},
		{"plain error is bad input", errors.New("x.csv:3: bad"), 2, "trnsim: x.csv:3: bad\n"},
		{"panic", recovered(func() error { panic("index out of range") }), 3,
			"trnsim: internal error: index out of range (a bug in trnsim; please report it with the command line)\n"},
		{"disk full", full, 3, "trnsim: internal error: writing out.csv: write out.csv: no space left on device\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if code := exitCode(tt.err, &b); code != tt.code || b.String() != tt.msg {
				t.Errorf("exit %d, message %q; want %d, %q", code, b.String(), tt.code, tt.msg)
			}
		})
	}
	if err := recovered(func() error { return nil }); err != nil {
		t.Errorf("recovered(ok) = %v", err)
	}
}

// TestCheckShowsBound: check prints the bound it applied per output, so a
// pass never looks like a fail (max_rel_err above a bare "rel" used to).
func TestCheckShowsBound(t *testing.T) {
	stdout, stderr, code := runCLI("check", "matmul:M=100,N=70,K=30,dtype=bf16", "-target", "trn2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"an element passes when |err| ≤ abs + rel·|ref|", "bound |err| ≤ ", "·|ref|  pass", "PASS"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("check output lacks %q:\n%s", w, stdout)
		}
	}
	if got := boundText(kernels.Tolerance{Abs: 0.0044, Rel: 0.0078}); got != "0.0044 + 0.0078·|ref|" {
		t.Errorf("boundText = %q", got)
	}
}

// TestLongInputBoundedError: a 100 KB workload spec gives a one-line
// error of about 1 KB (it used to echo 200 KB).
func TestLongInputBoundedError(t *testing.T) {
	spec := "matmul:M=" + strings.Repeat("9", 100<<10)
	_, stderr, code := runCLI("run", spec, "-target", "trn2")
	if code != 2 || len(stderr) > maxMessage+64 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "bytes)") {
		t.Errorf("exit %d, %d-byte error: %.200q", code, len(stderr), stderr)
	}
	if got := boundedMessage(errors.New(strings.Repeat("é", maxMessage))); !utf8.ValidString(got) {
		t.Errorf("cut inside a rune: %q", got[maxMessage-8:])
	}
}
