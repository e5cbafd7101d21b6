package link

import (
	"context"

	"github.com/execkit/execkit/internal/errtext"
)

// selfReporting is driver.SelfReporting's method set.
type selfReporting interface {
	Task
	ReportsOutcome()
}

// HasFuture reports whether t delivers its own outcome: driver.HasFuture.
func HasFuture(t Task) bool {
	_, ok := t.(selfReporting)
	return ok
}

// Run runs t with ctx, the one place where execkit runs a task: package
// execkit's Inline, driver.Run and execkit's executors call it, or take
// its two steps (Begin, then t.Run with Recover deferred) inline in a
// goroutine's only frame, so that a task's goroutine holds as few and as
// small frames as it can below t's own (a backlog of parked tasks is
// mostly their stacks). A panic in t is recovered into NewPanic's error.
// When ctx has ended before t starts, t does not start: Run returns
// started false, the one decision an executor counts (errgroup's
// Skipped), and ctx.Err(); a task that reports its own outcome
// (HasFuture) is called all the same, to record it, and must not start its
// work then (Run then returns its error). t must not be nil.
func Run(ctx context.Context, t Task) (started bool, err error) {
	if !Begin(ctx, t, &err) {
		return false, err
	}
	defer Recover(&err)
	return true, t.Run(ctx)
}

// Begin decides whether t starts: it reports true when ctx has not ended.
// Otherwise t never starts: Begin sets *err to ctx.Err(), or, for a task
// that reports its own outcome, calls its Run (with panic recovery) to
// record that outcome and sets *err to what it returns; and reports false.
func Begin(ctx context.Context, t Task, err *error) bool {
	if ctx.Err() == nil {
		return true
	}
	*err = notStarted(ctx, t)
	return false
}

// notStarted is Begin's outcome once ctx has ended: ctx.Err(), or what a
// self-reporting task's Run returns.
func notStarted(ctx context.Context, t Task) (err error) {
	if !HasFuture(t) {
		return ctx.Err()
	}
	defer Recover(&err)
	return t.Run(ctx)
}

// Recover, deferred directly (defer link.Recover(&err)), recovers a panic
// into *err as NewPanic's error.
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = NewPanic(r)
	}
}

// FailKey is the context key under which a fail-fast executor (errgroup)
// carries its Failer in its tasks' context.
type FailKey struct{}

// A Failer is a fail-fast executor, told of a task's failure by the task
// itself (see Failed).
type Failer interface {
	TaskFailed(err error)
}

// Failed tells the Failer that ctx carries, if any, that the task running
// with ctx failed with err. A task that reports its own outcome (a Future,
// a Thread) calls it with its error before it makes that outcome visible,
// so that whoever sees the failure finds the group failed already: its
// other tasks' ctx cancelled, Submit refusing. Such a task is marked
// TellsFailure, and the executor does not act on its error again.
func Failed(ctx context.Context, err error) {
	if f, ok := ctx.Value(FailKey{}).(Failer); ok {
		f.TaskFailed(err)
	}
}

// tellsFailure is the mark of a task that calls Failed.
type tellsFailure interface {
	TellsFailure()
}

// TellsFailure reports whether t tells its executor of its failure itself
// (Failed) before it reports it.
func TellsFailure(t Task) bool {
	_, ok := t.(tellsFailure)
	return ok
}

// Readable returns err, the error of a call of name, or, when one of its
// methods panics (a typed nil's Error or Unwrap), what its encoded form
// decodes to, which may be looked at (errors.Is, Error) in an executor's
// goroutine: subprocess's worker and riverexec's job read a function's
// error so before they classify and record it. A panic stays a panic: an
// *execkit.PanicError whose value is an error with such a method (errors.Is
// through the panic panics) keeps its stack, its value made readable.
func Readable(name string, err error) error {
	if err == nil || errtext.Sound(err) {
		return err
	}
	if pe, ok := ReadablePanic(err, func(v error) error { return Readable(name, v) }); ok {
		return pe
	}
	return DecodeError(name, EncodeError(name, err))
}
