package execkit

import (
	"context"
	"errors"
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

// run runs t with panic recovery, and not at all when ctx has ended and t
// does not report its own outcome: driver.Run.
func run(ctx context.Context, t Task) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if isNil(t) {
		return ErrNilTask
	}
	if err := ctx.Err(); err != nil && !hasFuture(t) { // cancelled before it started: never start
		return err // (a self-reporting task records this outcome itself, in its Run)
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	return t.Run(ctx)
}

// selfReporting is driver.SelfReporting's method set: a task that delivers
// its own outcome (a Future's, a fireforget Thread's).
type selfReporting interface {
	Task
	ReportsOutcome()
}

// hasFuture reports whether t delivers its own outcome: driver.HasFuture.
func hasFuture(t Task) bool {
	_, ok := t.(selfReporting)
	return ok
}

// isPanic reports whether err is, or wraps, a *PanicError: the one test
// behind every executor's Panicked counter.
func isPanic(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe)
}
