package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/trnsim/trnsim/results"
)

// checkOutput checks, before any work, that the output file path can be
// written: "-" (standard output) always can; a device (/dev/null) must
// open for writing; otherwise its directory must
// exist and take a new file, path must not be a directory, and it must
// not name one of inputs (writing would destroy the data being read).
// flag names the flag in the error.
func checkOutput(flag, path string, inputs ...string) error {
	if path == "-" {
		return nil
	}
	target, err := results.ResolveOutput(path)
	if err != nil {
		return usagef("%s %s: %v", flag, path, err)
	}
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			// A device or pipe is written in place. A device must open
			// for writing; a pipe is not opened here (that would wait
			// for its reader).
			if fi.Mode()&os.ModeNamedPipe != 0 {
				return nil
			}
			f, err := os.OpenFile(target, os.O_WRONLY, 0)
			if err != nil {
				return usagef("%s %s: cannot write there: %v", flag, path, err)
			}
			f.Close()
			return nil
		}
		if fi.IsDir() {
			return usagef("%s %s: is a directory; want a file name", flag, path)
		}
		for _, in := range inputs {
			if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
				return usagef("%s %s: is the input %s; write the output to another file", flag, path, in)
			}
		}
	}
	// The same check the atomic write makes: a new file in the directory.
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".check-*")
	if err != nil {
		return usagef("%s %s: cannot write there: %v", flag, path, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// unwrapPath drops the temporary file's name from a *os.PathError.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", filepath.Dir(pe.Path), pe.Err)
	}
	return err
}

// writeOutput writes an output file through write: to stdout for "-",
// else atomically (see results.WriteFileAtomic), its temporary file known
// to the interrupt handler.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	return results.WriteFileAtomicTracked(path, procInterrupts, write)
}

// interrupts is what SIGINT and SIGTERM do: remove every temporary output
// file being written, then exit with 128 + the signal's number — at the
// first signal, unless a verb that stops on its own is running (sweep
// stops between runs and writes nothing); the second signal always exits
// at once.
type interrupts struct {
	mu       sync.Mutex
	temps    map[string]bool
	graceful int // running verbs that stop on their own at the first signal
	count    int // signals received
}

// procInterrupts is the process's one interrupt state: signals are
// process-wide, so the temporary files of every writer are registered in
// one place.
var procInterrupts = newInterrupts()

func newInterrupts() *interrupts { return &interrupts{temps: map[string]bool{}} }

// Add registers a temporary file to remove on a signal.
func (in *interrupts) Add(tmp string) {
	in.mu.Lock()
	in.temps[tmp] = true
	in.mu.Unlock()
}

// Remove forgets a temporary file (renamed into place, or removed).
func (in *interrupts) Remove(tmp string) {
	in.mu.Lock()
	delete(in.temps, tmp)
	in.mu.Unlock()
}

// stopsOnItsOwn marks a verb that handles the first signal itself until
// the returned function is called.
func (in *interrupts) stopsOnItsOwn() (done func()) {
	in.mu.Lock()
	in.graceful++
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		in.graceful--
		in.mu.Unlock()
	}
}

// handle reacts to one signal: it removes the temporary files and returns
// the exit status to exit with now, or 0 to let a graceful verb stop.
func (in *interrupts) handle(sig os.Signal) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.count++
	for tmp := range in.temps {
		os.Remove(tmp)
		delete(in.temps, tmp)
	}
	if in.count == 1 && in.graceful > 0 {
		return 0
	}
	code := 130 // the shell's status for SIGINT
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	return code
}

// watchSignals runs the interrupt handling for the process: main calls
// it once.
func watchSignals(stderr io.Writer) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range c {
			if code := procInterrupts.handle(sig); code != 0 {
				fmt.Fprintf(stderr, "trnsim: interrupted (%v); nothing written\n", sig)
				os.Exit(code)
			}
		}
	}()
}
