package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
