package execkit

import (
	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/link"
)

// How every execkit executor runs a task. These are unexported: package
// driver exports them to executor authors (IsNil, Run, HasFuture,
// SelfReporting), and documents them there.

// isNil reports whether t is nil or a nil TaskFunc: driver.IsNil.
func isNil(t Task) bool {
	if t == nil {
		return true
	}
	f, ok := t.(TaskFunc)
	return ok && f == nil
}

// Running a task (panic recovery, and not starting it once ctx has ended)
// is internal/link's Run, which Inline, driver.Run and every executor call
// directly: driver.Run.

// hasFuture reports whether t delivers its own outcome: driver.HasFuture.
func hasFuture(t Task) bool { return link.HasFuture(t) }

// isPanic reports whether err is, or wraps, a *PanicError: the one test
// behind every executor's Panicked counter. A method of err that panics
// (a typed nil's Unwrap) makes it false, instead of a panic in the
// executor's goroutine.
func isPanic(err error) bool {
	var pe *PanicError
	return errtext.As(err, &pe)
}
