package kernels_test

import (
	"testing"

	"github.com/trnsim/trnsim/kernels"
	"github.com/trnsim/trnsim/kernels/kernelstest"
)

// TestConformance runs the conformance suite over the built-in kernels.
// (examples/swiglu runs it over the built-ins plus its own kernel.)
func TestConformance(t *testing.T) {
	kernelstest.Run(t, kernels.Builtin())
}
