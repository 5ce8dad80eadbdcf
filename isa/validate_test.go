package isa

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func sbufAP(start, parts, off int, dt DType, dims ...Dim) AP {
	return AP{Mem: SBUF, DType: dt, Start: int32(start), Parts: int32(parts), Offset: off}.WithDims(dims...)
}

func psumAP(start, parts, off int, dt DType, dims ...Dim) AP {
	a := sbufAP(start, parts, off, dt, dims...)
	a.Mem = PSUM
	return a
}

func hbmAP(tensor, rows, pstride, off int, dt DType, dims ...Dim) AP {
	return AP{Mem: HBM, DType: dt, Tensor: int32(tensor), Parts: int32(rows), PStride: pstride, Offset: off}.WithDims(dims...)
}

func row(n int) Dim { return Dim{Stride: 1, Count: int32(n)} }

// Instruction indices of validProgram.
const (
	iMatmul = iota
	iTranspose
	iAct
	iTT
	iTS
	iReduce
	iCopy
	iMemset
	iIota
	iSelect
	iLoad
	iStore
)

// validProgram has one valid instruction of every opcode, for every
// generation; tests break one rule at a time.
func validProgram() *Program {
	return &Program{
		Name: "demo",
		Tensors: []TensorDecl{
			{Name: "A", Kind: Input, DType: BF16, Shape: []int{256, 512}},
			{Name: "C", Kind: Output, DType: BF16, Shape: []int{128, 512}},
		},
		Sites: []Site{{Func: "kernels.demo", File: "/src/trnsim/kernels/demo.go", Line: 12}},
		Instrs: []Instr{
			iMatmul: {Op: OpMatmul, Engine: Tensor,
				Dst: psumAP(0, 128, 0, FP32, row(512)),
				Src: [3]AP{sbufAP(0, 128, 0, BF16, row(128)), sbufAP(0, 128, 256, BF16, row(512))}},
			iTranspose: {Op: OpTranspose, Engine: Tensor,
				Dst: psumAP(0, 64, 2048, FP32, row(128)),
				Src: [3]AP{sbufAP(0, 128, 2048, BF16, row(64))}},
			iAct: {Op: OpActivation, Engine: Scalar, Act: ActExp, Imm: [2]float32{1, 0},
				Dst: sbufAP(0, 128, 4096, FP32, row(512)),
				Src: [3]AP{psumAP(0, 128, 0, FP32, row(512)), sbufAP(0, 128, 8192, FP32, row(1))},
				Red: sbufAP(0, 128, 8196, FP32, row(1))},
			iTT: {Op: OpTensorTensor, Engine: Vector, ALU: [2]ALUOp{ALUAdd},
				Dst: sbufAP(0, 128, 12288, BF16, row(512)),
				Src: [3]AP{sbufAP(0, 128, 256, BF16, row(512)), sbufAP(0, 128, 16384, BF16, row(512))}},
			iTS: {Op: OpTensorScalar, Engine: Vector, ALU: [2]ALUOp{ALUMul, ALUAdd}, Imm: [2]float32{0, 2},
				Dst: sbufAP(0, 128, 12288, BF16, row(512)),
				Src: [3]AP{sbufAP(0, 128, 256, BF16, row(512)), sbufAP(0, 128, 8192, FP32, row(1))}},
			iReduce: {Op: OpTensorReduce, Engine: Vector, ALU: [2]ALUOp{ALUMax}, Axes: 1,
				Dst: sbufAP(0, 128, 20480, FP32, row(4)),
				Src: [3]AP{sbufAP(0, 128, 256, BF16, Dim{128, 4}, row(128))}},
			iCopy: {Op: OpTensorCopy, Engine: Vector,
				Dst: sbufAP(0, 128, 4096, BF16, row(512)),
				Src: [3]AP{psumAP(0, 128, 0, FP32, row(512))}},
			iMemset: {Op: OpMemset, Engine: GpSimd, Imm: [2]float32{-3},
				Dst: sbufAP(96, 32, 24576, FP32, row(64))},
			iIota: {Op: OpIota, Engine: GpSimd, Affine: Affine{Base: 5, PMul: 1, FMul: [4]int{-1}},
				Dst: sbufAP(0, 128, 28672, Int32, row(64))},
			iSelect: {Op: OpAffineSelect, Engine: GpSimd, Affine: Affine{PMul: 1, FMul: [4]int{-1}, Cmp: CmpGE}, Imm: [2]float32{-30000},
				Dst: sbufAP(0, 128, 32768, FP32, row(64)),
				Src: [3]AP{sbufAP(0, 128, 36864, FP32, row(64))}},
			iLoad: {Op: OpDMA, Engine: DMA, Queue: 3,
				Dst: sbufAP(0, 128, 40960, BF16, row(512)),
				Src: [3]AP{hbmAP(0, 128, 512, 0, BF16, row(512))}},
			iStore: {Op: OpDMA, Engine: DMA, Queue: 4,
				Dst: hbmAP(1, 128, 512, 0, BF16, row(512)),
				Src: [3]AP{sbufAP(0, 128, 12288, BF16, row(512))}},
		},
	}
}

func TestValidProgramValidates(t *testing.T) {
	for _, a := range Archs() {
		if err := validProgram().Validate(a); err != nil {
			t.Errorf("%s: %v", a.Name, err)
		}
	}
}

// TestValidVariants are instructions at the edge of a rule that must pass.
func TestValidVariants(t *testing.T) {
	cases := []struct {
		name   string
		arch   Arch
		mutate func(p *Program)
	}{
		{"scalar tensor_copy on v3", Trn2(), func(p *Program) { p.Instrs[iCopy].Engine = Scalar }},
		{"scalar tensor_copy on v4", Trn3(), func(p *Program) { p.Instrs[iCopy].Engine = Scalar }},
		{"gpsimd tensor_tensor", Trn2(), func(p *Program) { p.Instrs[iTT].Engine = GpSimd }},
		{"gpsimd tensor_scalar", Trn2(), func(p *Program) { p.Instrs[iTS].Engine = GpSimd }},
		{"scalar tensor_scalar mult+add", Trn2(), func(p *Program) { p.Instrs[iTS].Engine = Scalar }},
		{"scalar tensor_scalar add", Trn2(), func(p *Program) {
			p.Instrs[iTS].Engine, p.Instrs[iTS].ALU = Scalar, [2]ALUOp{ALUAdd, ALUBypass}
		}},
		{"fp8 double row on v3", Trn2(), func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.DoubleRow = true
			in.Src[0] = sbufAP(0, 128, 0, FP8E4M3, Dim{128, 2}, row(128))
			in.Src[1] = sbufAP(0, 128, 256, FP8E5M2, Dim{512, 2}, row(512))
		}},
		{"matmul across banks on v4", Trn3(), func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.Dst.Offset = 1024
		}},
		{"matmul N=4096 on v4", Trn3(), func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.Src[1] = sbufAP(0, 128, 256, BF16, row(4096))
			in.Dst = psumAP(0, 128, 0, FP32, row(4096))
		}},
		{"bf16 PSUM on v4", Trn3(), func(p *Program) { p.Instrs[iMatmul].Dst.DType = BF16 }},
		{"fp32 pairs with fp32", Trn2(), func(p *Program) {
			p.Instrs[iMatmul].Src[0].DType, p.Instrs[iMatmul].Src[1].DType = FP32, FP32
		}},
		{"DMA to any partition", Trn2(), func(p *Program) {
			in := &p.Instrs[iLoad]
			in.Dst = sbufAP(16, 16, 40960, BF16, row(512))
			in.Src[0].Parts = 16
		}},
		{"64 partitions at 64", Trn1(), func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(64, 64, 0, FP32, row(8)) }},
		{"32 partitions at 32", Trn1(), func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(32, 32, 0, FP32, row(8)) }},
		{"cross-quadrant copy", Trn2(), func(p *Program) {
			in := &p.Instrs[iCopy]
			in.Dst = sbufAP(96, 32, 4096, BF16, row(512))
			in.Src[0] = psumAP(32, 32, 0, FP32, row(512))
		}},
		{"constant bias on v3", Trn2(), func(p *Program) {
			p.Instrs[iAct].Src[1], p.Instrs[iAct].Imm[1] = AP{}, 0.5
		}},
		{"zero immediate bias on v2", Trn1(), func(p *Program) { p.Instrs[iAct].Src[1] = AP{} }},
		{"negative stride within SBUF", Trn2(), func(p *Program) {
			p.Instrs[iTT].Src[1] = sbufAP(0, 128, 16384+1022, BF16, Dim{-1, 512})
		}},
		{"reduce both axes", Trn2(), func(p *Program) {
			p.Instrs[iReduce].Axes, p.Instrs[iReduce].Dst = 2, sbufAP(0, 128, 20480, FP32, row(1))
		}},
		{"site -1", Trn2(), func(p *Program) { p.Instrs[iTT].Site = -1 }},
		{"SBUF to SBUF DMA", Trn2(), func(p *Program) { p.Instrs[iLoad].Src[0] = sbufAP(0, 128, 0, BF16, row(512)) }},
		{"DMA with dtype cast and reshape", Trn2(), func(p *Program) {
			p.Instrs[iLoad].Dst = sbufAP(0, 64, 40960, FP32, row(1024))
		}},
		{"last byte of SBUF", Trn2(), func(p *Program) {
			p.Instrs[iMemset].Dst = sbufAP(0, 1, 224<<10-4, FP32, row(1))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mutate(p)
			if err := p.Validate(tc.arch); err != nil {
				t.Errorf("want valid on %s, got %v", tc.arch.Name, err)
			}
		})
	}
}

func TestValidateRules(t *testing.T) {
	trn1, trn2, trn3 := Trn1(), Trn2(), Trn3()
	smallK := Trn2()
	smallK.MatmulMaxK = 64
	noFP8 := Trn2()
	noFP8.DTypes = []DType{FP32, BF16}
	cases := []struct {
		name   string
		arch   Arch
		mutate func(p *Program)
		index  int
		rule   string
		msg    string
	}{
		{"zero dimension", trn2, func(p *Program) { p.Tensors[0].Shape = []int{256, 0} },
			-1, "tensor-shape", `tensor 0 "A": dimension 1 of shape [256 0] is 0; every dimension must be positive`},
		{"empty shape", trn2, func(p *Program) { p.Tensors[1].Shape = nil },
			-1, "tensor-shape", `tensor 1 "C": shape is empty; want at least one dimension`},
		{"huge tensor", trn2, func(p *Program) { p.Tensors[0].Shape = []int{1 << 30, 1 << 30} },
			-1, "tensor-shape", `tensor 0 "A": shape [1073741824 1073741824] has more than 2^50 elements`},
		{"huge tensor bytes", trn2, func(p *Program) { p.Tensors[0].Shape = []int{1 << 25, 1 << 25} },
			-1, "tensor-shape", `tensor 0 "A": shape [33554432 33554432] of bf16 is more than 2^50 bytes`},
		{"duplicate name", trn2, func(p *Program) { p.Tensors[1].Name = "A" },
			-1, "tensor-name", `tensor 1 "A": name already used by tensor 0`},
		{"empty name", trn2, func(p *Program) { p.Tensors[0].Name = "" },
			-1, "tensor-name", `tensor 0 "": name is empty`},
		{"bad kind", trn2, func(p *Program) { p.Tensors[0].Kind = 7 },
			-1, "tensor-kind", `tensor 0 "A": kind 7 is not input, output or scratch`},
		{"unknown tensor dtype", trn2, func(p *Program) { p.Tensors[0].DType = 99 },
			-1, "tensor-dtype", `tensor 0 "A": dtype dtype(99) is not supported on trn2 (allowed: fp32, bf16, fp16, fp8e4m3, fp8e5m2, int32)`},
		{"unsupported tensor dtype", noFP8, func(p *Program) { p.Tensors[0].DType = FP8E4M3 },
			-1, "tensor-dtype", `tensor 0 "A": dtype fp8e4m3 is not supported on trn2 (allowed: fp32, bf16)`},

		{"site out of range", trn2, func(p *Program) { p.Instrs[iTT].Site = 1 },
			iTT, "site-index", "site 1 out of range: the program has 1 sites (or -1 for none)"},
		{"site below -1", trn2, func(p *Program) { p.Instrs[iTT].Site = -2 },
			iTT, "site-index", "site -2 out of range: the program has 1 sites (or -1 for none)"},
		{"unknown opcode", trn2, func(p *Program) { p.Instrs[iTT].Op = 200 },
			iTT, "opcode", "unknown opcode 200 (allowed: nc_matmul, nc_transpose, activation, tensor_tensor, tensor_scalar, tensor_reduce, tensor_copy, memset, iota, affine_select, dma_copy, bn_stats, bn_aggr)"},
		{"unknown activation", trn2, func(p *Program) { p.Instrs[iAct].Act = 50 },
			iAct, "enum", "unknown activation function 50 (allowed: copy, exp, tanh, gelu, silu, sigmoid, relu, rsqrt, reciprocal, square)"},
		{"unknown ALU op", trn2, func(p *Program) { p.Instrs[iTT].ALU[1] = 77 },
			iTT, "enum", "unknown ALU op 77 in slot 1 (allowed: bypass, add, subtract, multiply, max, min, divide, power, is_ge, is_equal)"},
		{"unknown comparison", trn2, func(p *Program) { p.Instrs[iSelect].Affine.Cmp = 9 },
			iSelect, "enum", "unknown affine comparison 9 (allowed: ge, gt, eq)"},

		{"matmul on vector", trn2, func(p *Program) { p.Instrs[iMatmul].Engine = Vector },
			iMatmul, "engine", "nc_matmul cannot run on vector (allowed on trn2: tensor)"},
		{"transpose on vector", trn2, func(p *Program) { p.Instrs[iTranspose].Engine = Vector },
			iTranspose, "engine", "nc_transpose cannot run on vector (allowed on trn2: tensor)"},
		{"activation on vector", trn2, func(p *Program) { p.Instrs[iAct].Engine = Vector },
			iAct, "engine", "activation cannot run on vector (allowed on trn2: scalar)"},
		{"tensor_tensor on scalar", trn2, func(p *Program) { p.Instrs[iTT].Engine = Scalar },
			iTT, "engine", "tensor_tensor cannot run on scalar (allowed on trn2: vector, gpsimd)"},
		{"tensor_scalar on tensor", trn2, func(p *Program) { p.Instrs[iTS].Engine = Tensor },
			iTS, "engine", "tensor_scalar cannot run on tensor (allowed on trn2: vector, scalar, gpsimd)"},
		{"tensor_reduce on gpsimd", trn2, func(p *Program) { p.Instrs[iReduce].Engine = GpSimd },
			iReduce, "engine", "tensor_reduce cannot run on gpsimd (allowed on trn2: vector)"},
		{"tensor_copy on scalar v2", trn1, func(p *Program) { p.Instrs[iCopy].Engine = Scalar },
			iCopy, "engine", "tensor_copy cannot run on scalar (ScalarE tensor_copy is v3+; on trn1 use activation copy) (allowed on trn1: vector, gpsimd)"},
		{"memset on scalar", trn2, func(p *Program) { p.Instrs[iMemset].Engine = Scalar },
			iMemset, "engine", "memset cannot run on scalar (allowed on trn2: vector, gpsimd)"},
		{"iota on vector", trn2, func(p *Program) { p.Instrs[iIota].Engine = Vector },
			iIota, "engine", "iota cannot run on vector (allowed on trn2: gpsimd)"},
		{"affine_select on vector", trn2, func(p *Program) { p.Instrs[iSelect].Engine = Vector },
			iSelect, "engine", "affine_select cannot run on vector (allowed on trn2: gpsimd)"},
		{"dma on gpsimd", trn2, func(p *Program) { p.Instrs[iLoad].Engine, p.Instrs[iLoad].Queue = GpSimd, 0 },
			iLoad, "engine", "dma_copy cannot run on gpsimd (allowed on trn2: dma)"},
		{"unknown engine", trn2, func(p *Program) { p.Instrs[iMatmul].Engine = 9 },
			iMatmul, "engine", "nc_matmul cannot run on engine(9) (allowed on trn2: tensor)"},

		{"queue out of range", trn2, func(p *Program) { p.Instrs[iLoad].Queue = 16 },
			iLoad, "dma-queue", "queue 16 out of range: a DMA engine has 16 queues (0..15)"},
		{"queue on compute", trn2, func(p *Program) { p.Instrs[iTT].Queue = 2 },
			iTT, "dma-queue", "queue 2 set on a vector instruction; only DMA instructions have queues"},

		{"missing moving", trn2, func(p *Program) { p.Instrs[iMatmul].Src[1] = AP{} },
			iMatmul, "operands", "nc_matmul needs a moving operand"},
		{"missing dst", trn2, func(p *Program) { p.Instrs[iMemset].Dst = AP{} },
			iMemset, "operands", "memset needs a dst operand"},
		{"matmul with reduce", trn2, func(p *Program) { p.Instrs[iMatmul].Red = sbufAP(0, 128, 0, FP32, row(1)) },
			iMatmul, "operands", "nc_matmul has no reduce result operand; the slot must be empty"},
		{"memset with source", trn2, func(p *Program) { p.Instrs[iMemset].Src[0] = sbufAP(96, 32, 0, FP32, row(64)) },
			iMemset, "operands", "memset has no src operand; the slot must be empty"},
		{"half-empty optional slot", trn2, func(p *Program) { p.Instrs[iAct].Src[2] = AP{Parts: 3} },
			iAct, "operands", "unused scale operand must be empty (memory none with other fields set)"},
		{"unknown memory", trn2, func(p *Program) { p.Instrs[iAct].Src[0].Mem = 9 },
			iAct, "operands", "data has unknown memory 9 (allowed: hbm, sbuf, psum)"},

		{"unknown dtype", trn2, func(p *Program) { p.Instrs[iMatmul].Src[0].DType = 42 },
			iMatmul, "dtype-arch", "stationary dtype dtype(42) is not supported on trn2 (allowed: fp32, bf16, fp16, fp8e4m3, fp8e5m2, int32)"},
		{"unsupported dtype", noFP8, func(p *Program) { p.Instrs[iTT].Dst.DType = FP8E5M2 },
			iTT, "dtype-arch", "dst dtype fp8e5m2 is not supported on trn2 (allowed: fp32, bf16)"},

		{"tensor on SBUF operand", trn2, func(p *Program) { p.Instrs[iTT].Src[0].Tensor = 1 },
			iTT, "ap-fields", "data1 in sbuf names tensor 1; only HBM patterns name tensors"},
		{"HBM start", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].Start = 3 },
			iLoad, "ap-fields", "src in hbm has start 3; HBM rows are addressed by offset and row stride, start must be 0"},
		{"partition stride", trn2, func(p *Program) { p.Instrs[iTT].Dst.PStride = 1 },
			iTT, "part-stride", "dst has partition stride 1; an access covers contiguous partitions"},

		{"no free dims", trn2, func(p *Program) { p.Instrs[iMemset].Dst.NFree = 0 },
			iMemset, "free-dims", "dst has 0 free dimensions; allowed 1..4"},
		{"five free dims", trn2, func(p *Program) { p.Instrs[iMemset].Dst.NFree = 5 },
			iMemset, "free-dims", "dst has 5 free dimensions; allowed 1..4"},
		{"dim beyond NFree", trn2, func(p *Program) { p.Instrs[iMemset].Dst.Free[2] = row(3) },
			iMemset, "free-dims", "dst free dimension 2 is set but the pattern has 1"},
		{"zero count", trn2, func(p *Program) { p.Instrs[iMemset].Dst.Free[0].Count = 0 },
			iMemset, "free-count", "dst free dimension 0 has count 0; allowed 1..65535"},
		{"count beyond uint16", trn2, func(p *Program) { p.Instrs[iMemset].Dst.Free[0] = Dim{0, 65536} },
			iMemset, "free-count", "dst free dimension 0 has count 65536; allowed 1..65535"},
		{"zero HBM count", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].Free[0].Count = 0 },
			iLoad, "free-count", "src free dimension 0 has count 0; want at least 1"},
		{"stride beyond int16", trn2, func(p *Program) { p.Instrs[iTT].Src[0].Free[0].Stride = 40000 },
			iTT, "free-stride", "data1 free dimension 0 has stride 40000; allowed -32768..32767 (int16 elements)"},
		{"negative stride beyond int16", trn2, func(p *Program) { p.Instrs[iTT].Src[0].Free[0].Stride = -32769 },
			iTT, "free-stride", "data1 free dimension 0 has stride -32769; allowed -32768..32767 (int16 elements)"},

		{"129 partitions", trn2, func(p *Program) { p.Instrs[iTT].Dst.Parts = 129 },
			iTT, "part-count", "dst covers 129 partitions; allowed 1..128"},
		{"zero partitions", trn2, func(p *Program) { p.Instrs[iMemset].Dst.Parts = 0 },
			iMemset, "part-count", "dst covers 0 partitions; allowed 1..128"},
		{"zero HBM rows", trn2, func(p *Program) { p.Instrs[iStore].Dst.Parts = 0 },
			iStore, "part-count", "dst covers 0 rows; want at least 1"},
		{"partitions past 128", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(100, 32, 0, FP32, row(8)) },
			iMemset, "part-range", "dst partitions [100:132) exceed the 128 partitions of sbuf"},
		{"negative start", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(-32, 32, 0, FP32, row(8)) },
			iMemset, "part-range", "dst partitions [-32:0) exceed the 128 partitions of sbuf"},
		{"64 partitions at 32", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(32, 64, 0, FP32, row(8)) },
			iMemset, "part-start", "dst starts at partition 32 with 64 partitions; 33..64 partitions must start at 0 or 64"},
		{"100 partitions at 16", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(16, 100, 0, FP32, row(8)) },
			iMemset, "part-start", "dst starts at partition 16 with 100 partitions; more than 64 partitions must start at 0"},
		{"16 partitions at 16", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(16, 16, 0, FP32, row(8)) },
			iMemset, "part-start", "dst starts at partition 16 with 16 partitions; up to 32 partitions must start at 0, 32, 64 or 96"},
		{"PSUM start on TensorE", trn2, func(p *Program) { p.Instrs[iTranspose].Dst.Start = 32 },
			iTranspose, "part-start", "dst starts at partition 32 with 64 partitions; 33..64 partitions must start at 0 or 64"},

		{"past SBUF end", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(0, 128, 224<<10-1024, BF16, row(513)) },
			iMemset, "sbuf-extent", "dst touches bytes [228352:229378) of each partition; sbuf has 229376 bytes per partition on trn2"},
		{"SBUF end is smaller on trn1", trn1, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(0, 128, 192<<10, FP32, row(1)) },
			iMemset, "sbuf-extent", "dst touches bytes [196608:196612) of each partition; sbuf has 196608 bytes per partition on trn1"},
		{"before SBUF start", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(0, 128, 0, BF16, Dim{-1, 2}) },
			iMemset, "sbuf-extent", "dst touches bytes [-2:2) of each partition; sbuf has 229376 bytes per partition on trn2"},
		{"far offset", trn2, func(p *Program) { p.Instrs[iMemset].Dst = sbufAP(0, 128, math.MaxInt, BF16, Dim{32767, 65535}) },
			iMemset, "sbuf-extent", "dst touches bytes [9223372036854775807:9223372036854775807) of each partition; sbuf has 229376 bytes per partition on trn2"},
		{"past PSUM end", trn2, func(p *Program) { p.Instrs[iMatmul].Dst.Offset = 16 << 10 },
			iMatmul, "psum-extent", "dst touches bytes [16384:18432) of each partition; psum has 16384 bytes per partition on trn2"},
		{"unknown tensor", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].Tensor = 5 },
			iLoad, "hbm-tensor", "src names tensor 5; the program declares 2"},
		{"negative tensor", trn2, func(p *Program) { p.Instrs[iStore].Dst.Tensor = -1 },
			iStore, "hbm-tensor", "dst names tensor -1; the program declares 2"},
		{"past tensor end", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].Offset = 200 * 512 },
			iLoad, "hbm-extent", `src touches elements [102400:167936) of tensor "A", which has 131072`},
		{"before tensor start", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].PStride = -512 },
			iLoad, "hbm-extent", `src touches elements [-65024:512) of tensor "A", which has 131072`},
		{"overflowing HBM row stride", trn2, func(p *Program) { p.Instrs[iLoad].Src[0].PStride = 1 << 61 },
			iLoad, "hbm-extent", `src reaches beyond ±2^60 elements of tensor "A" (131072 elements)`},

		{"vector reads HBM", trn2, func(p *Program) { p.Instrs[iTT].Src[1] = hbmAP(0, 128, 512, 0, BF16, row(512)) },
			iTT, "compute-hbm", "tensor_tensor data2 is in HBM; vector cannot address HBM, load it to SBUF with a DMA"},
		{"scalar writes HBM", trn2, func(p *Program) { p.Instrs[iAct].Dst = hbmAP(0, 128, 512, 0, FP32, row(512)) },
			iAct, "compute-hbm", "activation dst is in HBM; scalar cannot address HBM, load it to SBUF with a DMA"},
		{"matmul moving in PSUM", trn2, func(p *Program) { p.Instrs[iMatmul].Src[1].Mem = PSUM },
			iMatmul, "tensor-engine-mem", "nc_matmul moving is in psum; TensorE reads SBUF only"},
		{"matmul dst in SBUF", trn2, func(p *Program) { p.Instrs[iMatmul].Dst.Mem = SBUF },
			iMatmul, "tensor-engine-mem", "nc_matmul dst is in sbuf; TensorE writes PSUM only"},
		{"transpose from HBM", trn2, func(p *Program) { p.Instrs[iTranspose].Src[0] = hbmAP(0, 128, 512, 0, BF16, row(64)) },
			iTranspose, "tensor-engine-mem", "nc_transpose src is in hbm; TensorE reads SBUF only"},
		{"transpose to SBUF", trn2, func(p *Program) { p.Instrs[iTranspose].Dst.Mem = SBUF },
			iTranspose, "tensor-engine-mem", "nc_transpose dst is in sbuf; TensorE writes PSUM only"},
		{"gpsimd writes PSUM", trn2, func(p *Program) { p.Instrs[iMemset].Dst.Mem = PSUM; p.Instrs[iMemset].Dst.Offset = 0 },
			iMemset, "gpsimd-psum", "memset dst is in PSUM; GpSimdE cannot access PSUM"},
		{"gpsimd reads PSUM", trn2, func(p *Program) { p.Instrs[iCopy].Engine = GpSimd },
			iCopy, "gpsimd-psum", "tensor_copy src is in PSUM; GpSimdE cannot access PSUM"},
		{"DMA PSUM to HBM", trn2, func(p *Program) { p.Instrs[iStore].Src[0] = psumAP(0, 128, 0, BF16, row(512)) },
			iStore, "dma-mem", "DMA from psum to hbm; PSUM cannot go to HBM or SBUF by DMA: copy it to SBUF with an engine first (allowed: hbm→sbuf, sbuf→hbm, sbuf→sbuf)"},
		{"DMA HBM to PSUM", trn2, func(p *Program) { p.Instrs[iLoad].Dst.Mem, p.Instrs[iLoad].Dst.Offset = PSUM, 0 },
			iLoad, "dma-mem", "DMA from hbm to psum (allowed: hbm→sbuf, sbuf→hbm, sbuf→sbuf)"},
		{"DMA HBM to HBM", trn2, func(p *Program) { p.Instrs[iStore].Src[0] = hbmAP(0, 128, 512, 0, BF16, row(512)) },
			iStore, "dma-mem", "DMA from hbm to hbm (allowed: hbm→sbuf, sbuf→hbm, sbuf→sbuf)"},
		{"SBUF free size", trn2, func(p *Program) {
			in := &p.Instrs[iTT]
			in.Dst = sbufAP(0, 128, 0, BF16, Dim{0, 2}, row(40000))
		}, iTT, "free-size", "tensor_tensor dst has 80000 free elements per partition; at most 65536 in sbuf for one vector instruction"},
		{"PSUM free size", trn2, func(p *Program) { p.Instrs[iCopy].Src[0] = psumAP(0, 128, 0, FP32, Dim{0, 2}, row(4000)) },
			iCopy, "free-size", "tensor_copy src has 8000 free elements per partition; at most 4096 in psum for one vector instruction"},

		{"K mismatch", trn2, func(p *Program) { p.Instrs[iMatmul].Src[1].Parts = 64 },
			iMatmul, "matmul-parts", "stationary has 128 partitions, moving 64; both are the contraction K"},
		{"K beyond limit", smallK, func(p *Program) {},
			iMatmul, "matmul-k", "contraction K=128 partitions exceeds 64 on trn2"},
		{"double row on v2", trn1, func(p *Program) { p.Instrs[iMatmul].DoubleRow = true },
			iMatmul, "matmul-double-row", "double-row mode needs NeuronCore-v3 or later; trn1 has none"},
		{"double row bf16", trn2, func(p *Program) { p.Instrs[iMatmul].DoubleRow = true },
			iMatmul, "matmul-double-row", "double-row mode needs fp8 operands; stationary is bf16, moving bf16"},
		{"double row stationary shape", trn2, func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.DoubleRow = true
			in.Src[0].DType, in.Src[1].DType = FP8E4M3, FP8E4M3
		}, iMatmul, "matmul-double-row", "double-row stationary must be [K,2,M]; it has free dims {1x128}"},
		{"double row moving shape", trn2, func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.DoubleRow = true
			in.Src[0] = sbufAP(0, 128, 0, FP8E4M3, Dim{128, 2}, row(128))
			in.Src[1] = sbufAP(0, 128, 256, FP8E4M3, Dim{256, 4}, row(256))
		}, iMatmul, "matmul-double-row", "double-row moving must be [K,2,N]; it has free dims {256x4,1x256}"},
		{"M beyond limit", trn2, func(p *Program) { p.Instrs[iMatmul].Src[0].Free[0].Count = 256 },
			iMatmul, "matmul-m", "stationary free size M=256 exceeds 128"},
		{"N beyond one bank", trn2, func(p *Program) { p.Instrs[iMatmul].Src[1].Free[0].Count = 600 },
			iMatmul, "matmul-n", "moving free size 600 exceeds 512 (one PSUM bank on trn2)"},
		{"N beyond PSUM", trn3, func(p *Program) { p.Instrs[iMatmul].Src[1].Free[0].Count = 5000 },
			iMatmul, "matmul-n", "moving free size 5000 exceeds 4096 (fp32 elements of PSUM on trn3)"},
		{"dst shape", trn2, func(p *Program) { p.Instrs[iMatmul].Dst.Free[0].Count = 256 },
			iMatmul, "matmul-dst-shape", "dst is [128,256]; stationary and moving make it [128,512]"},
		{"double row dst shape", trn2, func(p *Program) {
			in := &p.Instrs[iMatmul]
			in.DoubleRow = true
			in.Src[0] = sbufAP(0, 128, 0, FP8E4M3, Dim{64, 2}, row(64))
			in.Src[1] = sbufAP(0, 128, 256, FP8E4M3, Dim{512, 2}, row(512))
		}, iMatmul, "matmul-dst-shape", "dst is [128,512]; stationary and moving make it [64,512]"},
		{"dst across banks", trn2, func(p *Program) { p.Instrs[iMatmul].Dst.Offset = 1024 },
			iMatmul, "matmul-bank", "dst bytes [1024:3072) cross a PSUM bank boundary; on trn2 a matmul writes within one 2048-byte bank"},
		{"bf16 PSUM on v3", trn2, func(p *Program) { p.Instrs[iMatmul].Dst.DType = BF16 },
			iMatmul, "matmul-psum-dtype", "dst dtype bf16; matmul writes fp32 into PSUM on trn2"},
		{"fp16 PSUM on v4", trn3, func(p *Program) { p.Instrs[iMatmul].Dst.DType = FP16 },
			iMatmul, "matmul-psum-dtype", "dst dtype fp16; matmul writes fp32, bf16 into PSUM on trn3"},
		{"fp32 with bf16", trn2, func(p *Program) { p.Instrs[iMatmul].Src[0].DType = FP32 },
			iMatmul, "matmul-fp32-pair", "stationary is fp32, moving bf16; fp32 pairs only with fp32"},

		{"transpose too wide", trn2, func(p *Program) {
			p.Instrs[iTranspose].Src[0].Free[0].Count = 256
		}, iTranspose, "transpose-size", "src is [128,256]; nc_transpose on TensorE is at most [128,128]"},
		{"transpose dst not swapped", trn2, func(p *Program) { p.Instrs[iTranspose].Dst.Free[0].Count = 64 },
			iTranspose, "transpose-shape", "dst is [64,64]; the transpose of [128,64] is [64,128]"},

		{"tensor_tensor partitions", trn2, func(p *Program) { p.Instrs[iTT].Src[1].Parts = 64 },
			iTT, "elem-shape", "data2 is [64,512], dst [128,512]; elementwise operands agree in partitions and free elements"},
		{"activation free size", trn2, func(p *Program) { p.Instrs[iAct].Src[0].Free[0].Count = 256 },
			iAct, "elem-shape", "data is [128,256], dst [128,512]; elementwise operands agree in partitions and free elements"},
		{"tensor_scalar shape", trn2, func(p *Program) { p.Instrs[iTS].Src[0].Free[0].Count = 511 },
			iTS, "elem-shape", "data is [128,511], dst [128,512]; elementwise operands agree in partitions and free elements"},
		{"tensor_copy shape", trn2, func(p *Program) { p.Instrs[iCopy].Dst.Parts = 64 },
			iCopy, "elem-shape", "src is [128,512], dst [64,512]; elementwise operands agree in partitions and free elements"},
		{"affine_select shape", trn2, func(p *Program) { p.Instrs[iSelect].Src[0].Free[0].Count = 32 },
			iSelect, "elem-shape", "src is [128,32], dst [128,64]; elementwise operands agree in partitions and free elements"},
		{"bias not [P,1]", trn2, func(p *Program) { p.Instrs[iAct].Src[1].Free[0].Count = 2 },
			iAct, "per-partition", "bias is [128,2]; a per-partition operand is [128,1]"},
		{"scale partitions", trn2, func(p *Program) { p.Instrs[iAct].Src[2] = sbufAP(0, 64, 0, FP32, row(1)) },
			iAct, "per-partition", "scale is [64,1]; a per-partition operand is [128,1]"},
		{"reduce result not [P,1]", trn2, func(p *Program) { p.Instrs[iAct].Red.Free[0].Count = 4 },
			iAct, "per-partition", "reduce result is [128,4]; a per-partition operand is [128,1]"},
		{"tensor_scalar operand", trn2, func(p *Program) { p.Instrs[iTS].Src[2] = sbufAP(0, 128, 0, FP32, row(2)) },
			iTS, "per-partition", "operand1 is [128,2]; a per-partition operand is [128,1]"},
		{"const bias on v2", trn1, func(p *Program) { p.Instrs[iAct].Src[1], p.Instrs[iAct].Imm[1] = AP{}, 0.5 },
			iAct, "act-const-bias", "immediate bias 0.5; on trn1 an activation bias must be a [P,1] tile (constant bias is v3+)"},
		{"scalar subtract", trn2, func(p *Program) {
			p.Instrs[iTS].Engine, p.Instrs[iTS].ALU = Scalar, [2]ALUOp{ALUSub, ALUBypass}
		}, iTS, "scalar-alu", "tensor_scalar on scalar with ops subtract, bypass; ScalarE does multiply+add, multiply or add only"},
		{"scalar add then multiply", trn2, func(p *Program) {
			p.Instrs[iTS].Engine, p.Instrs[iTS].ALU = Scalar, [2]ALUOp{ALUAdd, ALUMul}
		}, iTS, "scalar-alu", "tensor_scalar on scalar with ops add, multiply; ScalarE does multiply+add, multiply or add only"},
		{"reduce too many axes", trn2, func(p *Program) { p.Instrs[iReduce].Axes = 3 },
			iReduce, "reduce-axes", "reduces 3 axes of a source with 2 free dims; allowed 1..2 (the partition dim is never reduced)"},
		{"reduce no axes", trn2, func(p *Program) { p.Instrs[iReduce].Axes = 0 },
			iReduce, "reduce-axes", "reduces 0 axes of a source with 2 free dims; allowed 1..2 (the partition dim is never reduced)"},
		{"reduce dst shape", trn2, func(p *Program) { p.Instrs[iReduce].Dst.Free[0].Count = 8 },
			iReduce, "reduce-shape", "dst is [128,8]; reducing the last 1 axes of src [128,{128x4,1x128}] leaves [128,4]"},
		{"reduce multiply", trn2, func(p *Program) { p.Instrs[iReduce].ALU[0] = ALUMul },
			iReduce, "reduce-op", "reduce op multiply; tensor_reduce reduces with add or max"},
		{"iota coefficient beyond dims", trn2, func(p *Program) { p.Instrs[iIota].Affine.FMul[1] = 2 },
			iIota, "affine-dims", "free coefficient 1 is 2 but dst has 1 free dims"},
		{"select coefficient beyond dims", trn2, func(p *Program) { p.Instrs[iSelect].Affine.FMul[3] = 1 },
			iSelect, "affine-dims", "free coefficient 3 is 1 but dst has 1 free dims"},
		{"DMA element count", trn2, func(p *Program) { p.Instrs[iLoad].Dst.Free[0].Count = 256 },
			iLoad, "dma-elems", "dst has 32768 elements, src 65536: a DMA copies element for element"},
		{"bn_stats wider than 512", trn1, func(p *Program) {
			p.Instrs[iReduce] = Instr{Op: OpBNStats, Engine: Vector,
				Dst: sbufAP(0, 128, 20480, FP32, row(6)), Src: [3]AP{sbufAP(0, 128, 256, BF16, row(513))}}
		}, iReduce, "bn-shape", "src has 513 free elements; bn_stats reads at most 512 (split the row and combine with bn_aggr)"},
		{"bn_aggr of a partial triple", trn2, func(p *Program) {
			p.Instrs[iReduce] = Instr{Op: OpBNAggr, Engine: Vector,
				Dst: sbufAP(0, 128, 20480, FP32, row(2)), Src: [3]AP{sbufAP(0, 128, 20560, FP32, row(7))}}
		}, iReduce, "bn-shape", "src has 7 free elements; bn_aggr reads (count, mean, count·var) triples, a multiple of 3"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.rule] = true
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mutate(p)
			err := p.Validate(tc.arch)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a *ValidationError for rule %q, got %v", tc.rule, err)
			}
			if ve.Rule != tc.rule || ve.Msg != tc.msg || ve.Index != tc.index {
				t.Errorf("got instr %d rule %q: %s\nwant instr %d rule %q: %s", ve.Index, ve.Rule, ve.Msg, tc.index, tc.rule, tc.msg)
			}
			if tc.index >= 0 {
				if ve.Op != p.Instrs[tc.index].Op {
					t.Errorf("Op = %s, want %s", ve.Op, p.Instrs[tc.index].Op)
				}
				if site := p.Instrs[tc.index].Site; site == 0 && ve.Site.Line != 12 {
					t.Errorf("Site = %+v, want line 12", ve.Site)
				}
			}
		})
	}
	for _, r := range Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %q has no test that breaks it", r.ID)
		}
	}
}

func TestRulesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.ID == "" || r.Desc == "" || r.Source == "" {
			t.Errorf("rule %+v: id, description and source must all be set", r)
		}
		if seen[r.ID] {
			t.Errorf("rule %q listed twice", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestValidationErrorFormat(t *testing.T) {
	cases := []struct {
		err  ValidationError
		want string
	}{
		{ValidationError{Index: 42, Op: OpMatmul, Site: Site{File: "/home/u/trnsim/kernels/matmul.go", Line: 57},
			Rule: "matmul-n", Msg: "moving free size 600 exceeds 512 (one PSUM bank on trn2)"},
			`instr 42 (nc_matmul) at kernels/matmul.go:57: rule "matmul-n": moving free size 600 exceeds 512 (one PSUM bank on trn2)`},
		{ValidationError{Index: 3, Op: OpDMA, Site: Site{File: "k.go", Line: 7}, Rule: "dma-mem", Msg: "m"},
			`instr 3 (dma_copy) at k.go:7: rule "dma-mem": m`},
		{ValidationError{Index: 0, Op: OpMemset, Rule: "part-count", Msg: "m"},
			`instr 0 (memset): rule "part-count": m`},
		{ValidationError{Index: -1, Rule: "tensor-shape", Msg: `tensor 0 "A": m`},
			`program: rule "tensor-shape": tensor 0 "A": m`},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// TestValidateResolvesBuilderSite checks that an error from a Builder
// program names the kernel line that issued the instruction.
func TestValidateResolvesBuilderSite(t *testing.T) {
	b := NewBuilder(Trn2(), "site")
	sb := b.SBUFPool("sb", 1, 4096)
	ps := b.PSUMPool("ps", 1, 2048)
	dst := ps.Tile(FP32, 128, 512)
	st := sb.Tile(BF16, 128, 128)
	mv := sb.Tile(BF16, 128, 600)
	b.Matmul(dst, st, mv, false) // the line the error must name
	_, err := b.Program()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	if ve.Rule != "matmul-n" || !strings.HasSuffix(ve.Site.File, "isa/validate_test.go") || ve.Site.Line == 0 {
		t.Errorf("got rule %q at %s:%d, want matmul-n at isa/validate_test.go", ve.Rule, ve.Site.File, ve.Site.Line)
	}
	if !strings.Contains(err.Error(), " at isa/validate_test.go:") {
		t.Errorf("error %q does not name the kernel line", err)
	}
}

func TestValidateAllocatesNothing(t *testing.T) {
	p := validProgram()
	a := Trn2()
	allocs := testing.AllocsPerRun(20, func() {
		if err := p.Validate(a); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Validate of a valid program allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkValidate(b *testing.B) {
	p := validProgram()
	for len(p.Instrs) < 1<<14 {
		p.Instrs = append(p.Instrs, p.Instrs...)
	}
	a := Trn2()
	for b.Loop() {
		if err := p.Validate(a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Instrs)), "instrs/op")
}
