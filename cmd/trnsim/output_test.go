package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutputPaths: -o - is standard output (run used to create a file
// named "-"), a symbolic link is written through, an output that cannot
// be written is refused before any work, and validate refuses to
// overwrite its own input.
func TestOutputPaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	p := func(n string) string { return filepath.Join(dir, n) }

	stdout, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, "kernel,") {
		t.Errorf("run -o -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(p("-")); err == nil {
		t.Error("run -o - created a file named -")
	}

	os.Mkdir(p("real"), 0o755)
	os.Symlink("real/out.csv", p("link.csv"))
	if _, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv", "-o", p("link.csv")); code != 0 {
		t.Fatalf("run -o link: exit %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(p("link.csv")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symbolic link was replaced")
	}
	if b, err := os.ReadFile(p("real/out.csv")); err != nil || !strings.HasPrefix(string(b), "kernel,") {
		t.Errorf("link target: %q, %v", b, err)
	}

	// Refused before the work: each of these would run a suite or a
	// workload first if checked at the end.
	os.Mkdir(p("ro"), 0o555)
	ro := os.WriteFile(p("ro/probe"), nil, 0o644) == nil // root writes anywhere
	type refusal struct {
		args []string
		want string
	}
	refusals := []refusal{
		{[]string{"sweep", "-suite", "attention", "-o", p("missing/x.csv")}, "-o " + p("missing/x.csv") + ": cannot write there"},
		{[]string{"bench", "-suite", "attention", "-o", p("missing/x.csv")}, "cannot write there"},
		{[]string{"run", smallMatmul, "-o", p("real")}, "is a directory"},
		{[]string{"run", smallMatmul, "-trace", p("missing/t.json")}, "-trace " + p("missing/t.json")},
		{[]string{"run", smallMatmul, "-profile", p("missing/p.pb.gz")}, "-profile "},
		{[]string{"merge", "-o", p("missing/m.csv"), p("none.csv")}, "cannot write there"},
	}
	if !ro {
		refusals = append(refusals, refusal{[]string{"sweep", "-suite", "attention", "-o", p("ro/x.csv")}, "permission denied"})
	}
	for _, tt := range refusals {
		start := time.Now()
		_, stderr, code := runCLI(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q: refused after %v: the work ran first", tt.args, d)
		}
	}

	// validate -o its own input, by name or through a link.
	in := p("m.csv")
	data := "target,kernel,variant,dtype,batch,heads,kv_heads,M,N,K,seqlen,headdim,causal,measured_us,host_overhead_us,confidence,source\n" +
		"h100,matmul,,bf16,1,,,512,512,512,,,,10,0,exact,x\n"
	os.WriteFile(in, []byte(data), 0o644)
	os.Symlink("m.csv", p("m-link.csv"))
	for _, o := range []string{in, p("m-link.csv"), "m.csv"} {
		_, stderr, code := runCLI("validate", in, "-o", o)
		if code != 2 || !strings.Contains(stderr, "is the input") {
			t.Errorf("validate -o %s: exit %d, %q", o, code, stderr)
		}
		if b, _ := os.ReadFile(in); string(b) != data {
			t.Fatalf("validate -o %s overwrote its input", o)
		}
	}
}

// TestInterrupts: a signal removes every temporary output file; the first
// lets a graceful verb (sweep) stop by itself, the second exits at once;
// without a graceful verb the first exits at once.
func TestInterrupts(t *testing.T) {
	dir := t.TempDir()
	tmp := func(n string) string {
		f := filepath.Join(dir, n)
		os.WriteFile(f, nil, 0o644)
		return f
	}
	in := newInterrupts()
	a := tmp(".a.tmp-1")
	in.Add(a)
	if code := in.handle(syscall.SIGTERM); code != 128+15 {
		t.Errorf("SIGTERM with no graceful verb: exit %d, want 143", code)
	}
	if _, err := os.Stat(a); err == nil {
		t.Error("temporary file left after a signal")
	}

	in = newInterrupts()
	done := in.stopsOnItsOwn()
	b := tmp(".b.tmp-1")
	in.Add(b)
	if code := in.handle(os.Interrupt); code != 0 {
		t.Errorf("first SIGINT during a sweep: exit %d, want the sweep to stop itself", code)
	}
	if _, err := os.Stat(b); err == nil {
		t.Error("temporary file left after the first signal")
	}
	if code := in.handle(os.Interrupt); code != 130 {
		t.Errorf("second SIGINT: exit %d, want 130 at once", code)
	}
	done()

	// A renamed file is forgotten: the handler never removes real output.
	in = newInterrupts()
	c := tmp(".c.tmp-1")
	in.Add(c)
	in.Remove(c)
	in.handle(os.Interrupt)
	if _, err := os.Stat(c); err != nil {
		t.Error("a file no longer registered was removed")
	}
}
