package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/kernels"
)

// TestCheckMemoryLimit: a functional check too large for memory is
// refused at once with exit 2 naming the limit (check
// matmul:M=268435456,N=512,K=128 used to run out of memory after 21 s,
// and run -check after timing it).
func TestCheckMemoryLimit(t *testing.T) {
	huge := "matmul:M=268435456,N=512,K=128"
	for _, args := range [][]string{{"check", huge, "-target", "trn2"}, {"run", huge, "-target", "trn2", "-check"}} {
		start := time.Now()
		stdout, stderr, code := runCLI(args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "over the limit of 4.29 GB (4294967296 bytes)") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q: refused after %v", args, d)
		}
	}
	// The estimate, by hand: matmul 128³ bf16 has inputs A and B (16384
	// elements each, 16 bytes per element) and output C (16384, 12 bytes).
	p, err := kernels.Builtin().Parse("matmul:M=128,N=128,K=128")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := checkBytes(isa.Trn2(), p), 16.0*16384*2+12*16384; got != want {
		t.Errorf("checkBytes(matmul 128³) = %v, want %v", got, want)
	}
}

// TestRunAsmEmpty: a program with no instructions is bad input (it used
// to time as 0 µs and then fail writing the row).
func TestRunAsmEmpty(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"empty.s":   "",
		"decls.s":   ".program p\n.tensor X input fp32 [4]\n",
		"comment.s": "; nothing here\n",
	} {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(text), 0o644)
		wantUsageError(t, []string{"run", "-asm", f, "-target", "trn2"}, "-asm "+f+": the program has no instructions", "")
	}
}

// TestTraceCap: a trace or profile of a program over bench.MaxTracedInstrs
// (attention at seqlen 131072: 42 M instructions) is refused at once from
// the kernel's estimate, exit 2, nothing written.
func TestTraceCap(t *testing.T) {
	dir := t.TempDir()
	huge := "attention:seqlen=131072"
	for _, flag := range []string{"-trace", "-profile"} {
		out := filepath.Join(dir, "out"+flag)
		start := time.Now()
		wantUsageError(t, []string{"run", huge, "-target", "trn2", flag, out},
			"more than 16777216 instructions to trace or profile", out)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refused after %v", flag, d)
		}
	}
}
