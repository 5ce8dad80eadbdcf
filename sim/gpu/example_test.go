package gpu_test

import (
	"fmt"
	"testing"

	"github.com/trnsim/trnsim/isa"
	"github.com/trnsim/trnsim/sim/gpu"
)

// A GEMM-like kernel on an H100: 264 CTAs of 128×256 tiles, each running
// 64 iterations of a 64-deep K-slice through a 4-stage pipeline.
func ExampleRun() {
	h100, _ := gpu.Preset("h100")
	tile := gpu.Phase{
		Loads: []gpu.Load{
			{Bytes: 128 * 64 * 2, Sharers: 16, Stride: 1},                // A tile, shared along the tile row
			{Bytes: 64 * 256 * 2, Sharers: 16, Stride: 16, Multicast: 2}, // B tile, multicast in a 2×1 cluster
		},
		TensorFLOPs: 2 * 128 * 256 * 64,
		SmemBytes:   (128 + 2*256) * 64 * 2,
	}
	k := gpu.Kernel{
		Name: "gemm", FLOPs: 2 * 2048 * 4096 * 4096,
		Threads: 384, RegsPerThread: 168, SmemBytes: 4 * 48 << 10, Stages: 4,
		WarpSpecialized: true, Persistent: true,
		MMA:      gpu.MMA{Family: gpu.WGMMA, DType: isa.BF16},
		Loop:     tile,
		Epilogue: gpu.Phase{StoreBytes: 128 * 256 * 2},
		Grid:     []gpu.Group{{Count: 264, Iters: 64}},
	}
	rep, err := gpu.Run(h100, []gpu.Kernel{k})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.0f µs, %.0f TFLOP/s, bound by %s\n", rep.TimeNs/1e3, rep.TFLOPS(), rep.Bound)
	// Output: 91 µs, 757 TFLOP/s, bound by tensor_pipe
}

func BenchmarkRunCausalGrid(b *testing.B) {
	h100, _ := gpu.Preset("h100")
	k := gpu.Kernel{
		Name: "attn", Threads: 384, RegsPerThread: 168, SmemBytes: 160 << 10, Stages: 2, PingPong: true, WarpSpecialized: true,
		MMA:  gpu.MMA{Family: gpu.WGMMA, DType: isa.BF16},
		Loop: gpu.Phase{Loads: []gpu.Load{{Bytes: 32768, Sharers: 128, Stride: 1}}, TensorFLOPs: 8.4e6, MUFUOps: 16384, FP32Ops: 81920},
	}
	for i := 1; i <= 128; i++ {
		k.Grid = append(k.Grid, gpu.Group{Count: 1, Iters: i})
	}
	k.GridRepeat = 32
	for b.Loop() {
		if _, err := gpu.Run(h100, []gpu.Kernel{k}); err != nil {
			b.Fatal(err)
		}
	}
}
