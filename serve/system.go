package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Fabric is how a system's chips talk to each other: the topology, the
// link figures and the collective-engine constants the α–β model of
// collective.go uses. Bandwidths are in GB/s (1e9 B/s), one direction;
// latencies in µs.
type Fabric struct {
	// Topology is "torus" (Trainium NeuronLink: each chip wired to its
	// grid neighbours) or "switch" (NVSwitch, NeuronSwitch: any to any).
	Topology string `json:"topology"`
	// TorusDims are the torus sides within one instance ([4,4] for 16
	// chips).
	TorusDims []int `json:"torus_dims,omitempty"`
	// LinkGBps is one chip-to-chip link's bandwidth (torus), or one GPU's
	// aggregate NVLink bandwidth as NCCL assumes it (switch).
	LinkGBps float64 `json:"link_gbps"`
	// LinksPerChip is the number of torus links per chip (switch: 1).
	LinksPerChip int `json:"links_per_chip"`
	// HopUs is the latency of one algorithm step between neighbours.
	HopUs float64 `json:"hop_us"`
	// BusGBps is the bus bandwidth the collectives reach on large messages
	// (measured where published); below nominal link rates.
	BusGBps float64 `json:"bus_gbps"`
	// InterLinkGBps is the per-link bandwidth between the instances of a
	// multi-instance system (UltraServer Z links); 0 when single-instance.
	InterLinkGBps float64 `json:"inter_link_gbps,omitempty"`

	// NVIDIA only (switch): NCCL's base and per-step latencies and the
	// NVLS and inference-path (CUDA-graph one-shot) all-reduce figures.
	NVLSBusGBps    float64 `json:"nvls_bus_gbps,omitempty"`     // 0: no NVLS (A100)
	GraphARAlphaUs float64 `json:"graph_ar_alpha_us,omitempty"` // one-shot all-reduce α
	GraphARAlgGBps float64 `json:"graph_ar_alg_gbps,omitempty"` // its algorithm bandwidth
}

// System is a set of chips serving together: an instance or a group of
// instances joined by chip-to-chip links, with its price rows.
type System struct {
	Name string
	Chip Chip
	// Chips is the number of accelerator chips in the system.
	Chips int
	// InstanceChips is the number of chips in one priced instance; a
	// system of several instances (an UltraServer) costs Chips/InstanceChips
	// instance-hours per hour.
	InstanceChips int
	// PriceInstance names the instance type price rows are looked up under.
	PriceInstance string
	Fabric        Fabric
	// Prices are the known prices of one instance-hour (or set by -price or
	// the user's file), the first being the default.
	Prices []Price
	// Source cites the composition.
	Source string
}

// Instances is the number of priced instances in the system.
func (s System) Instances() int { return s.Chips / s.InstanceChips }

// Devices returns the number of tensor-parallel devices at the given LNC.
func (s System) Devices(lnc int) int { return s.Chips * s.Chip.DevicesPerChip(lnc) }

// Systems returns the built-in systems, a new slice on each call, with
// their prices from the embedded price file.
func Systems() []System {
	trn2Fabric := Fabric{
		Topology: "torus", TorusDims: []int{4, 4}, // docs/systems.md D2.1 trn2.48xlarge 4×4 2D torus
		LinkGBps:     256, // D2.1 NeuronLink-v3 per link: 1,024 GB/s per chip ÷ 4 [I]
		LinksPerChip: 4,   // D2.1 NeuronLink-v3 links per chip
		HopUs:        1.5, // D2.2 intra-node per-hop latency "about 1-2 us"
		// D2.3 16-rank all-reduce, KangaRing, 512 MiB: 103.9 GiB/s busbw
		// = 111.6 GB/s; no published 64-rank trn2.48xlarge figure (D3.4).
		BusGBps: 103.9 * gib / gb,
	}
	return withPrices([]System{
		{
			Name: "trn1.32xlarge", Chip: mustChip("trainium1"), Chips: 16, InstanceChips: 16, PriceInstance: "trn1.32xlarge",
			Fabric: Fabric{
				Topology: "torus", TorusDims: []int{4, 4}, // D2.1 Trn1 topology: 4×4 2D torus
				LinkGBps:     96 * gib / gb, // D2.1 NeuronLink-v2 per link 96 GiB/s [I]
				LinksPerChip: 4,             // D2.1 NeuronLink-v2 links per chip
				HopUs:        1.5,           // D2.2 per-hop 1–2 µs (Trn2 doc; taken for Trn1 [I])
				// D2.3 2-rank all-reduce 1 GiB: 52.83 GiB/s busbw
				BusGBps: 52.83 * gib / gb,
			},
			Source: "docs/systems.md D4.1 trn1.32xlarge: 16 Trainium (32 NC-v2)",
		},
		{
			Name: "trn2.48xlarge", Chip: mustChip("trainium2"), Chips: 16, InstanceChips: 16, PriceInstance: "trn2.48xlarge",
			Fabric: trn2Fabric,
			Source: "docs/systems.md D4.1 trn2.48xlarge: 16 Trainium2 (128 NC-v3; 64 logical at LNC=2)",
		},
		{
			Name: "trn2-ultraserver", Chip: mustChip("trainium2"), Chips: 64, InstanceChips: 16, PriceInstance: "trn2u.48xlarge",
			Fabric: func() Fabric {
				f := trn2Fabric
				f.InterLinkGBps = 128 // D2.1 Trn2 UltraServer: Z links 256 ÷ 2 = 128 GB/s [I]
				return f
			}(),
			Source: "docs/systems.md D2.1/D4.1 Trn2 UltraServer: 4 × trn2u.48xlarge = 64 chips, 3D torus",
		},
		{
			Name: "trn3-ultraserver", Chip: mustChip("trainium3"), Chips: 64, InstanceChips: 16, PriceInstance: "trn3-ultraserver-gen1-server",
			Fabric: Fabric{
				Topology:     "switch", // D2.1 Trn3 fabric: NeuronLink-v4 + NeuronSwitch-v1, all-to-all
				LinkGBps:     704,      // D2.1 Trn3 link arithmetic: 11 links = 704 GB/s per chip (of three conflicting figures, the link sum) [I]
				LinksPerChip: 1,
				HopUs:        1.5, // D2.2 per-hop 1–2 µs, taken for Trn3 [I]
				// No published Trn3 collective measurement: Trn2's measured
				// fraction of nominal (111.6 of 512 GB/s) applied to 704 [I].
				BusGBps: 704 * (103.9 * gib / gb) / 512,
			},
			Source: "docs/systems.md D4.1 Trn3 Gen1 UltraServer: 64 chips (4 servers × 16); no instance type or price published",
		},
		nvidiaSystem("p4d.24xlarge", "a100-40gb", Fabric{
			LinkGBps: 240, // D3.2 NCCL per-link SM80 20.0 GB/s × 12 links
			// D3.3 8×A100 NCCL 512 MiB: 222 GB/s busbw
			BusGBps:        222,
			GraphARAlphaUs: 4.6, GraphARAlgGBps: 130, // D3.4 two-point fit, TRT-LLM custom AR, A100
		}, "docs/systems.md D4.1 p4d.24xlarge: 8 × A100 40 GB, NVSwitch gen2"),
		nvidiaSystem("p4de.24xlarge", "a100-80gb", Fabric{
			LinkGBps: 240, BusGBps: 222, // as p4d: same NVSwitch gen2 (D3.2, D3.3)
			GraphARAlphaUs: 4.6, GraphARAlgGBps: 130,
		}, "docs/systems.md D4.1 p4de.24xlarge: 8 × A100 80 GB"),
		nvidiaSystem("p5.48xlarge", "h100", Fabric{
			LinkGBps:       371,                      // D3.2 18 × 20.6 GB/s
			BusGBps:        370,                      // D3.1 maintainer: effective ring NVLink 370 GB/s
			NVLSBusGBps:    480,                      // D3.1 maintainer: NVLS peak busBw ~480 GB/s on 8 GPUs
			GraphARAlphaUs: 3.2, GraphARAlgGBps: 268, // D3.4 TRT-LLM custom AR fit, H100
		}, "docs/systems.md D4.1 p5.48xlarge: 8 × H100 80 GB, NVSwitch gen3"),
		nvidiaSystem("p5en.48xlarge", "h200", Fabric{
			LinkGBps:       371,                      // D3.2 18 × 20.6 GB/s (H200 = Hopper NVLink4)
			BusGBps:        370,                      // D3.1 (as H100)
			NVLSBusGBps:    480,                      // D3.3 Azure H200 NVLS 8 GiB: 480.0 GB/s
			GraphARAlphaUs: 3.2, GraphARAlgGBps: 268, // D3.4 TRT-LLM custom AR fit, H200
		}, "docs/systems.md D4.1 p5en.48xlarge: 8 × H200 141 GB"),
		nvidiaSystem("p6-b200.48xlarge", "b200", Fabric{
			LinkGBps:       722,                      // D3.2 18 × 40.1 GB/s
			BusGBps:        722,                      // D3.2 NCCL's own per-link figure (no ring-only measurement) [I]
			NVLSBusGBps:    704,                      // D3.3 8×B200 NCCL 512 MiB: 704 GB/s busbw (16 GiB reaches 845.7, MLE)
			GraphARAlphaUs: 5.4, GraphARAlgGBps: 417, // D3.4 TRT-LLM custom AR fit, B200
		}, "docs/systems.md D4.1 p6-b200.48xlarge: 8 × B200 179 GB"),
	})
}

func nvidiaSystem(name, chip string, f Fabric, src string) System {
	f.Topology = "switch"
	f.LinksPerChip = 1
	f.HopUs = 0 // NCCL's latencies are in collective.go (D3.2)
	return System{Name: name, Chip: mustChip(chip), Chips: 8, InstanceChips: 8, PriceInstance: name, Fabric: f, Source: src}
}

func mustChip(name string) Chip {
	c, err := ChipByName(name)
	if err != nil {
		panic(err) // built-in table only: a programming error
	}
	return c
}

func withPrices(ss []System) []System {
	rows := builtinPrices()
	for i := range ss {
		for _, p := range rows {
			if p.Instance == ss[i].PriceInstance {
				ss[i].Prices = append(ss[i].Prices, p)
			}
		}
	}
	return ss
}

// SystemByName returns the built-in system name.
func SystemByName(name string) (System, error) {
	var names []string
	for _, s := range Systems() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return System{}, fmt.Errorf("unknown system %q (allowed: %s, or a JSON file given with -system-file)", name, strings.Join(names, ", "))
}

// systemFile is the JSON form of a user-defined system.
type systemFile struct {
	Name          string  `json:"name"`
	Chip          string  `json:"chip"`
	Chips         int     `json:"chips"`
	InstanceChips int     `json:"instance_chips"`
	Fabric        *Fabric `json:"fabric"`
	Price         *struct {
		USDPerHour float64 `json:"usd_per_hour"`
		Unit       string  `json:"unit"`
		Basis      string  `json:"basis"`
		Date       string  `json:"date"`
		Source     string  `json:"source"`
	} `json:"price"`
}

// SystemError is a user-defined system file that does not fit the schema.
type SystemError struct {
	File, Field, Msg string
}

func (e *SystemError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("system file %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("system file %s: %s: %s", e.File, e.Field, e.Msg)
}

// fieldError is the *SystemError for field of the system file name.
func fieldError(name, field, format string, a ...any) error {
	return &SystemError{File: name, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// LoadSystem reads a user-defined system from JSON (unknown fields are
// errors). name labels errors. Example:
//
//	{"name": "my-trn2x8", "chip": "trainium2", "chips": 8, "instance_chips": 8,
//	 "fabric": {"topology": "torus", "torus_dims": [2,4], "link_gbps": 256,
//	            "links_per_chip": 4, "hop_us": 1.5, "bus_gbps": 111.6},
//	 "price": {"usd_per_hour": 17.88, "unit": "instance", "basis": "capacity-block",
//	           "date": "2026-10", "source": "my quote"}}
func LoadSystem(r io.Reader, name string) (System, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f systemFile
	if err := dec.Decode(&f); err != nil {
		return System{}, &SystemError{File: name, Msg: err.Error()}
	}
	if dec.More() {
		return System{}, &SystemError{File: name, Msg: "trailing data after the JSON object"}
	}
	if strings.TrimSpace(f.Name) == "" || strings.ContainsAny(f.Name, ",=\n") {
		return System{}, fieldError(name, "name", "%q: want a non-empty name without ',' '=' or newlines", f.Name)
	}
	c, err := ChipByName(f.Chip)
	if err != nil {
		return System{}, fieldError(name, "chip", "%v", err)
	}
	if f.Chips < 1 || f.Chips > 4096 {
		return System{}, fieldError(name, "chips", "%d: want 1..4096", f.Chips)
	}
	if f.InstanceChips == 0 {
		f.InstanceChips = f.Chips
	}
	if f.InstanceChips < 1 || f.Chips%f.InstanceChips != 0 {
		return System{}, fieldError(name, "instance_chips", "%d: want a divisor of chips=%d", f.InstanceChips, f.Chips)
	}
	fb, err := f.fabric(name)
	if err != nil {
		return System{}, err
	}
	s := System{Name: f.Name, Chip: c, Chips: f.Chips, InstanceChips: f.InstanceChips, PriceInstance: f.Name, Fabric: fb,
		Source: "user file " + name}
	if f.Price != nil {
		p, err := f.price(name)
		if err != nil {
			return System{}, err
		}
		s.Prices = []Price{p}
	}
	return s, nil
}

// fabric returns the file's fabric, checked against its chips: a torus's
// sides multiply to instance_chips, a switch has one link per chip, every
// bandwidth and latency is finite and in range, and a system of several
// instances names the link between them. name labels errors.
func (f *systemFile) fabric(name string) (Fabric, error) {
	if f.Fabric == nil {
		return Fabric{}, fieldError(name, "fabric", "missing")
	}
	fb := *f.Fabric
	switch fb.Topology {
	case "torus":
		n := 1
		for _, d := range fb.TorusDims {
			if d < 1 {
				return Fabric{}, fieldError(name, "fabric.torus_dims", "%v: sides must be ≥ 1", fb.TorusDims)
			}
			n *= d
		}
		if len(fb.TorusDims) == 0 || n != f.InstanceChips {
			return Fabric{}, fieldError(name, "fabric.torus_dims", "%v: the sides must multiply to instance_chips=%d", fb.TorusDims, f.InstanceChips)
		}
		if fb.LinksPerChip < 1 {
			return Fabric{}, fieldError(name, "fabric.links_per_chip", "%d: want ≥ 1", fb.LinksPerChip)
		}
	case "switch":
		fb.LinksPerChip = 1
	default:
		return Fabric{}, fieldError(name, "fabric.topology", "%q: allowed torus, switch", fb.Topology)
	}
	for _, v := range []struct {
		field string
		x     float64
		min   float64
	}{{"fabric.link_gbps", fb.LinkGBps, 1e-9}, {"fabric.bus_gbps", fb.BusGBps, 1e-9}, {"fabric.hop_us", fb.HopUs, 0},
		{"fabric.inter_link_gbps", fb.InterLinkGBps, 0}, {"fabric.nvls_bus_gbps", fb.NVLSBusGBps, 0},
		{"fabric.graph_ar_alpha_us", fb.GraphARAlphaUs, 0}, {"fabric.graph_ar_alg_gbps", fb.GraphARAlgGBps, 0}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < v.min || v.x > 1e6 {
			return Fabric{}, fieldError(name, v.field, "%v: want a finite value in [%g, 1e6]", v.x, v.min)
		}
	}
	if f.Chips > f.InstanceChips && fb.InterLinkGBps == 0 {
		return Fabric{}, fieldError(name, "fabric.inter_link_gbps", "0: a system of several instances needs the link bandwidth between them")
	}
	return fb, nil
}

// price returns the file's price as the price of one instance-hour (a
// chip-hour price times instance_chips), basis "user" when none is given.
// name labels errors.
func (f *systemFile) price(name string) (Price, error) {
	p := Price{Instance: f.Name, USDPerHour: f.Price.USDPerHour, Basis: f.Price.Basis, Date: f.Price.Date, Source: f.Price.Source}
	switch f.Price.Unit {
	case "instance":
	case "chip":
		p.USDPerHour *= float64(f.InstanceChips)
	default:
		return Price{}, fieldError(name, "price.unit", "%q: allowed instance, chip (the price of one instance-hour or one chip-hour)", f.Price.Unit)
	}
	if !(p.USDPerHour > 0) || math.IsInf(p.USDPerHour, 0) {
		return Price{}, fieldError(name, "price.usd_per_hour", "%v: want a positive finite price", f.Price.USDPerHour)
	}
	if p.Basis == "" {
		p.Basis = "user"
	}
	return p, nil
}
