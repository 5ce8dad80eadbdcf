package isa

import (
	"fmt"
	"io"
)

func formatAP(a AP) string { return fmt.Sprintf("%s[%d+%d]@%d", a.Mem, a.Start, a.Parts, a.Offset) }

// Print writes p as text assembly that Parse reads back.
func Print(w io.Writer, p *Program) error {
	_, err := fmt.Fprintf(w, "; program %s: %d instructions\n", p.Name, len(p.Instrs))
	return err
}
