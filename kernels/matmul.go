package kernels

import (
	"fmt"
	"math"

	"github.com/trnsim/trnsim/isa"
)

// The NeuronCore matmul is the NKI tutorial's ladder (docs/hardware.md A §4.1),
// C[M,N] = AT[K,M]ᵀ·B[K,N], each step a variant:
//
//   - tiled: for each 128-row tile of M and 512-column tile of N, loop K in
//     steps of 128, loading both the [128,128] lhsT tile and the [128,512]
//     rhs tile inside that loop, accumulating in one PSUM bank; copy to SBUF
//     and store.
//   - hoist_load: the same tiles, with the loads hoisted out of the inner
//     loop: the lhsT strip [K,128] is loaded once per M tile and reused by
//     every N tile, the rhs strip [K,512] is loaded ahead of its matmuls.
//   - block_free: blocks of tiles_m M tiles and tiles_n N tiles: each lhsT
//     block strip is loaded once per M block and each [128, BLOCK_N] rhs
//     tile feeds tiles_m × tiles_n matmuls, the block accumulating in
//     tiles_m × tiles_n PSUM banks.
//   - fully_optimized: blocks in M, N and K (TILES_IN_BLOCK M=16, N=2, K=8
//     on the tutorial's shape): for each N block, the fp32 results of all M
//     rows stay in SBUF while K advances one block at a time; each K
//     block's partial product is accumulated there by VectorE additions.
//     The blocks are double-buffered where SBUF allows, the next block's
//     loads issued ahead of this block's matmuls.
//   - best: fully_optimized.
//
// FP8 on NC-v3/v4 contracts 256 rows per matmul in double-row mode
// (stationary [128,2,M], moving [128,2,N]) and so runs at twice the bf16
// rate; K rows left over below 256 use ordinary matmuls.

func matmulKernel() *Kernel {
	return &Kernel{
		Name: "matmul",
		Doc:  "C[M,N] = A[M,K]·B[K,N], A given transposed in HBM (AT[K,M]) as NKI kernels take it",
		Params: []Param{
			{Name: "M", Kind: IntParam, Default: "4096", Doc: "rows of C"},
			{Name: "N", Kind: IntParam, Default: "4096", Doc: "columns of C"},
			{Name: "K", Kind: IntParam, Default: "4096", Doc: "contraction length"},
			{Name: "batch", Kind: IntParam, Default: "1", Doc: "independent matmuls"},
			{Name: "dtype", Kind: DTypeParam, Default: "bf16", Allowed: []string{"fp32", "bf16", "fp16", "fp8e4m3", "fp8e5m2"}, Doc: "input dtype"},
			{Name: "variant", Kind: EnumParam, Default: "best", Allowed: []string{"best", "tiled", "hoist_load", "block_free", "fully_optimized"},
				Doc:  "NKI matmul tutorial step; best = fully_optimized (GPU: the library's best)",
				Tune: []string{"tiled", "hoist_load", "block_free", "fully_optimized"}},
			{Name: "tiles_m", Kind: CountParam, Default: "0", Max: 64, Doc: "M tiles (128 rows) per block; 0 = automatic (block_free 2, fully_optimized 16)",
				Tune: []string{"1", "2", "3", "4", "6", "8", "12", "16", "32"}, TuneVariants: []string{"block_free", "fully_optimized"}},
			{Name: "tiles_n", Kind: CountParam, Default: "0", Max: 64, Doc: "N tiles (512 columns) per block; 0 = automatic (block_free 2, fully_optimized 2)",
				Tune: []string{"1", "2", "3", "4", "7", "8"}, TuneVariants: []string{"block_free", "fully_optimized"}},
			{Name: "tiles_k", Kind: CountParam, Default: "0", Max: 64, Doc: "K tiles (128 rows) per block, fully_optimized; 0 = automatic (8)",
				Tune: []string{"1", "2", "4", "8", "16", "32"}, TuneVariants: []string{"fully_optimized"}},
		},
		FLOPs: func(p Params) float64 {
			return 2 * float64(p.Int("batch")) * float64(p.Int("M")) * float64(p.Int("N")) * float64(p.Int("K"))
		},
		// ≈ 1.3 instructions per [128 × 512] output tile per 128-row K
		// slice (`trnsim asm`), rounded up.
		Instrs: func(p Params) float64 {
			return 1.5 * float64(p.Int("batch")) * tiles(p.Int("M"), 128) * tiles(p.Int("N"), 512) * tiles(p.Int("K"), 128)
		},
		Neuron:       matmulNeuron,
		GPU:          matmulGPU,
		FromMeasured: func(m Measurement) []Arg { return setInts([]string{"M", "N", "K", "batch"}, m.M, m.N, m.K, m.Batch) },
		NeuronVariant: func(p Params) string {
			if v := p.Str("variant"); v != "best" {
				return v
			}
			return "fully_optimized"
		},
		Reference: matmulReference,
		Tolerance: matmulTolerance,
	}
}

// matmulOutDType is the dtype of C: the input dtype, except fp8 inputs
// produce bf16 (fp8 is a storage format for weights and activations, not
// for results).
func matmulOutDType(in isa.DType) isa.DType {
	if in.IsFP8() {
		return isa.BF16
	}
	return in
}

// kChunk is one step along K: the contraction rows [k0, k0+rows) of one
// matmul. A double-row chunk spans 2·128 rows on 128 partitions.
type kChunk struct {
	k0, rows int
	double   bool
}

func (c kChunk) parts() int {
	if c.double {
		return c.rows / 2
	}
	return c.rows
}

// mmPlan is a matmul's shape and tiling on one architecture.
type mmPlan struct {
	b              *isa.Builder
	M, N, K, batch int
	dt, out        isa.DType
	tk, tm, tn     int // matmul tile limits: contraction, stationary, moving columns
	chunks         []kChunk
	double         bool // some chunk is double-row
	at, bm, c      isa.HBMTensor
}

func newMMPlan(b *isa.Builder, p Params) *mmPlan {
	arch := b.Arch()
	s := &mmPlan{M: p.Int("M"), N: p.Int("N"), K: p.Int("K"), batch: p.Int("batch"), dt: p.DType("dtype")}
	s.out = matmulOutDType(s.dt)
	// A §2.2 nc_matmul: K ≤ 128, M ≤ 128, N ≤ 512 (one fp32 PSUM bank; the
	// tutorial keeps 512 on NC-v4 too: gemm_moving_fmax).
	s.tk, s.tm, s.tn = arch.MatmulMaxK, arch.MatmulMaxM, min(512, arch.MatmulMaxN, arch.PSUMBankBytes/4)
	for k := 0; k < s.K; {
		switch {
		case s.dt.IsFP8() && arch.FP8DoubleRow && s.K-k >= 2*s.tk:
			s.chunks = append(s.chunks, kChunk{k, 2 * s.tk, true})
			s.double = true
		default:
			s.chunks = append(s.chunks, kChunk{k, min(s.tk, s.K-k), false})
		}
		k += s.chunks[len(s.chunks)-1].rows
	}
	s.b = b
	s.at = s.b.Input("AT", s.dt, s.batch, s.K, s.M)
	s.bm = s.b.Input("B", s.dt, s.batch, s.K, s.N)
	s.c = s.b.Output("C", s.out, s.batch, s.M, s.N)
	return s
}

// chunkBytes is the SBUF bytes per partition of a K-chunk tile w columns
// wide.
func (s *mmPlan) chunkBytes(w int) int {
	if s.double {
		return 2 * w * s.dt.Size()
	}
	return w * s.dt.Size()
}

// mmDMAPartitionBytes: DMA efficiency saturates at 4 KiB per partition
// (docs/hardware.md A §3.3), so loads wider than that are issued as pieces of
// at most 4 KiB per partition: the same bandwidth, and each piece's
// buffer can be refilled as soon as its own columns are consumed.
const mmDMAPartitionBytes = 4096

// loadChunk allocates from pool the tile of chunk ch for columns
// [col0, col0+w) of t (AT or B) in batch bi, and loads it in pieces of at
// most 4 KiB per partition.
func (s *mmPlan) loadChunk(pool *isa.Pool, t isa.HBMTensor, bi int, ch kChunk, col0, w int) isa.AP {
	var tile [1]isa.AP
	s.loadBlock(tile[:], pool, t, bi, []kChunk{ch}, col0, w, 0)
	return tile[0]
}

// loadBlock allocates from pool one tile per chunk of blk for columns
// [col0, col0+w) of t in batch bi and loads them in pieces of at most
// piece columns (0: no limit) and 4 KiB per partition, piece-major: the
// first piece of every chunk, then the second, and so on. Queues are in
// order and the Builder assigns them in turn, so emitting in the order the
// pieces are consumed (and so freed) keeps an early piece from waiting
// behind a late one on its queue.
func (s *mmPlan) loadBlock(tiles []isa.AP, pool *isa.Pool, t isa.HBMTensor, bi int, blk []kChunk, col0, w, piece int) {
	rowsPer := 1
	if s.double {
		rowsPer = 2
	}
	for j, ch := range blk {
		if ch.double {
			tiles[j] = pool.Tile(s.dt, ch.parts(), 2, w)
		} else {
			tiles[j] = pool.Tile(s.dt, ch.parts(), w)
		}
	}
	step := max(1, mmDMAPartitionBytes/(rowsPer*s.dt.Size()))
	if piece > 0 {
		step = min(step, piece)
	}
	var part, src isa.AP // cut in place: see cutCols
	for c := 0; c < w; c += step {
		pw := min(step, w-c)
		for j, ch := range blk {
			if ch.double {
				// Partition p, row r holds K row k0 + r·128 + p.
				src = t.Tile(bi*s.K+ch.k0, col0+c, ch.parts(), pw).WithDims(isa.Dim{Stride: isa.Narrow(ch.parts() * t.Cols()), Count: 2}, isa.Dim{Stride: 1, Count: isa.Narrow(pw)})
			} else {
				hbmTile(&src, &t, bi*s.K+ch.k0, col0+c, ch.parts(), pw)
			}
			dst := &tiles[j] // one piece: the whole tile
			if pw < w {
				cutCols(&part, &tiles[j], c, pw)
				dst = &part
			}
			s.b.Load(*dst, src)
		}
	}
}

// cols returns columns [c, c+w) of a tile whose last free dimension is
// the column dimension (a [P,W] tile or a double-row [P,2,W] tile).
func cols(a isa.AP, c, w int) isa.AP {
	last := a.NFree - 1
	a.Offset += c * int(a.Free[last].Stride) * a.DType.Size()
	a.Free[last].Count = isa.Narrow(w)
	return a
}

// cutCols sets *dst to cols(*a, c, w) in place. Where views are cut in
// bulk ahead of their use, this is the cheaper form: a view returned by
// value is built in a temporary and copied as a whole right after its
// fields were written, and the CPU cannot forward those narrow writes to
// the wide loads of the copy, so the copy waits for them to reach the
// cache.
func cutCols(dst, a *isa.AP, c, w int) {
	*dst = *a
	last := dst.NFree - 1
	dst.Offset += c * int(dst.Free[last].Stride) * dst.DType.Size()
	dst.Free[last].Count = isa.Narrow(w)
}

// store writes the fp32 PSUM or SBUF result tile t to C rows
// [row0, row0+rows) and columns [col0, …), converting through stage on
// engine eng (Vector or Scalar) when C is not fp32.
func (s *mmPlan) store(stage *isa.Pool, eng isa.Engine, t isa.AP, bi, row0, col0 int) {
	rows, w := t.Shape2()
	if t.Mem == isa.SBUF && t.DType == s.out {
		s.b.Store(s.c.Tile(bi*s.M+row0, col0, rows, w), t)
		return
	}
	o := stage.Tile(s.out, rows, w)
	if eng == isa.Scalar && !s.b.Arch().ScalarCopy {
		// NC-v2 has no tensor_copy on ScalarE: activation(copy) is the
		// same exact copy (docs/hardware.md A §2.2).
		s.b.Activation(o, t, isa.ActCopy)
	} else {
		s.b.TensorCopy(eng, o, t)
	}
	s.b.Store(s.c.Tile(bi*s.M+row0, col0, rows, w), o)
}

func matmulNeuron(b *isa.Builder, p Params) error {
	s := newMMPlan(b, p)
	var err error
	switch v := p.Str("variant"); v {
	case "tiled":
		s.tiled()
	case "hoist_load":
		err = s.hoistLoad()
	case "block_free":
		err = s.blockFree(p.Int("tiles_m"), p.Int("tiles_n"))
	case "fully_optimized", "best":
		err = s.fullyOptimized(p.Int("tiles_m"), p.Int("tiles_n"), p.Int("tiles_k"))
	default:
		err = fmt.Errorf("matmul: unknown variant %q", v)
	}
	if err != nil {
		return fmt.Errorf("matmul %s: %w", p, err)
	}
	return nil
}

// mmLoadBufs is the number of rotating buffers per loaded operand in the
// streaming loops: enough for loads to run three tiles ahead of the
// matmuls, covering the DMA trigger latency.
const mmLoadBufs = 4

// tiled is the tutorial's v2: both operands loaded per (M, N, K) tile.
func (s *mmPlan) tiled() {
	b := s.b
	lhs := b.SBUFPool("lhsT", mmLoadBufs, s.chunkBytes(s.tm))
	rhs := b.SBUFPool("rhs", mmLoadBufs, s.chunkBytes(s.tn))
	out := b.SBUFPool("out", 2, s.tn*s.out.Size())
	acc := b.PSUMPool("acc", 2, s.tn*4)
	// One iteration per output tile, in (batch, M tile, N tile) order: a
	// tile's instructions depend on its rows and columns alone.
	nm, nn := ceilDiv(s.M, s.tm), ceilDiv(s.N, s.tn)
	at := func(i int) (bi, m0, n0, mt, nt int) {
		bi, m0, n0 = i/(nm*nn), i/nn%nm*s.tm, i%nn*s.tn
		return bi, m0, n0, min(s.tm, s.M-m0), min(s.tn, s.N-n0)
	}
	key := func(i int) uint64 {
		_, _, _, mt, nt := at(i)
		return isa.LoopKey(mt, nt)
	}
	b.Loop(s.batch*nm*nn, key, func(i int) {
		bi, m0, n0, mt, nt := at(i)
		ps := acc.Tile(isa.FP32, mt, nt)
		for ci, ch := range s.chunks {
			a := s.loadChunk(lhs, s.at, bi, ch, m0, mt)
			r := s.loadChunk(rhs, s.bm, bi, ch, n0, nt)
			b.Matmul(ps, a, r, ci > 0)
		}
		s.store(out, isa.Vector, ps, bi, m0, n0)
	})
}

// hoistLoad is the tutorial's v3: the lhsT strip of an M tile is loaded
// once and reused by every N tile; the rhs strip of an (M, N) tile is
// loaded ahead of its matmuls, as much of it as fits in SBUF at once.
func (s *mmPlan) hoistLoad() error {
	b := s.b
	nc := len(s.chunks)
	sbuf := b.Arch().SBUFPartitionBytes
	outB := 2 * s.tn * s.out.Size()
	lhsB, rhsB := s.chunkBytes(s.tm), s.chunkBytes(s.tn)
	free := sbuf - outB
	if nc*lhsB+2*rhsB > free {
		return fmt.Errorf("hoist_load keeps the [K,%d] lhsT strip in SBUF: %d bytes per partition with two rhs tiles exceed %d; use block_free or fully_optimized",
			s.tm, nc*lhsB+2*rhsB, free)
	}
	// The whole rhs strip first; then a second lhsT strip (loads of the next
	// M tile overlap this one) if it still fits.
	ahead := min(nc, (free-nc*lhsB)/rhsB)
	lbufs := nc
	if 2*nc*lhsB+ahead*rhsB <= free {
		lbufs = 2 * nc
	}
	lhs := b.SBUFPool("lhsT", lbufs, lhsB)
	rhs := b.SBUFPool("rhs", ahead, rhsB)
	out := b.SBUFPool("out", 2, s.tn*s.out.Size())
	acc := b.PSUMPool("acc", 2, s.tn*4)
	lt := make([]isa.AP, nc)
	rt := make([]isa.AP, nc)
	for bi := 0; bi < s.batch; bi++ {
		for m0 := 0; m0 < s.M; m0 += s.tm {
			mt := min(s.tm, s.M-m0)
			for ci, ch := range s.chunks {
				lt[ci] = s.loadChunk(lhs, s.at, bi, ch, m0, mt)
			}
			for n0 := 0; n0 < s.N; n0 += s.tn {
				nt := min(s.tn, s.N-n0)
				for ci := 0; ci < ahead; ci++ {
					rt[ci] = s.loadChunk(rhs, s.bm, bi, s.chunks[ci], n0, nt)
				}
				ps := acc.Tile(isa.FP32, mt, nt)
				for ci := range s.chunks {
					b.Matmul(ps, lt[ci], rt[ci], ci > 0)
					if j := ci + ahead; j < nc {
						rt[j] = s.loadChunk(rhs, s.bm, bi, s.chunks[j], n0, nt)
					}
				}
				s.store(out, isa.Vector, ps, bi, m0, n0)
			}
		}
	}
	return nil
}

// autoTiles returns n if set, else def, limited to the tiles the shape
// has.
func autoTiles(n, def, have int) int {
	if n == 0 {
		n = def
	}
	return max(1, min(n, have))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// blockFree is the tutorial's v4: blocks of tm M tiles × tn N tiles. The
// lhsT block strip [K, BLOCK_M] is loaded once per M block; each rhs tile
// [128, BLOCK_N] is loaded once per (M block, K step) and feeds tm·tn
// matmuls accumulating in tm·tn PSUM banks (double-buffered when they fit,
// so one block's evictions overlap the next block's matmuls).
func (s *mmPlan) blockFree(tilesM, tilesN int) error {
	b := s.b
	arch := b.Arch()
	tmB := autoTiles(tilesM, 2, ceilDiv(s.M, s.tm))
	tnB := autoTiles(tilesN, 2, ceilDiv(s.N, s.tn))
	groups := tmB * tnB
	if groups > arch.PSUMBanks {
		// A capacity refusal (isa.CapacityError), like an over-full pool:
		// tune counts the configuration as infeasible.
		return fmt.Errorf("block_free accumulates tiles_m × tiles_n = %d × %d groups at once; PSUM has %d banks: %w", tmB, tnB, arch.PSUMBanks,
			&isa.CapacityError{Mem: isa.PSUM, Pool: "acc", Asked: groups * arch.PSUMBankBytes, Free: arch.PSUMPartitionBytes(), Capacity: arch.PSUMPartitionBytes()})
	}
	psBufs := groups
	if 2*groups <= arch.PSUMBanks {
		psBufs = 2 * groups
	}
	blockM, blockN := min(tmB*s.tm, s.M), min(tnB*s.tn, s.N)
	nc := len(s.chunks)
	lhs := b.SBUFPool("lhsT", nc, s.chunkBytes(blockM))
	rhs := b.SBUFPool("rhs", mmLoadBufs, s.chunkBytes(blockN))
	out := b.SBUFPool("out", 2, blockN*s.out.Size())
	acc := b.PSUMPool("acc", psBufs, s.tn*4)
	if err := b.Err(); err != nil {
		return err
	}
	ahead := min(mmLoadBufs, nc)
	lt := make([]isa.AP, nc)
	rt := make([]isa.AP, nc)
	ps := make([]isa.AP, groups)
	for bi := 0; bi < s.batch; bi++ {
		for m0 := 0; m0 < s.M; m0 += blockM {
			mw := min(blockM, s.M-m0)
			nbm := ceilDiv(mw, s.tm)
			for ci, ch := range s.chunks {
				lt[ci] = s.loadChunk(lhs, s.at, bi, ch, m0, mw)
			}
			for n0 := 0; n0 < s.N; n0 += blockN {
				nw := min(blockN, s.N-n0)
				nbn := ceilDiv(nw, s.tn)
				for g := 0; g < nbm*nbn; g++ {
					bm, bn := g/nbn, g%nbn
					ps[g] = acc.Tile(isa.FP32, min(s.tm, mw-bm*s.tm), min(s.tn, nw-bn*s.tn))
				}
				for ci := 0; ci < ahead; ci++ {
					rt[ci] = s.loadChunk(rhs, s.bm, bi, s.chunks[ci], n0, nw)
				}
				for ci := range s.chunks {
					for bm := 0; bm < nbm; bm++ {
						st := cols(lt[ci], bm*s.tm, min(s.tm, mw-bm*s.tm))
						for bn := 0; bn < nbn; bn++ {
							b.Matmul(ps[bm*nbn+bn], st, cols(rt[ci], bn*s.tn, min(s.tn, nw-bn*s.tn)), ci > 0)
						}
					}
					if j := ci + ahead; j < nc {
						rt[j] = s.loadChunk(rhs, s.bm, bi, s.chunks[j], n0, nw)
					}
				}
				for bm := 0; bm < nbm; bm++ {
					mt := min(s.tm, mw-bm*s.tm)
					o := out.Tile(s.out, mt, nw)
					for bn := 0; bn < nbn; bn++ {
						b.TensorCopy(isa.Vector, cols(o, bn*s.tn, min(s.tn, nw-bn*s.tn)), ps[bm*nbn+bn])
					}
					b.Store(s.c.Tile(bi*s.M+m0+bm*s.tm, n0, mt, nw), o)
				}
			}
		}
	}
	return nil
}

// foBudget is fully_optimized's SBUF plan: the block sizes (in tiles and
// in rows and columns), the M blocks whose fp32 results one pass keeps,
// the sets of loaded blocks (2: double-buffered), whether C's tiles are
// staged for a whole M block (direct), and the piece width of the loads.
type foBudget struct {
	tmB, tnB, tkB  int // M, N and K tiles per block
	blockM, blockN int
	pass, bufs     int
	direct         bool
	split          int // piece width limit of the loads, in tiles (0: 4 KiB/partition only)
}

// fullyOptimizedBudget chooses fully_optimized's blocks and buffering for
// the SBUF of s's architecture (see fullyOptimized): it decides, the
// emission follows.
func (s *mmPlan) fullyOptimizedBudget(tilesM, tilesN, tilesK int) foBudget {
	nc := len(s.chunks)
	mTiles, nTiles := ceilDiv(s.M, s.tm), ceilDiv(s.N, s.tn)
	tmB := autoTiles(tilesM, 16, mTiles)
	tnB := autoTiles(tilesN, 2, nTiles)
	tkB := autoTiles(tilesK, 8, nc)
	sbuf := s.b.Arch().SBUFPartitionBytes
	// need is the SBUF bytes per partition of a plan: the fp32 results of
	// a pass, bufs sets of loaded blocks, and the staging of C's dtype:
	// stage tiles of a whole M block (direct) or two rotating ones.
	need := func(pass, tmB, tnB, tkB, bufs int, direct bool) int {
		blockM, blockN := min(tmB*s.tm, s.M), min(tnB*s.tn, s.N)
		n := pass*tmB*blockN*4 + bufs*tkB*(s.chunkBytes(blockN)+s.chunkBytes(blockM))
		if s.out != isa.FP32 {
			stage := 2
			if direct {
				stage = tmB
			}
			n += stage * blockN * s.out.Size()
		}
		return n
	}
	if tilesN == 0 {
		passes := func(tn int) int { return ceilDiv(mTiles, tmB) }
		for 2*tnB <= nTiles && s.chunkBytes(2*tnB*s.tn) <= mmDMAPartitionBytes && need(passes(2*tnB), tmB, 2*tnB, tkB, 1, false) <= sbuf {
			tnB *= 2
		}
	}
	for tilesM == 0 && tilesN == 0 && tilesK == 0 && need(1, tmB, tnB, tkB, 1, false) > sbuf {
		if tkB > 1 {
			tkB /= 2
		} else if tmB > 1 {
			tmB /= 2
		} else if tnB > 1 {
			tnB /= 2
		} else {
			break
		}
	}
	blockM, blockN := min(tmB*s.tm, s.M), min(tnB*s.tn, s.N)
	// M blocks per pass, buffer sets of the loaded blocks and staging: the
	// first plan that fits of, in turn, two sets with direct staging, two
	// sets, one set with direct staging, one set; each with the longest
	// pass that fits, down to one M block.
	pass, bufs, direct := 1, 1, false
plan:
	for _, c := range []struct {
		bufs   int
		direct bool
	}{{2, true}, {2, false}, {1, true}, {1, false}} {
		for p := ceilDiv(s.M, blockM); p >= 1; p-- {
			if need(p, tmB, tnB, tkB, c.bufs, c.direct) <= sbuf {
				pass, bufs, direct = p, c.bufs, c.direct
				break plan
			}
		}
	}
	direct = direct && s.out != isa.FP32
	split := 0
	if bufs == 1 {
		split = 1
	}
	return foBudget{tmB: tmB, tnB: tnB, tkB: tkB, blockM: blockM, blockN: blockN, pass: pass, bufs: bufs, direct: direct, split: split}
}

// foStep is one step of fully_optimized's loop nest: one (N block, K
// block, M block) of one batch and M pass.
type foStep struct {
	bi, n0, nw, mp int
	k0             int // first chunk of the K block
	mb, m0, mw     int // M block within the pass, its first row and rows
	rset           int // buffer set of the rhs block (loaded when mb == 0)
}

// fullyOptimizedSteps lists the steps in loop order: batch, M pass, N
// block, K block, M block.
func (s *mmPlan) fullyOptimizedSteps(bg foBudget) []foStep {
	nc := len(s.chunks)
	var steps []foStep
	for bi, nk := 0, 0; bi < s.batch; bi++ {
		for mp := 0; mp < s.M; mp += bg.pass * bg.blockM {
			for n0 := 0; n0 < s.N; n0 += bg.blockN {
				for k0 := 0; k0 < nc; k0, nk = k0+bg.tkB, nk+1 {
					for mb := 0; mb < bg.pass && mp+mb*bg.blockM < s.M; mb++ {
						m0 := mp + mb*bg.blockM
						steps = append(steps, foStep{bi, n0, min(bg.blockN, s.N-n0), mp, k0, mb, m0, min(bg.blockM, s.M-m0), nk % bg.bufs})
					}
				}
			}
		}
	}
	return steps
}

// fullyOptimized is the tutorial's v5: blocks in M, N and K. For each N
// block, the fp32 results of a pass of M blocks stay in SBUF while K
// advances one block (tk K tiles) at a time: the rhs block is loaded once
// per (N block, K block), each lhsT block once per (N block, K block, M
// block), and each (bm, bn) tile's K-block partial product is added into
// the SBUF result by VectorE.
//
// Blocks left at 0 start from the tutorial's (16, 2, 8). Where M is small
// (decode), the N block widens until rhs loads reach 4 KiB per partition
// (where DMA efficiency saturates, docs/hardware.md A §3.3) as long as one pass
// still covers M; blocks shrink (K, then M, then N) until one M block fits
// SBUF. A pass covers as many M blocks as fit (all of M on the tutorial's
// shape).
//
// The loop nest runs as a sequence of steps, one per (N block, K block,
// M block), software-pipelined as an NKI author does with rotating pools:
//
//   - Where SBUF has room for two sets of the loaded blocks, they are
//     double-buffered and the loads of step i+1 are emitted before step
//     i's matmuls, into the other set, so the next block streams in while
//     this one multiplies. Two sets are worth a shorter pass (more rhs
//     reloads) but not a smaller K block (more VectorE additions).
//   - Otherwise (the fp32 calibration shape fills SBUF with one set) the
//     blocks are single-buffered and loaded in pieces along the tiles that
//     consume them (lhsT in quarters of M, rhs per N tile), each piece
//     refilling for step i+1 as soon as step i's last matmul has read it.
//
// In both, a step's stores are emitted after the next step's loads: DMA
// queues run in order (A §3.3), and a load queued behind a store that
// waits for the end of its step would hold the next step's matmuls back.
// The conversion of the fp32 result to C's dtype runs on ScalarE, which
// the matmuls leave idle, so the stores it paces never delay VectorE's
// additions (and, through the PSUM buffers, TensorE).
func (s *mmPlan) fullyOptimized(tilesM, tilesN, tilesK int) error {
	b := s.b
	nc := len(s.chunks)
	bg := s.fullyOptimizedBudget(tilesM, tilesN, tilesK)
	tmB, tkB, blockM, blockN := bg.tmB, bg.tkB, bg.blockM, bg.blockN
	pass, bufs, direct, split := bg.pass, bg.bufs, bg.direct, bg.split
	res := b.SBUFPool("result", pass*tmB, blockN*4)
	rhs := make([]*isa.Pool, bufs)
	lhs := make([]*isa.Pool, bufs)
	for i := range bufs {
		// One pool per set, so a short last K block cannot shift the
		// rotation of one set onto the other's slots.
		rhs[i] = b.SBUFPool(fmt.Sprintf("rhs%d", i), tkB, s.chunkBytes(blockN))
		lhs[i] = b.SBUFPool(fmt.Sprintf("lhsT%d", i), tkB, s.chunkBytes(blockM))
	}
	var stage *isa.Pool
	if s.out != isa.FP32 {
		n := 2
		if direct {
			n = tmB
		}
		stage = b.SBUFPool("stage", n, blockN*s.out.Size())
	}
	acc := b.PSUMPool("acc", 2, s.tn*4)
	if err := b.Err(); err != nil {
		return err
	}

	steps := s.fullyOptimizedSteps(bg)
	rt := make([][]isa.AP, bufs)
	lt := make([][]isa.AP, bufs)
	for i := range bufs {
		rt[i], lt[i] = make([]isa.AP, tkB), make([]isa.AP, tkB)
	}
	load := func(i int) {
		st := steps[i]
		blk := s.chunks[st.k0:min(nc, st.k0+tkB)]
		if st.mb == 0 {
			s.loadBlock(rt[st.rset], rhs[st.rset], s.bm, st.bi, blk, st.n0, st.nw, split*s.tn)
		}
		s.loadBlock(lt[i%bufs], lhs[i%bufs], s.at, st.bi, blk, st.m0, st.mw, split*ceilDiv(ceilDiv(st.mw, s.tm), 4)*s.tm)
	}
	result := make([]isa.AP, pass*tmB)
	out := make([]isa.AP, tmB) // direct staging: the M block's C tiles
	// The operands of one step's instructions (see compute).
	stat := make([][]isa.AP, tmB)
	for bm := range stat {
		stat[bm] = make([]isa.AP, tkB)
	}
	mov := make([]isa.AP, tkB)
	sum, dst := make([]isa.AP, tmB), make([]isa.AP, tmB)
	compute := func(i int) {
		st := steps[i]
		if st.k0 == 0 && st.mb == 0 {
			for mb := 0; mb < pass && st.mp+mb*blockM < s.M; mb++ {
				m0 := st.mp + mb*blockM
				for bm := 0; bm < ceilDiv(min(blockM, s.M-m0), s.tm); bm++ {
					result[mb*tmB+bm] = res.Tile(isa.FP32, min(s.tm, s.M-m0-bm*s.tm), st.nw)
				}
			}
		}
		blk := s.chunks[st.k0:min(nc, st.k0+tkB)]
		last := st.k0+tkB >= nc
		if direct && last {
			for bm := 0; bm < ceilDiv(st.mw, s.tm); bm++ {
				out[bm] = stage.Tile(s.out, min(s.tm, st.mw-bm*s.tm), st.nw)
			}
		}
		r, l := rt[st.rset], lt[i%bufs]
		nbm, nbn := ceilDiv(st.mw, s.tm), ceilDiv(st.nw, s.tn)
		// The operands are cut from the tiles ahead of the instructions
		// that read them (see cutCols): the stationary M tiles once per
		// step, the moving and result columns once per N tile.
		for bm := range nbm {
			for j := range blk {
				cutCols(&stat[bm][j], &l[j], bm*s.tm, min(s.tm, st.mw-bm*s.tm))
			}
		}
		for bn := range nbn {
			nt := min(s.tn, st.nw-bn*s.tn)
			for j := range blk {
				cutCols(&mov[j], &r[j], bn*s.tn, nt)
			}
			for bm := range nbm {
				cutCols(&sum[bm], &result[st.mb*tmB+bm], bn*s.tn, nt)
				if direct && last {
					// The last addition writes C's dtype: one rounding of
					// the same fp32 sum, and the fp32 tile is free at once.
					cutCols(&dst[bm], &out[bm], bn*s.tn, nt)
				} else {
					cutCols(&dst[bm], &result[st.mb*tmB+bm], bn*s.tn, nt)
				}
			}
			for bm := range nbm {
				ps := acc.Tile(isa.FP32, min(s.tm, st.mw-bm*s.tm), nt)
				for j := range blk {
					b.Matmul(ps, stat[bm][j], mov[j], j > 0)
				}
				if st.k0 == 0 {
					b.TensorCopy(isa.Vector, dst[bm], ps)
				} else {
					b.TensorTensor(dst[bm], sum[bm], ps, isa.ALUAdd)
				}
			}
		}
	}
	store := func(i int) {
		st := steps[i]
		if st.k0+tkB < nc {
			return // not the last K block: the rows are not final yet
		}
		for bm := 0; bm < ceilDiv(st.mw, s.tm); bm++ {
			if direct {
				rows, w := out[bm].Shape2()
				b.Store(s.c.Tile(st.bi*s.M+st.m0+bm*s.tm, st.n0, rows, w), out[bm])
			} else {
				s.store(stage, isa.Scalar, result[st.mb*tmB+bm], st.bi, st.m0+bm*s.tm, st.n0)
			}
		}
	}
	if bufs == 2 {
		load(0)
	}
	// Iteration i emits step i+1's loads, step i−1's stores and step i's
	// compute, so its key covers the three steps' structure: block sizes,
	// the step's place in its N block (K block, M block; where the result
	// and staging tiles it uses were allocated), the rhs set and the rows
	// of the pass; never the offsets n0, m0 and bi, which only move HBM
	// windows (steps[i] gives them, so a body after a skip finds its own).
	stepKey := func(x int) int {
		if x < 0 || x >= len(steps) {
			return -1
		}
		st := steps[x]
		return int(isa.LoopKey(st.nw, st.mw, st.k0, st.mb, st.rset, min(pass*blockM, s.M-st.mp)))
	}
	key := func(i int) uint64 { return isa.LoopKey(stepKey(i-1), stepKey(i), stepKey(i+1)) }
	b.Loop(len(steps), key, func(i int) {
		if bufs == 2 && i+1 < len(steps) {
			load(i + 1)
		} else if bufs == 1 {
			load(i)
		}
		if i > 0 {
			store(i - 1)
		}
		compute(i)
	})
	store(len(steps) - 1)
	return nil
}

func matmulReference(p Params, in map[string][]float32) map[string][]float64 {
	M, N, K, batch := p.Int("M"), p.Int("N"), p.Int("K"), p.Int("batch")
	at, bm := in["AT"], in["B"]
	c := make([]float64, batch*M*N)
	for bi := 0; bi < batch; bi++ {
		gemmTN(c[bi*M*N:(bi+1)*M*N], at[bi*K*M:(bi+1)*K*M], bm[bi*K*N:(bi+1)*K*N], M, N, K)
	}
	return map[string][]float64{"C": c}
}

// matmulTolerance: products of bf16, fp16 and fp8 inputs are exact in the
// fp32 PSUM accumulator and their sum rounds in fp32, an error that grows
// with √K for random-signed terms; the result is then rounded once to C's
// dtype (half an ulp: 2^-8 relative for bf16, 2^-11 for fp16). Inputs are
// rounded before the float64 reference sees them, so input rounding is not
// error. The absolute term covers cancellation: with inputs in [-1, 1) the
// sum's magnitude is O(√K), so elements near zero get an absolute bound of
// output-ulp·√K. An fp32 C is the accumulation itself, with no rounding
// after it: its bound is fp32DotTolerance's.
func matmulTolerance(p Params) Tolerance {
	K := float64(p.Int("K"))
	var rel float64
	why := ""
	switch matmulOutDType(p.DType("dtype")) {
	case isa.FP32:
		return Tolerance{Abs: fp32DotTolerance(p.Int("K")), Rel: 0,
			Why: "fp32 output: K-term fp32 dot-product rounding, probabilistic bound (1-2e-12 per element) capped by the worst case γ_K·K"}
	case isa.BF16:
		rel, why = 1.0/(1<<8), "bf16 output: one rounding to bf16 (2^-8 relative) after fp32 accumulation"
	case isa.FP16:
		rel, why = 1.0/(1<<11), "fp16 output: one rounding to fp16 (2^-11 relative) after fp32 accumulation"
	}
	rel += K / (1 << 24)
	return Tolerance{Abs: rel * math.Sqrt(K), Rel: rel, Why: why}
}

// fp32DotTolerance bounds |ĉ − c| for one element of an fp32 matmul of
// K-term dot products on the check's inputs: a and b uniform in [-1, 1),
// fp32 products accumulated in fp32 from +0 (isa.Exec's matmul numerics:
// in PSUM in increasing K order, then, for blocked kernels, by VectorE
// additions across K blocks), with u = 2^-24 the fp32 unit roundoff.
//
// The worst case is sound for any inputs and order: |ĉ − c| ≤ γ_K·Σ|a_k·b_k|
// ≤ γ_K·K (Higham, Accuracy and Stability, eq. 3.5; |a|, |b| < 1), with
// γ_K = K·u/(1 − K·u). It grows as K² while typical errors grow as K, so
// from K = 40 a probabilistic bound is the tighter one:
//
//   - Rounding model (Higham and Mary, SIAM J. Sci. Comput. 41(5), 2019):
//     each rounding is x(1+δ) with δ independent, mean zero, |δ| ≤ u. To
//     first order ĉ − c = Σ_r δ_r·S_r over the K product roundings (|S_r|
//     < 1) and the K−1 addition roundings (S_r the partial sum rounded), a
//     martingale with bounded steps, so by Azuma-Hoeffding
//     |ĉ − c| ≤ λ·u·√(Σ S_r²) except with probability 2·exp(−λ²/2).
//     λ = √(2·ln(2/δ)) with δ = 1e-12.
//   - Data: a partial sum of j products (mean 0, variance 1/9, |a·b| < 1)
//     exceeds f(j) = √(2j·L/9) + 2L/3 with probability at most 2·exp(−L)
//     (Bernstein); L = ln(2K/δ) makes every one of the K−1 partial sums
//     hold at once except with probability δ.
//   - Order: in any summation tree of K terms, at most K−s of the K−1
//     additions sum more than s terms (the increasing-order case), so
//     Σ S_r² ≤ K + Σ_{j=2..K} f(j)² whatever the blocking.
//
// So each element passes except with probability 2e-12 under the model;
// 1/(1 − K·u) covers the second-order terms the first-order sum leaves
// out. At K = 4096 this is 0.0044 absolute, about 2·10^-4 of a typical
// |c| (√(K/9) ≈ 21): a systematic 1e-4 relative error shows on the large
// elements, where the previous K·2^-24-relative bound let it through.
func fp32DotTolerance(k int) float64 {
	const (
		u     = 1.0 / (1 << 24) // fp32 unit roundoff
		delta = 1e-12           // per-element probability of each event the bound excludes
	)
	K := float64(k)
	worst := K * u / (1 - K*u) * K
	lambda := math.Sqrt(2 * math.Log(2/delta))
	L := math.Log(2 * K / delta)
	ss := K
	for j := 2; j <= k; j++ {
		f := math.Sqrt(2*float64(j)*L/9) + 2*L/3
		ss += f * f
	}
	return min(worst, lambda*u*math.Sqrt(ss)/(1-K*u))
}
