package serve

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestModelParams(t *testing.T) {
	for _, c := range []struct {
		name      string
		want, tol float64
	}{
		{"llama3-8b", 8.03e9, 0.01},      // published 8.0 B
		{"llama3-70b", 70.55e9, 0.005},   // published 70.6 B
		{"llama3.1-405b", 405.9e9, 0.01}, // published 405 B
		{"gpt-oss-120b", 116.8e9, 0.01},  // D5: 116.8 B total
		{"gpt-oss-20b", 20.9e9, 0.02},    // D5: 20.9 B total
	} {
		m, err := ModelByName(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Params().Total(); math.Abs(got/c.want-1) > c.tol {
			t.Errorf("%s: %.4g parameters, want %.4g ±%.0f%%", c.name, got, c.want, 100*c.tol)
		}
	}
}

func TestDeviceHBM(t *testing.T) {
	for _, c := range []struct {
		chip string
		lnc  int
		gib  float64
	}{
		{"trainium2", 2, 24 - 2*96.0/1024}, // D1: one 24 GiB bank per logical core, less 96 MB per physical core
		{"trainium2", 1, 12 - 96.0/1024},   // D1: two physical cores share a bank
		{"trainium1", 1, 16 - 96.0/1024},   // D1: 16 GiB per core
		{"trainium3", 2, 36 - 2*96.0/1024}, // D1: 144 GiB / 4
		{"h100", 1, 80e9 / gib},
	} {
		ch, err := ChipByName(c.chip)
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.DeviceHBMBytes(c.lnc) / gib; math.Abs(got-c.gib) > 1e-9 {
			t.Errorf("%s lnc=%d: %.4f GiB per device, want %.4f", c.chip, c.lnc, got, c.gib)
		}
	}
}

func opts(t *testing.T, model, system string, tp, batch, in, out int) Options {
	t.Helper()
	m, err := ModelByName(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SystemByName(system)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Model: m, System: s, TP: tp, LNC: s.Chip.DefaultLNC, Batch: batch, InputLen: in, OutputLen: out,
		WeightDType: "bf16", KVDType: "bf16", OverheadUs: DefaultOverheadUs(s.Chip.Vendor), PrefillChunk: 8192}
}

// TestMemoryFit checks the KV cache by hand: llama3-70b, 80 layers, 8 KV
// heads of 128, bf16: at tp=8 one KV head per GPU, 2·128·2 B per token per
// layer = 512 B · 80 = 40 KiB per token; 4096 tokens · 64 sequences =
// 10 GiB.
func TestMemoryFit(t *testing.T) {
	o := opts(t, "llama3-70b", "p5.48xlarge", 8, 64, 2048, 2048)
	f, err := o.CheckFit()
	if err != nil {
		t.Fatal(err)
	}
	if want := 64 * 4096 * 40 * 1024.0; f.KV != want {
		t.Errorf("KV %.0f B, want %.0f", f.KV, want)
	}
	// Weights: 70.55 B bf16 over 8 GPUs plus the copied norms ≈ 16.4 GiB.
	if w := f.Weights / gib; w < 16.3 || w > 16.5 {
		t.Errorf("weights %.2f GiB per GPU, want ≈ 16.4", w)
	}
	// tp=1 does not fit in 80 GB: a FitError naming the smallest TP. At
	// tp=2: 32.9 GiB weights + 40 GiB KV (4 KV heads) + activations > 74.5;
	// tp=4: 16.4 + 20 fits.
	o.TP = 1
	_, err = o.CheckFit()
	var fe *FitError
	if !errors.As(err, &fe) {
		t.Fatalf("tp=1: %v, want a FitError", err)
	}
	if fe.MinTP != 4 || fe.ShortGiB < 60 {
		t.Errorf("tp=1: %+v, want min TP 4 and > 60 GiB short", fe)
	}
	if !strings.Contains(fe.Error(), "GiB short") || !strings.Contains(fe.Error(), "smallest TP that fits: 4") {
		t.Errorf("message %q", fe.Error())
	}
	// The largest batch fits and one more does not.
	o.TP = 8
	mb := o.memory(1).MaxBatch
	if !o.memory(mb).Fits() || o.memory(mb+1).Fits() {
		t.Errorf("max batch %d is not the boundary", mb)
	}
}

func TestEstimateDeterministicAndCached(t *testing.T) {
	o := opts(t, "gpt-oss-120b", "trn2.48xlarge", 64, 8, 1024, 256)
	e := NewEstimator()
	a, err := e.Run(o)
	if err != nil {
		t.Fatal(err)
	}
	sims := e.kt.Sims
	b, err := e.Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if e.kt.Sims != sims {
		t.Errorf("second run simulated %d more kernels; want all from the cache", e.kt.Sims-sims)
	}
	c, err := NewEstimator().Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.TPOTms != b.TPOTms || a.TPOTms != c.TPOTms || a.TTFTms != c.TTFTms {
		t.Errorf("not deterministic: %v %v %v", a.TPOTms, b.TPOTms, c.TPOTms)
	}
	if a.EP != 64 || a.Decode.CollectiveUs <= 0 {
		t.Errorf("MoE: ep %d, decode collectives %.1f µs; want ep 64 and all-to-all time", a.EP, a.Decode.CollectiveUs)
	}
	// Metrics follow from the step times.
	if want := a.TTFTms + 255*a.TPOTms; math.Abs(a.E2Ems-want) > 1e-9 {
		t.Errorf("e2e %.3f, want %.3f", a.E2Ems, want)
	}
	if want := float64(a.Replicas*8*256) / (a.E2Ems / 1e3); math.Abs(a.OutTokS/want-1) > 1e-12 {
		t.Errorf("tokens/s %.3f, want %.3f", a.OutTokS, want)
	}
}

func TestBreakEven(t *testing.T) {
	e := NewEstimator()
	trn, err := e.Run(opts(t, "llama3-8b", "trn2.48xlarge", 8, 4, 256, 64))
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := e.Run(opts(t, "llama3-8b", "p5.48xlarge", 1, 4, 256, 64))
	if err != nil {
		t.Fatal(err)
	}
	gp, _ := gpu.System.PriceFor("")
	gc := CostOf(gpu, gp)
	b := BreakEvenOf(trn, gpu, gc, Price{}, false)
	// At the break-even price Trainium's cost per output token equals the GPU's.
	p := Price{USDPerHour: b.EvenUSDPerInstanceHour}
	if got := CostOf(trn, p).USDPerMOut; math.Abs(got/gc.USDPerMOut-1) > 1e-12 {
		t.Errorf("cost at break-even %.6f, GPU %.6f", got, gc.USDPerMOut)
	}
	p.USDPerHour = b.Cheaper30USDPerChipHour * 16
	if got := CostOf(trn, p).USDPerMOut / gc.USDPerMOut; math.Abs(got-0.7) > 1e-12 {
		t.Errorf("at the 30%% price the cost ratio is %.6f, want 0.7", got)
	}
}

func TestPrices(t *testing.T) {
	s, err := SystemByName("trn2.48xlarge")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.PriceFor("")
	if !ok || p.USDPerHour != 35.76 || p.Basis != "capacity-block" || s.PerChipHour(p) != 2.235 {
		t.Errorf("trn2 default price %+v (%.4f per chip), want 35.76 capacity-block, 2.235 per chip (D4.3)", p, s.PerChipHour(p))
	}
	if p, ok := s.PriceFor("spot"); !ok || p.USDPerHour != 14.5593 {
		t.Errorf("trn2 spot %+v", p)
	}
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"trn2.48xlarge=2.235/chip-hour", 35.76, true},
		{"trn2.48xlarge=35.76/instance-hour", 35.76, true},
		{"trn2.48xlarge=35.76", 0, false},
		{"trn2.48xlarge=-1/chip", 0, false},
		{"trn2.48xlarge=1/gpu", 0, false},
	} {
		p, err := ParsePriceFlag(c.in, s)
		if (err == nil) != c.ok || c.ok && math.Abs(p.USDPerHour-c.want) > 1e-9 {
			t.Errorf("%q: %+v, %v", c.in, p, err)
		}
	}
}

func TestLoadSystem(t *testing.T) {
	good := `{"name": "my-trn2x8", "chip": "trainium2", "chips": 8,
	 "fabric": {"topology": "torus", "torus_dims": [2,4], "link_gbps": 256, "links_per_chip": 4, "hop_us": 1.5, "bus_gbps": 111.6},
	 "price": {"usd_per_hour": 2, "unit": "chip", "basis": "spot", "date": "2026-10", "source": "quote"}}`
	s, err := LoadSystem(strings.NewReader(good), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Devices(2) != 32 || s.Prices[0].USDPerHour != 16 {
		t.Errorf("%+v", s)
	}
	for _, bad := range []string{
		`{"name": "a", "chip": "trainium9", "chips": 8, "fabric": {}}`,
		`{"name": "a", "chip": "trainium2", "chips": 8, "fabric": {"topology": "torus", "torus_dims": [3,3], "link_gbps": 1, "links_per_chip": 4, "bus_gbps": 1}}`,
		`{"name": "a", "chip": "trainium2", "chips": 8, "extra": 1}`,
		`{"name": "a", "chip": "h100", "chips": 8, "fabric": {"topology": "switch", "link_gbps": 1, "bus_gbps": 1}, "price": {"usd_per_hour": 1, "unit": "gpu"}}`,
	} {
		if _, err := LoadSystem(strings.NewReader(bad), "bad.json"); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func FuzzLoadSystem(f *testing.F) {
	f.Add(`{"name": "a", "chip": "h100", "chips": 8, "fabric": {"topology": "switch", "link_gbps": 371, "bus_gbps": 370}}`)
	f.Fuzz(func(t *testing.T, s string) {
		sys, err := LoadSystem(strings.NewReader(s), "f.json")
		if err == nil && (sys.Chips < 1 || sys.Fabric.BusGBps <= 0) {
			t.Errorf("accepted %+v", sys)
		}
	})
}

func FuzzLoadModel(f *testing.F) {
	b, _ := modelFS.ReadFile("data/models/gpt-oss-20b.json")
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, s string) {
		m, err := LoadModel(strings.NewReader(s), "f.json")
		if err == nil && (m.Layers < 1 || m.Heads%m.KVHeads != 0) {
			t.Errorf("accepted %+v", m)
		}
	})
}

func TestCSVHeaderMatchesSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	doc, err := docFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range Header() {
		if !strings.Contains(doc, "| `"+h+"` |") {
			t.Errorf("column %s is not documented in serve/SCHEMA.md", h)
		}
	}
	if !strings.Contains(doc, SchemaVersion) {
		t.Errorf("SCHEMA.md does not name version %s", SchemaVersion)
	}
}

func TestCharts(t *testing.T) {
	e := NewEstimator()
	var rows []Row
	for _, b := range []int{1, 4} {
		est, err := e.Run(opts(t, "llama3-8b", "p5.48xlarge", 1, b, 128, 32))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := est.System.PriceFor("")
		c := CostOf(est, p)
		rows = append(rows, Row{Est: est, Cost: &c})
	}
	tc, cc, err := Charts(rows, "llama3-8b")
	if err != nil || tc == nil || cc == nil {
		t.Fatalf("charts: %v %v %v", tc, cc, err)
	}
	var buf bytes.Buffer
	if err := tc.Write(&buf, "svg"); err != nil || !strings.Contains(buf.String(), "<svg") {
		t.Errorf("svg: %v", err)
	}
	if _, _, err := Charts([]Row{{FitErr: &FitError{}}}, "x"); err == nil {
		t.Error("charts of rows that do not fit: want an error")
	}
}

// TestRoutingSkew: a skewed router makes the busiest device's experts
// slower, so the step can only get longer; uniform is skew 1.
func TestRoutingSkew(t *testing.T) {
	e := NewEstimator()
	o := opts(t, "gpt-oss-120b", "p5.48xlarge", 8, 64, 512, 64)
	var prev float64
	for _, k := range []float64{0, 1, 2, 4} {
		o.RoutingSkew = k
		est, err := e.Run(o)
		if err != nil {
			t.Fatal(err)
		}
		if k == 1 && est.TTFTms != prev {
			t.Errorf("skew 1 %.3f ms differs from uniform %.3f", est.TTFTms, prev)
		}
		if k > 1 && !(est.TTFTms > prev) {
			t.Errorf("skew %v: TTFT %.3f ms not above %.3f", k, est.TTFTms, prev)
		}
		prev = est.TTFTms
	}
	o.RoutingSkew = 100
	if _, err := e.Run(o); err == nil {
		t.Error("skew 100 accepted")
	}
}
