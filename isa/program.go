package isa

import (
	"runtime"
	"strconv"
)

// TensorKind says how a program uses an HBM tensor.
type TensorKind uint8

const (
	Input   TensorKind = iota // read by the program, supplied by the caller
	Output                    // written by the program, returned to the caller
	Scratch                   // HBM workspace (e.g. split-KV partial results)
)

func (k TensorKind) String() string {
	switch k {
	case Input:
		return "input"
	case Output:
		return "output"
	}
	return "scratch"
}

// TensorDecl declares an HBM tensor: row-major, the last dimension
// contiguous.
type TensorDecl struct {
	Name  string
	Kind  TensorKind
	DType DType
	Shape []int
}

// Elems returns the number of elements of the tensor.
func (t TensorDecl) Elems() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes returns the tensor's size in bytes.
func (t TensorDecl) Bytes() int { return t.Elems() * t.DType.Size() }

// Site is a kernel source location. Builders record PC; Func, File and Line
// are filled by Resolve (or by Parse from assembly comments).
type Site struct {
	PC   uintptr
	Func string
	File string
	Line int
}

// String returns "file:line".
func (s Site) String() string {
	if s.File == "" {
		return "?"
	}
	return s.File + ":" + strconv.Itoa(s.Line)
}

// Program is an ordered list of instructions over declared HBM tensors.
type Program struct {
	Name    string
	Tensors []TensorDecl
	Instrs  []Instr
	Sites   []Site
}

// Resolve fills Func, File and Line of every site recorded by PC. It is
// called only when a profile, an error or assembly needs source lines.
func (p *Program) Resolve() {
	for i := range p.Sites {
		s := &p.Sites[i]
		if s.PC == 0 || s.File != "" {
			continue
		}
		frames := runtime.CallersFrames([]uintptr{s.PC})
		f, _ := frames.Next()
		s.Func, s.File, s.Line = f.Function, f.File, f.Line
	}
}

// SiteOf returns the resolved source site of instruction i.
func (p *Program) SiteOf(i int) Site {
	if i < 0 || i >= len(p.Instrs) {
		return Site{}
	}
	idx := p.Instrs[i].Site
	if idx < 0 || int(idx) >= len(p.Sites) {
		return Site{}
	}
	s := p.Sites[idx]
	if s.File == "" && s.PC != 0 {
		frames := runtime.CallersFrames([]uintptr{s.PC})
		f, _ := frames.Next()
		s.Func, s.File, s.Line = f.Function, f.File, f.Line
	}
	return s
}

// TensorIndex returns the index of the tensor named name, or -1.
func (p *Program) TensorIndex(name string) int {
	for i, t := range p.Tensors {
		if t.Name == name {
			return i
		}
	}
	return -1
}
