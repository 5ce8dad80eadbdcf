package isa

import "errors"

// Exec runs p functionally on arch with the given input tensors (by name,
// row-major, values representable in each tensor's dtype) and returns the
// Output tensors by name.
func Exec(p *Program, a Arch, inputs map[string][]float32) (map[string][]float32, error) {
	return nil, errors.New("isa.Exec: functional execution not built yet")
}
