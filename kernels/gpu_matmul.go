package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu/plan"
)

// GEMM on a GPU, as cuBLAS runs it: one kernel of output tiles, each CTA
// streaming K-slices of A and B through a multi-stage shared-memory
// pipeline into the tensor cores, optionally split along K with a second
// kernel that reduces the fp32 partial sums. GPUGEMMTiling lists the tile
// shapes a device's library offers and GPUGEMMPlans every valid (tile,
// split-K) pair; package tune times them and keeps the fastest, as
// cuBLAS's heuristics pick.

// GPUGEMMShape is C[batch,M,N] = A[batch,M,K]·B[batch,K,N].
type GPUGEMMShape struct {
	M, N, K, Batch int
	DType          isa.DType // input dtype; fp8 inputs produce bf16 C
}

// GPUGEMMTile is one CTA tiling of a GEMM kernel.
type GPUGEMMTile struct {
	TM, TN, TK int // CTA tile (TK: K-slice per pipeline stage, elements)
	WarpsM     int // mma.sync: warps along M and N; wgmma: consumer warpgroups along M
	WarpsN     int
	Threads    int
	Regs       int // per thread
	Stages     int
	// ClusterM, ClusterN: CTAs per thread-block cluster along M and N
	// (Hopper and later; 0 or 1 = none). TMA multicasts each B tile to
	// the ClusterM CTAs of a column and each A tile to the ClusterN CTAs
	// of a row (docs/hardware.md B §1.2 "Cluster size").
	ClusterM, ClusterN int
}

func (t GPUGEMMTile) String() string {
	s := fmt.Sprintf("%dx%dx%d/%dstage", t.TM, t.TN, t.TK, t.Stages)
	if t.ClusterM > 1 || t.ClusterN > 1 {
		s += fmt.Sprintf("/cluster%dx%d", max(1, t.ClusterM), max(1, t.ClusterN))
	}
	return s
}

// matmulGPU is matmul's GPU description: every valid library tiling
// (GPUGEMMPlans). The NKI tutorial steps are NeuronCore variants only.
func matmulGPU(dev plan.Device, p Params) ([]GPUPlan, error) {
	if v := p.Str("variant"); v != "best" {
		return nil, unsupported("matmul variant %q is a NeuronCore tutorial step; on GPU %s use variant=best", v, dev.Name)
	}
	return GPUGEMMPlans(dev, GPUGEMMShape{M: p.Int("M"), N: p.Int("N"), K: p.Int("K"), Batch: p.Int("batch"), DType: p.DType("dtype")})
}

// gpuGEMMOutSize is the size of one element of C in bytes.
func gpuGEMMOutSize(dt isa.DType) int { return matmulOutDType(dt).Size() }

// GPUGEMMTiling returns the tile shapes the device's GEMM library offers for
// dtype, with as many pipeline stages as fit in shared memory (at most 7,
// CUTLASS's deepest default).
func GPUGEMMTiling(dev plan.Device, dt isa.DType) []GPUGEMMTile {
	e := dt.Size()
	if dt == isa.FP32 {
		// CUDA-core SGEMM (cuBLAS does not use TF32 unless asked): 256
		// threads, 8×8 outputs per thread.
		return []GPUGEMMTile{
			{TM: 128, TN: 128, TK: 8, Threads: 256, Regs: 128, Stages: 2},
			{TM: 128, TN: 64, TK: 8, Threads: 128, Regs: 128, Stages: 2},
			{TM: 64, TN: 64, TK: 8, Threads: 64, Regs: 128, Stages: 2},
		}
	}
	tk := 64 / e * 2 // 128-byte K-slices: 64 bf16, 128 fp8
	var ts []GPUGEMMTile
	switch dev.MMAFamily {
	case plan.MMASync:
		// CUTLASS sm80 tilings: warp tiles of 64×64 (or 32×64).
		tk = 32 * 2 / e // 64-byte K-slices
		ts = []GPUGEMMTile{
			{TM: 128, TN: 256, TK: tk, WarpsM: 2, WarpsN: 4, Threads: 256, Regs: 232},
			{TM: 256, TN: 128, TK: tk, WarpsM: 4, WarpsN: 2, Threads: 256, Regs: 232},
			{TM: 128, TN: 128, TK: tk, WarpsM: 2, WarpsN: 2, Threads: 128, Regs: 232},
			{TM: 128, TN: 64, TK: tk, WarpsM: 2, WarpsN: 2, Threads: 128, Regs: 168},
			{TM: 64, TN: 128, TK: tk, WarpsM: 2, WarpsN: 2, Threads: 128, Regs: 168},
			{TM: 64, TN: 64, TK: tk, WarpsM: 2, WarpsN: 2, Threads: 128, Regs: 128},
		}
	case plan.WGMMA:
		// CUTLASS sm90 warp-specialised tilings: one producer warpgroup,
		// one or two consumer warpgroups of 64-row wgmma.
		ts = []GPUGEMMTile{
			{TM: 128, TN: 256, TK: tk, WarpsM: 2, Threads: 384, Regs: 168},
			{TM: 256, TN: 128, TK: tk, WarpsM: 2, Threads: 384, Regs: 168},
			{TM: 128, TN: 128, TK: tk, WarpsM: 2, Threads: 384, Regs: 168},
			{TM: 128, TN: 64, TK: tk, WarpsM: 2, Threads: 384, Regs: 168},
			{TM: 64, TN: 128, TK: tk, WarpsM: 1, Threads: 256, Regs: 168},
			{TM: 64, TN: 64, TK: tk, WarpsM: 1, Threads: 256, Regs: 168},
		}
	default: // tcgen05: 128-row MMAs from shared memory into tensor memory
		ts = []GPUGEMMTile{
			{TM: 128, TN: 256, TK: tk, WarpsM: 1, Threads: 256, Regs: 168},
			{TM: 128, TN: 128, TK: tk, WarpsM: 1, Threads: 256, Regs: 168},
			{TM: 128, TN: 64, TK: tk, WarpsM: 1, Threads: 256, Regs: 168},
		}
	}
	for i := range ts {
		stage := (ts[i].TM + ts[i].TN) * ts[i].TK * e
		epi := ts[i].TM * ts[i].TN * gpuGEMMOutSize(dt) / 2 // epilogue staging, half the tile
		ts[i].Stages = min(7, (dev.SmemPerCTA-epi)/stage)
		if dev.MMAFamily == plan.MMASync {
			ts[i].Stages = min(ts[i].Stages, 4)
		}
	}
	var ok []GPUGEMMTile
	for _, t := range ts {
		if t.Stages < 2 {
			continue
		}
		if dev.MMAFamily == plan.MMASync {
			ok = append(ok, t)
			continue
		}
		// CUTLASS sm90 cluster shapes 1×1, 2×1, 1×2, 2×2.
		for _, c := range [][2]int{{1, 1}, {2, 1}, {1, 2}, {2, 2}} {
			t.ClusterM, t.ClusterN = c[0], c[1]
			ok = append(ok, t)
		}
	}
	return ok
}

// gpuGEMMSplits are the split-K factors offered.
var gpuGEMMSplits = []int{1, 2, 3, 4, 6, 8, 12, 16}

// GPUGEMMPlans returns one plan per valid (tile, split-K) configuration of
// s on dev, tiles in GPUGEMMTiling's order and split factors ascending
// within each: the candidates a library's heuristic chooses among. A split
// is valid when each split keeps at least four K-slices; a cluster when
// the grid has as many tiles along its dimension.
func GPUGEMMPlans(dev plan.Device, s GPUGEMMShape) ([]GPUPlan, error) {
	if s.M <= 0 || s.N <= 0 || s.K <= 0 || s.Batch <= 0 {
		return nil, fmt.Errorf("matmul %dx%dx%d batch %d: dimensions must be positive", s.M, s.N, s.K, s.Batch)
	}
	if s.DType != isa.FP32 && !dev.HasTensor(s.DType) {
		return nil, unsupported("matmul dtype %s: %s has no %s tensor cores (docs/hardware.md B §1.1)", s.DType, dev.Name, s.DType)
	}
	var plans []GPUPlan
	for _, t := range GPUGEMMTiling(dev, s.DType) {
		if t.ClusterM > gpuCeilDiv(s.M, t.TM) || t.ClusterN > gpuCeilDiv(s.N, t.TN) {
			continue
		}
		for _, sk := range gpuGEMMSplits {
			if sk > 1 && (s.K/sk < 4*t.TK) {
				continue
			}
			plans = append(plans, GPUPlan{
				Kernels: GPUGEMMDescribe(dev, s, t, sk),
				Variant: "best",
				Detail:  fmt.Sprintf("tile %s split-k %d", t, sk),
			})
		}
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("no GEMM tiling for %s on %s", s.DType, dev.Name)
	}
	return plans, nil
}

// GPUGEMMDescribe returns the kernels of one GEMM configuration: the tiled
// kernel and, for splitK > 1, the reduction of the partial sums.
func GPUGEMMDescribe(dev plan.Device, s GPUGEMMShape, t GPUGEMMTile, splitK int) []plan.Kernel {
	e := float64(s.DType.Size())
	oe := float64(gpuGEMMOutSize(s.DType))
	mt, nt := gpuCeilDiv(s.M, t.TM), gpuCeilDiv(s.N, t.TN)
	kc := gpuCeilDiv(s.K, splitK)
	iters := gpuCeilDiv(kc, t.TK)
	tm, tn, tk := float64(t.TM), float64(t.TN), float64(t.TK)
	flops := 2 * tm * tn * tk

	loop := plan.Phase{
		// A-tile row m is read by the nt CTAs of that row (adjacent in
		// launch order); B-tile column n by the mt CTAs of that column,
		// nt apart.
		Loads: []plan.Load{
			{Bytes: tm * tk * e, Sharers: nt, Stride: 1},
			{Bytes: tk * tn * e, Sharers: mt, Stride: nt},
		},
	}
	stage := (tm + tn) * tk * e
	k := plan.Kernel{
		Name:            "gemm",
		FLOPs:           2 * float64(s.Batch) * float64(s.M) * float64(s.N) * float64(s.K),
		Threads:         t.Threads,
		RegsPerThread:   t.Regs,
		Stages:          t.Stages,
		Grid:            []plan.Group{{Count: mt * nt * s.Batch * splitK, Iters: iters}},
		UniqueReadBytes: float64(s.Batch) * (float64(s.M)*float64(s.K) + float64(s.K)*float64(s.N)) * e,
	}
	smemStage := int(stage)
	k.SmemBytes = t.Stages * smemStage
	switch {
	case s.DType == isa.FP32:
		// CUDA-core SGEMM: one FFMA per multiply-add; each thread reads an
		// 8-element A and B fragment per k from shared memory.
		loop.FP32Ops = flops / 2
		loop.SmemBytes = float64(t.Threads) * 16 * 4 * tk
		k.Name = "sgemm"
	case dev.MMAFamily == plan.MMASync:
		loop.TensorFLOPs = flops
		// Each warp reads its A rows and B columns (ldmatrix).
		loop.SmemBytes = (float64(t.WarpsN)*tm + float64(t.WarpsM)*tn) * tk * e
		k.MMA = plan.MMA{Family: plan.MMASync, DType: s.DType}
	case dev.MMAFamily == plan.WGMMA:
		loop.TensorFLOPs = flops
		// Each consumer warpgroup's wgmma reads its A rows and all of B.
		loop.SmemBytes = (tm + float64(t.WarpsM)*tn) * tk * e
		k.MMA = plan.MMA{Family: plan.WGMMA, DType: s.DType}
		k.WarpSpecialized, k.Persistent = true, true
		gpuGEMMMulticast(&loop, t, mt, nt)
		k.SmemBytes += t.TM * t.TN * int(oe) / 2
	default:
		loop.TensorFLOPs = flops
		loop.SmemBytes = (tm + tn) * tk * e
		k.MMA = plan.MMA{Family: plan.TCGen05, DType: s.DType}
		k.WarpSpecialized, k.Persistent = true, true
		gpuGEMMMulticast(&loop, t, mt, nt)
		k.SmemBytes += t.TM * t.TN * int(oe) / 2
	}
	// Loop.SmemBytes counts the operand reads of the MMAs (or of the
	// FFMA loop) against the shared-memory port, as FA4 §3.1.1 does
	// (B §1.3); the asynchronous copies filling the stages are not counted.
	k.Loop = loop
	// Epilogue: convert the fp32 accumulators and store C (fp32 partials
	// when split along K), staged through shared memory.
	ce := oe
	if splitK > 1 {
		ce = 4
	}
	k.Epilogue = plan.Phase{
		FP32Ops:    tm * tn,
		SmemBytes:  2 * tm * tn * ce,
		StoreBytes: tm * tn * ce,
	}
	ks := []plan.Kernel{k}
	if splitK > 1 {
		ks = append(ks, gpuSplitKReduce(dev, s, splitK))
	}
	return ks
}

// gpuGEMMMulticast sets the TMA multicast of a clustered tiling: each A
// tile reaches the ClusterN CTAs of its row, each B tile the ClusterM CTAs
// of its column, from one L2 read.
func gpuGEMMMulticast(loop *plan.Phase, t GPUGEMMTile, mt, nt int) {
	loop.Loads[0].Multicast = min(max(1, t.ClusterN), nt)
	loop.Loads[1].Multicast = min(max(1, t.ClusterM), mt)
}

// gpuSplitKReduce sums splitK fp32 partial tiles into C: a streaming kernel of
// 256-thread CTAs, each reducing 2048 outputs.
func gpuSplitKReduce(dev plan.Device, s GPUGEMMShape, splitK int) plan.Kernel {
	const per = 2048
	n := s.Batch * s.M * s.N
	return plan.Kernel{
		Name:    "splitk_reduce",
		Threads: 256, RegsPerThread: 32, Stages: 1,
		Prologue: plan.Phase{
			Loads:   []plan.Load{{Bytes: float64(per * splitK * 4)}},
			FP32Ops: float64(per * splitK),
		},
		Epilogue: plan.Phase{StoreBytes: float64(per * gpuGEMMOutSize(s.DType))},
		Grid:     []plan.Group{{Count: gpuCeilDiv(n, per)}},
	}
}

func gpuCeilDiv(a, b int) int { return (a + b - 1) / b }
