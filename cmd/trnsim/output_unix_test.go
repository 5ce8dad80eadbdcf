//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutputDevices: a device or pipe is written in place, never replaced
// by a file renamed over it (-o /dev/null as root used to turn /dev/null
// into a regular file), and a full disk is an internal error, exit 3.
func TestOutputDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo) // opens when the writer does; reads to EOF
		got <- string(b)
	}()
	if _, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv", "-o", fifo); code != 0 {
		t.Fatalf("-o FIFO: exit %d: %s", code, stderr)
	}
	if s := <-got; !strings.HasPrefix(s, "kernel,") {
		t.Errorf("the pipe got %.40q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v", fi.Mode())
	}

	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skipf("/dev/full is not a character device here (%v): the disk-full case needs it", err)
	}
	_, stderr, code := runCLI("run", smallMatmul, "-target", "trn2", "-format", "csv", "-o", "/dev/full")
	if code != 3 || !strings.Contains(stderr, "internal error") || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("-o /dev/full: exit %d, %q; want 3 (disk full)", code, stderr)
	}
}

// TestMain lets a test run the command itself (the test binary with
// TRNSIM_RUN_MAIN=1 is trnsim), to send it signals.
func TestMain(m *testing.M) {
	if os.Getenv("TRNSIM_RUN_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// TestSignals: SIGINT or SIGTERM during a sweep or a run leaves no file
// (nor temporary file) and exits 130 / 143; a second SIGINT exits at
// once. The work takes several seconds here (the attention suite at -j 1,
// 6.7 s; a 405B prefill layer on three generations, ~30 s) so that the
// signals, sent after 1 s, land during it on a faster machine too.
func TestSignals(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		sigs []os.Signal
		code int
	}{
		{"sweep, one SIGINT", []string{"sweep", "-suite", "attention", "-j", "1", "-o", "out.csv"}, []os.Signal{os.Interrupt}, 130},
		{"sweep, two SIGINTs", []string{"sweep", "-suite", "attention", "-j", "1", "-o", "out.csv"}, []os.Signal{os.Interrupt, os.Interrupt}, 130},
		{"run, SIGTERM", []string{"run", "layer:model=llama3.1-405b,phase=prefill,tokens=32768", "-target", "trn1,trn2,trn3", "-o", "out.csv"}, []os.Signal{syscall.SIGTERM}, 143},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], tt.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TRNSIM_RUN_MAIN=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // past start-up, into the work
			for _, s := range tt.sigs {
				cmd.Process.Signal(s)
				time.Sleep(50 * time.Millisecond)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("still running 20 s after the signal")
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left %v behind", ents)
			}
		})
	}
}
