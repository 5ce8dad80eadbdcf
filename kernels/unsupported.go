package kernels

import (
	"errors"
	"fmt"
)

// ErrUnsupported marks errors that say a workload does not run on a target
// at all: a dtype its tensor cores lack (fp8 on an A100), a variant of the
// other kind of target (fa3 on a NeuronCore, a NKI tutorial step on a GPU).
// Sweeps skip such runs and list them; any other error stops a sweep.
// Test with errors.Is(err, ErrUnsupported).
var ErrUnsupported = errors.New("not supported on this target")

// unsupportedError is an error message that Is ErrUnsupported.
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string        { return e.msg }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }

// unsupported returns a formatted error that Is ErrUnsupported.
func unsupported(format string, args ...any) error {
	return &unsupportedError{fmt.Sprintf(format, args...)}
}
