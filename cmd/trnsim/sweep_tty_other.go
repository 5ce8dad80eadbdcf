//go:build !linux

package main

import "os"

// fileIsTerminal reports whether f is a character device: a terminal, or
// rarely another device (progress written there is harmless).
func fileIsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
