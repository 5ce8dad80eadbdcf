package serve

import "math"

// Cost is an estimate's price and cost per token.
type Cost struct {
	Price Price
	// USDPerChipHour is the price over the instance's chips.
	USDPerChipHour float64
	// USDPerMOut charges all of the system's time to the output tokens;
	// USDPerMIn charges the prefill time (TTFT) to the input tokens.
	USDPerMOut, USDPerMIn float64
}

// CostOf prices an estimate at p (one instance-hour). A system of several
// instances pays for each; all its replicas serve.
func CostOf(e Estimate, p Price) Cost {
	s := e.System
	usdPerSec := p.USDPerHour * float64(s.Instances()) / 3600
	c := Cost{Price: p, USDPerChipHour: s.PerChipHour(p)}
	c.USDPerMOut = usdPerSec / e.OutTokS * 1e6
	inTokS := float64(e.Replicas*e.Batch*e.InputLen) / (e.TTFTms / 1e3)
	c.USDPerMIn = usdPerSec / inTokS * 1e6
	return c
}

// BreakEven compares a Trainium estimate with a GPU one at the GPU's cost:
// the Trainium price (per chip-hour) at which its cost per million output
// tokens equals the GPU's, and the prices at which it is 30 % and 40 %
// cheaper (the AWS claim, docs/systems.md D4.4).
type BreakEven struct {
	Trn, GPU                string
	GPUUSDPerMOut           float64
	GPUBasis                string
	EvenUSDPerChipHour      float64
	Cheaper30USDPerChipHour float64
	Cheaper40USDPerChipHour float64
	EvenUSDPerInstanceHour  float64
	TrnUSDPerChipHour       float64 // the Trainium price in use (NaN: none)
	TrnCheaperPct           float64 // how much cheaper Trainium is at that price (negative: dearer)
	TrnBasis                string
}

// BreakEvenOf computes the break-even prices of trn against gpu, both
// estimates of the same model, batch and lengths; gpuCost is the GPU's
// cost; trnPrice is the Trainium price in use (ok false: none).
func BreakEvenOf(trn, gpu Estimate, gpuCost Cost, trnPrice Price, ok bool) BreakEven {
	s := trn.System
	// cost/Mtok = P_instance · instances / 3600 / tok/s · 1e6, linear in P.
	perInstance := gpuCost.USDPerMOut * trn.OutTokS / 1e6 * 3600 / float64(s.Instances())
	b := BreakEven{Trn: s.Name, GPU: gpu.System.Name, GPUUSDPerMOut: gpuCost.USDPerMOut, GPUBasis: gpuCost.Price.Basis,
		EvenUSDPerInstanceHour: perInstance, EvenUSDPerChipHour: perInstance / float64(s.InstanceChips),
		TrnUSDPerChipHour: math.NaN(), TrnCheaperPct: math.NaN()}
	b.Cheaper30USDPerChipHour = 0.7 * b.EvenUSDPerChipHour
	b.Cheaper40USDPerChipHour = 0.6 * b.EvenUSDPerChipHour
	if ok {
		c := CostOf(trn, trnPrice)
		b.TrnUSDPerChipHour = c.USDPerChipHour
		b.TrnBasis = trnPrice.Basis
		b.TrnCheaperPct = (1 - c.USDPerMOut/gpuCost.USDPerMOut) * 100
	}
	return b
}
