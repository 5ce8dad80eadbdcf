package isa

import (
	"reflect"
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

	// valid is set by Builder.Program once the program passed Validate;
	// see ValidatedFor.
	valid *validStamp
}

// validStamp is what Builder.Program validated: the architecture and the
// lists, by backing array and length.
type validStamp struct {
	arch              Arch
	instrs            *Instr
	tensors           *TensorDecl
	nInstrs, nTensors int
	nSites            int
}

func stampOf(p *Program, a Arch) *validStamp {
	s := &validStamp{arch: a, nInstrs: len(p.Instrs), nTensors: len(p.Tensors), nSites: len(p.Sites)}
	if len(p.Instrs) > 0 {
		s.instrs = &p.Instrs[0]
	}
	if len(p.Tensors) > 0 {
		s.tensors = &p.Tensors[0]
	}
	return s
}

// ValidatedFor reports whether p came from Builder.Program for
// architecture a, which validated it, and its instruction, tensor and site
// lists are still the ones validated (same backing arrays and lengths).
// Timing models use it to skip validating a program twice.
//
// Editing an instruction or a tensor declaration in place is not detected:
// code that changes a built program must validate it again (Validate), or
// copy its lists, which also clears the mark. Programs built by hand or
// parsed from assembly are never marked.
func (p *Program) ValidatedFor(a Arch) bool {
	s := p.valid
	if s == nil || s.nInstrs != len(p.Instrs) || s.nTensors != len(p.Tensors) || s.nSites != len(p.Sites) {
		return false
	}
	if len(p.Instrs) > 0 && s.instrs != &p.Instrs[0] || len(p.Tensors) > 0 && s.tensors != &p.Tensors[0] {
		return false
	}
	return reflect.DeepEqual(s.arch, a)
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
		return siteOfPC(s.PC)
	}
	return s
}

// siteOfPC resolves a program counter recorded by a Builder to its source
// location; the zero Site for 0.
func siteOfPC(pc uintptr) Site {
	if pc == 0 {
		return Site{}
	}
	frames := runtime.CallersFrames([]uintptr{pc})
	f, _ := frames.Next()
	return Site{PC: pc, Func: f.Function, File: f.File, Line: f.Line}
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
