package isa_test

import (
	"fmt"

	"github.com/trnsim/trnsim/isa"
)

// A kernel is plain Go loops over tiles: load a tile of rows, apply GELU on
// ScalarE, store it back. Two rotating buffers let the load of the next
// tile overlap the activation of this one.
func ExampleBuilder() {
	const rows, cols = 300, 64
	b := isa.NewBuilder(isa.Trn2(), "gelu")
	x := b.Input("X", isa.BF16, rows, cols)
	y := b.Output("Y", isa.BF16, rows, cols)
	io := b.SBUFPool("io", 2, cols*2)
	for r := 0; r < rows; r += 128 {
		n := min(128, rows-r)
		t := io.Tile(isa.BF16, n, cols)
		b.Load(t, x.Tile(r, 0, n, cols))
		b.Activation(t, t, isa.ActGelu)
		b.Store(y.Tile(r, 0, n, cols), t)
	}
	prog, err := b.Program()
	if err != nil {
		fmt.Println(err)
		return
	}
	in := make([]float32, rows*cols)
	in[0], in[1] = 1, -1
	out, err := isa.Exec(prog, isa.Trn2(), map[string][]float32{"X": in})
	if err != nil {
		fmt.Println(err)
		return
	}
	// gelu(1) = 0.841166 and gelu(-1) = -0.158834 (tanh form), rounded to
	// bf16: spacing 2^-8 in [0.5, 1) and 2^-10 in [0.125, 0.25).
	fmt.Println(len(prog.Instrs), "instructions")
	fmt.Println(out["Y"][0], out["Y"][1], out["Y"][2])
	// Output:
	// 9 instructions
	// 0.83984375 -0.15917969 0
}
