package kernels

import (
	"fmt"

	"github.com/trnsim/trnsim/sim/gpu"
)

// GEMM on a GPU, as cuBLAS runs it: one kernel of output tiles, each CTA
// streaming K-slices of A and B through a multi-stage shared-memory
// pipeline into the tensor cores, optionally split along K with a second
// kernel that reduces the fp32 partial sums. GPUGEMMTiling lists the tile
// shapes a device's library offers; the fastest valid (tile, split-K) pair
// under the model is chosen, as cuBLAS's heuristics pick.

// GPUGEMMShape is C[batch,M,N] = A[batch,M,K]·B[batch,K,N].
type GPUGEMMShape struct {
	M, N, K, Batch int
	DType          string // input dtype; fp8 inputs produce bf16 C
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
	// of a row (HARDWARE.md B §1.2 "Cluster size").
	ClusterM, ClusterN int
}

func (t GPUGEMMTile) String() string {
	s := fmt.Sprintf("%dx%dx%d/%dstage", t.TM, t.TN, t.TK, t.Stages)
	if t.ClusterM > 1 || t.ClusterN > 1 {
		s += fmt.Sprintf("/cluster%dx%d", max(1, t.ClusterM), max(1, t.ClusterN))
	}
	return s
}

// GPUGEMMChoice is the configuration GPUGEMMKernels chose.
type GPUGEMMChoice struct {
	Tile   GPUGEMMTile
	SplitK int
	TimeNs float64
}

func gpuDTypeSize(dtype string) int {
	switch dtype {
	case "fp32":
		return 4
	case "fp8", "fp8e4m3", "fp8e5m2":
		return 1
	}
	return 2
}

func gpuGEMMOutSize(dtype string) int {
	if gpuDTypeSize(dtype) == 1 {
		return 2 // fp8 inputs give bf16 C
	}
	return gpuDTypeSize(dtype)
}

// GPUGEMMTiling returns the tile shapes the device's GEMM library offers for
// dtype, with as many pipeline stages as fit in shared memory (at most 7,
// CUTLASS's deepest default).
func GPUGEMMTiling(dev gpu.Config, dtype string) []GPUGEMMTile {
	e := gpuDTypeSize(dtype)
	if dtype == "fp32" {
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
	case gpu.MMASync:
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
	case gpu.WGMMA:
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
		epi := ts[i].TM * ts[i].TN * gpuGEMMOutSize(dtype) / 2 // epilogue staging, half the tile
		ts[i].Stages = min(7, (dev.SmemPerCTA-epi)/stage)
		if dev.MMAFamily == gpu.MMASync {
			ts[i].Stages = min(ts[i].Stages, 4)
		}
	}
	var ok []GPUGEMMTile
	for _, t := range ts {
		if t.Stages < 2 {
			continue
		}
		if dev.MMAFamily == gpu.MMASync {
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

// gpuGEMMSplits are the split-K factors tried.
var gpuGEMMSplits = []int{1, 2, 3, 4, 6, 8, 12, 16}

// GPUGEMMKernels returns the kernels of the fastest (tile, split-K)
// configuration for s on dev.
func GPUGEMMKernels(dev gpu.Config, s GPUGEMMShape) ([]gpu.Kernel, GPUGEMMChoice, error) {
	if s.M <= 0 || s.N <= 0 || s.K <= 0 || s.Batch <= 0 {
		return nil, GPUGEMMChoice{}, fmt.Errorf("matmul %dx%dx%d batch %d: dimensions must be positive", s.M, s.N, s.K, s.Batch)
	}
	if s.DType != "fp32" && dev.PeakFLOPs(s.DType) == 0 {
		return nil, GPUGEMMChoice{}, unsupported("matmul dtype %s: %s has no %s tensor cores (HARDWARE.md B §1.1)", s.DType, dev.Name, s.DType)
	}
	var best []gpu.Kernel
	var choice GPUGEMMChoice
	var firstErr error
	for _, t := range GPUGEMMTiling(dev, s.DType) {
		if t.ClusterM > gpuCeilDiv(s.M, t.TM) || t.ClusterN > gpuCeilDiv(s.N, t.TN) {
			continue
		}
		for _, sk := range gpuGEMMSplits {
			if sk > 1 && (s.K/sk < 4*t.TK) {
				continue
			}
			ks := GPUGEMMDescribe(dev, s, t, sk)
			ns, err := gpu.Time(dev, ks)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if best == nil || ns < choice.TimeNs {
				best, choice = ks, GPUGEMMChoice{Tile: t, SplitK: sk, TimeNs: ns}
			}
		}
	}
	if best == nil {
		if firstErr == nil {
			firstErr = fmt.Errorf("no GEMM tiling for %s on %s", s.DType, dev.Name)
		}
		return nil, GPUGEMMChoice{}, firstErr
	}
	return best, choice, nil
}

// GPUGEMMDescribe returns the kernels of one GEMM configuration: the tiled
// kernel and, for splitK > 1, the reduction of the partial sums.
func GPUGEMMDescribe(dev gpu.Config, s GPUGEMMShape, t GPUGEMMTile, splitK int) []gpu.Kernel {
	e := float64(gpuDTypeSize(s.DType))
	oe := float64(gpuGEMMOutSize(s.DType))
	mt, nt := gpuCeilDiv(s.M, t.TM), gpuCeilDiv(s.N, t.TN)
	kc := gpuCeilDiv(s.K, splitK)
	iters := gpuCeilDiv(kc, t.TK)
	tm, tn, tk := float64(t.TM), float64(t.TN), float64(t.TK)
	flops := 2 * tm * tn * tk

	loop := gpu.Phase{
		// A-tile row m is read by the nt CTAs of that row (adjacent in
		// launch order); B-tile column n by the mt CTAs of that column,
		// nt apart.
		Loads: []gpu.Load{
			{Bytes: tm * tk * e, Sharers: nt, Stride: 1},
			{Bytes: tk * tn * e, Sharers: mt, Stride: nt},
		},
	}
	stage := (tm + tn) * tk * e
	k := gpu.Kernel{
		Name:            "gemm",
		FLOPs:           2 * float64(s.Batch) * float64(s.M) * float64(s.N) * float64(s.K),
		Threads:         t.Threads,
		RegsPerThread:   t.Regs,
		Stages:          t.Stages,
		Grid:            []gpu.Group{{Count: mt * nt * s.Batch * splitK, Iters: iters}},
		UniqueReadBytes: float64(s.Batch) * (float64(s.M)*float64(s.K) + float64(s.K)*float64(s.N)) * e,
	}
	smemStage := int(stage)
	k.SmemBytes = t.Stages * smemStage
	switch {
	case s.DType == "fp32":
		// CUDA-core SGEMM: one FFMA per multiply-add; each thread reads an
		// 8-element A and B fragment per k from shared memory.
		loop.FP32Ops = flops / 2
		loop.SmemBytes = float64(t.Threads) * 16 * 4 * tk
		k.Name = "sgemm"
	case dev.MMAFamily == gpu.MMASync:
		loop.TensorFLOPs = flops
		// Each warp reads its A rows and B columns (ldmatrix).
		loop.SmemBytes = (float64(t.WarpsN)*tm + float64(t.WarpsM)*tn) * tk * e
		k.MMA = gpu.MMA{Family: gpu.MMASync, DType: s.DType}
	case dev.MMAFamily == gpu.WGMMA:
		loop.TensorFLOPs = flops
		// Each consumer warpgroup's wgmma reads its A rows and all of B.
		loop.SmemBytes = (tm + float64(t.WarpsM)*tn) * tk * e
		k.MMA = gpu.MMA{Family: gpu.WGMMA, DType: s.DType}
		k.WarpSpecialized, k.Persistent = true, true
		gpuGEMMMulticast(&loop, t, mt, nt)
		k.SmemBytes += t.TM * t.TN * int(oe) / 2
	default:
		loop.TensorFLOPs = flops
		loop.SmemBytes = (tm + tn) * tk * e
		k.MMA = gpu.MMA{Family: gpu.TCGen05, DType: s.DType}
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
	k.Epilogue = gpu.Phase{
		FP32Ops:    tm * tn,
		SmemBytes:  2 * tm * tn * ce,
		StoreBytes: tm * tn * ce,
	}
	ks := []gpu.Kernel{k}
	if splitK > 1 {
		ks = append(ks, gpuSplitKReduce(dev, s, splitK))
	}
	return ks
}

// gpuGEMMMulticast sets the TMA multicast of a clustered tiling: each A
// tile reaches the ClusterN CTAs of its row, each B tile the ClusterM CTAs
// of its column, from one L2 read.
func gpuGEMMMulticast(loop *gpu.Phase, t GPUGEMMTile, mt, nt int) {
	loop.Loads[0].Multicast = min(max(1, t.ClusterN), nt)
	loop.Loads[1].Multicast = min(max(1, t.ClusterM), mt)
}

// gpuSplitKReduce sums splitK fp32 partial tiles into C: a streaming kernel of
// 256-thread CTAs, each reducing 2048 outputs.
func gpuSplitKReduce(dev gpu.Config, s GPUGEMMShape, splitK int) gpu.Kernel {
	const per = 2048
	n := s.Batch * s.M * s.N
	return gpu.Kernel{
		Name:    "splitk_reduce",
		Threads: 256, RegsPerThread: 32, Stages: 1,
		Prologue: gpu.Phase{
			Loads:   []gpu.Load{{Bytes: float64(per * splitK * 4)}},
			FP32Ops: float64(per * splitK),
		},
		Epilogue: gpu.Phase{StoreBytes: float64(per * gpuGEMMOutSize(s.DType))},
		Grid:     []gpu.Group{{Count: gpuCeilDiv(n, per)}},
	}
}

func gpuCeilDiv(a, b int) int { return (a + b - 1) / b }
