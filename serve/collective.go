package serve

import (
	"fmt"
	"math"
)

// Op is a collective operation.
type Op string

const (
	AllReduce     Op = "all_reduce"
	AllGather     Op = "all_gather"
	ReduceScatter Op = "reduce_scatter"
	AllToAll      Op = "all_to_all"
)

// Collective is one collective's estimated cost.
type Collective struct {
	Op    Op
	Bytes float64 // the full buffer per rank: all-reduce input, all-gather output, reduce-scatter input, all-to-all send buffer
	Ranks int
	// Algorithm is what the platform runs at this size: Trainium mesh,
	// rdh, kangaring (docs/systems.md D2.2); NVIDIA ring_ll, ring_ll128,
	// ring_simple, nvls, oneshot_graph (D3.2–D3.4).
	Algorithm string
	TimeUs    float64
}

// Size thresholds of the Trainium intra-node algorithms (docs/systems.md D2.2):
// Mesh below 1 MB, recursive doubling/halving 1–56 MB, KangaRing above.
const (
	meshMaxBytes = 1 * mib
	rdhMaxBytes  = 56 * mib
)

// NCCL's latency constants (docs/systems.md D3.2, NCCL tuning.cc, µs): base
// latency and per-step NVLink latency of Ring for the LL, LL128 and Simple
// protocols; NVLS's intra-node latency; its bandwidth derates (LL half the
// bus bandwidth, LL128 0.92).
const (
	ncclBaseLL, ncclBaseLL128, ncclBaseSimple = 6.6, 14.0, 8.4
	ncclStepLL, ncclStepLL128, ncclStepSimple = 0.6, 1.9, 3.4
	ncclNVLSUs                                = 25
	ncclLLDerate, ncclLL128Derate             = 0.5, 0.92
)

// trnCoreDMAGBps is one physical NeuronCore's sustained DMA rate, 16
// engines × 23 B/ns (docs/systems.md D1 "Can one physical core use a whole
// stack?"), the bandwidth of the intra-chip phase between logical cores.
const trnCoreDMAGBps = 16 * 23

// CollectiveTime estimates op over ranks devices of system s at the given
// LNC, bytes per rank as Collective.Bytes says. graph selects the
// inference path: collectives inside a compiled graph (Trainium) or a CUDA
// graph where the one-shot all-reduce kernel of TensorRT-LLM is a
// candidate (NVIDIA); without it NVIDIA costs are NCCL's as nccl-tests
// measure them. Ranks on one chip exchange through its HBM first; the chips
// then run the platform's algorithm for the size.
func (s System) CollectiveTime(op Op, bytes float64, ranks, lnc int, graph bool) (Collective, error) {
	c := Collective{Op: op, Bytes: bytes, Ranks: ranks}
	if ranks < 1 || ranks > s.Devices(lnc) {
		return c, fmt.Errorf("%s over %d ranks: %s has %d devices at lnc=%d", op, ranks, s.Name, s.Devices(lnc), lnc)
	}
	if ranks == 1 || bytes <= 0 {
		c.Algorithm = "none"
		return c, nil
	}
	if s.Chip.Vendor == NVIDIA {
		return s.ncclTime(c, graph)
	}
	return s.trnTime(c, lnc), nil
}

// phases returns how much of an all-reduce op is: the number of (reduce-
// scatter, all-gather) halves it has (2 for all-reduce, 1 otherwise).
func halves(op Op) float64 {
	if op == AllReduce {
		return 2
	}
	return 1
}

func (s System) ncclTime(c Collective, graph bool) (Collective, error) {
	f := s.Fabric
	n := float64(c.Ranks)
	S := c.Bytes
	if c.Ranks > s.Chips {
		return c, fmt.Errorf("%s over %d GPUs: more than one NVSwitch domain (%d GPUs); inter-node collectives are not modelled", c.Op, c.Ranks, s.Chips)
	}
	type cand struct {
		name string
		us   float64
	}
	var cs []cand
	if c.Op == AllToAll {
		// Point-to-point through the switch: every GPU sends (n−1)/n of its
		// buffer at once, Simple protocol.
		cs = append(cs, cand{"p2p_simple", ncclBaseSimple + ncclStepSimple + (n-1)/n*S/(f.BusGBps*1e3)})
	} else {
		h := halves(c.Op)
		steps := h * (n - 1)
		frac := h * (n - 1) / n * S / 1e3 // bytes each GPU moves, in KB, ÷ GB/s → µs
		cs = append(cs,
			cand{"ring_ll", ncclBaseLL + steps*ncclStepLL + frac/(ncclLLDerate*f.LinkGBps)},
			cand{"ring_ll128", ncclBaseLL128 + steps*ncclStepLL128 + frac/(ncclLL128Derate*f.LinkGBps)},
			cand{"ring_simple", ncclBaseSimple + steps*ncclStepSimple + frac/f.BusGBps})
		if c.Op == AllReduce && f.NVLSBusGBps > 0 {
			cs = append(cs, cand{"nvls", ncclNVLSUs + frac/f.NVLSBusGBps})
		}
		if c.Op == AllReduce && graph && f.GraphARAlgGBps > 0 {
			cs = append(cs, cand{"oneshot_graph", f.GraphARAlphaUs + S/1e3/f.GraphARAlgGBps})
		}
	}
	// NCCL's tuner (and TensorRT-LLM's choice between its kernel and NCCL)
	// takes the fastest by this same α–β model.
	best := cs[0]
	for _, x := range cs[1:] {
		if x.us < best.us {
			best = x
		}
	}
	c.Algorithm, c.TimeUs = best.name, best.us
	return c, nil
}

// torusShape returns the diameter and mean hop distance of the sub-torus n
// chips of an instance occupy: the instance's first side filled first.
func torusShape(dims []int, n int) (diam, meanHops float64) {
	side := func(d int) (float64, float64) {
		dm, sum := 0, 0
		for i := 0; i < d; i++ {
			h := min(i, d-i)
			dm = max(dm, h)
			sum += h
		}
		return float64(dm), float64(sum) / float64(d)
	}
	left := n
	for _, d := range dims {
		if left <= 1 {
			break
		}
		k := min(d, left)
		dd, mh := side(k)
		diam += dd
		meanHops += mh
		left = (left + k - 1) / k
	}
	return max(diam, 1), max(meanHops, 1)
}

func (s System) trnTime(c Collective, lnc int) Collective {
	f := s.Fabric
	S := c.Bytes
	h := halves(c.Op)
	perChip := s.Chip.DevicesPerChip(lnc)
	local := min(c.Ranks, perChip)
	chips := (c.Ranks + perChip - 1) / perChip
	var us float64
	// Intra-chip phase: the logical cores of a chip reduce (or gather)
	// through HBM at a logical core's DMA rate.
	if local > 1 {
		l := float64(local)
		us += h * (f.HopUs + (l-1)/l*S/1e3/(trnCoreDMAGBps*float64(lnc)))
	}
	alg := "local"
	if chips > 1 {
		inst := min(chips, s.InstanceChips)
		n := float64(inst)
		diam, hops := 1.0, 1.0
		if f.Topology == "torus" {
			diam, hops = torusShape(f.TorusDims, inst)
		}
		// Bus bandwidth of mesh and all-to-all traffic: all links carry data
		// that crosses hops links on average, where the measured ring uses
		// two links per chip (KangaRing's two Hamiltonian cycles, D2.2).
		spread := f.BusGBps * float64(f.LinksPerChip) / 2 / hops
		if f.Topology == "switch" {
			spread = f.BusGBps // one hop through the switch at the bus rate
		}
		frac := h * (n - 1) / n * S / 1e3
		switch {
		case c.Op == AllToAll:
			alg = "mesh"
			us += diam*f.HopUs + (n-1)/n*S/1e3/spread
		case S < meshMaxBytes:
			alg = "mesh" // one step out and back, over the whole torus
			us += h*diam*f.HopUs + frac/spread
		case S < rdhMaxBytes:
			alg = "rdh"
			us += h*math.Ceil(math.Log2(n))*f.HopUs + frac/f.BusGBps
		default:
			alg = "kangaring"
			us += h*(n-1)*f.HopUs + frac/f.BusGBps
		}
		// Chips in other instances (UltraServer): a ring over the Z links
		// on each chip's share, at the same fraction of nominal as inside.
		if k := chips / s.InstanceChips; k > 1 && f.InterLinkGBps > 0 {
			kk := float64(k)
			bus := 2 * f.InterLinkGBps * f.BusGBps / (2 * f.LinkGBps)
			share := S / n
			if c.Op == AllToAll {
				share = S
			}
			us += h*(kk-1)*f.HopUs + h*(kk-1)/kk*share/1e3/bus
			alg += "+zring"
		}
	}
	c.Algorithm, c.TimeUs = alg, us
	return c
}
