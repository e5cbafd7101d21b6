package driver

import (
	"context"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// IsNil reports whether t is nil or a nil [execkit.TaskFunc]. Executors
// call it first in Submit, to return [execkit.ErrNilTask]. It never blocks.
func IsNil(t execkit.Task) bool { return link.IsNil(t) }

// Run runs t with ctx the way every execkit executor does: a panic in t is
// recovered and returned as an [*execkit.PanicError] carrying the stack, so
// it never crashes the process. Run returns t's error. When ctx has already
// ended, t does not start and Run returns ctx.Err(): what an executor gave
// up on never starts afterwards. A [SelfReporting] task is called all the
// same, since it must record that outcome for its waiter: its Run must not
// start its work when ctx has ended (a Future's does not). Pass the
// submitted task itself: a task wrapped in another Task (a TaskFunc
// calling its Run or RunVia) hides that it reports its own outcome, and a
// Future whose task was given up on would then never complete; use
// [RunVia] for a Portable. Executors call it where a task runs; it blocks
// for as long as t runs.
func Run(ctx context.Context, t execkit.Task) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if IsNil(t) {
		return execkit.ErrNilTask
	}
	_, err := link.Run(ctx, t)
	return err
}

// HasFuture reports whether t delivers its own outcome to whoever waits
// for it: an [execkit.Future] (the tasks of [execkit.Go], [execkit.Map], and
// a Func's Go and Map), or anything else that implements [SelfReporting].
// An executor must not pass the error of such a task to its error handler
// too, or it would be reported twice; it still counts it, and may act on it
// (a fail-fast group does). It never blocks.
func HasFuture(t execkit.Task) bool { return link.HasFuture(t) }

// SelfReporting is implemented by a Task that delivers its own outcome (to
// a Future, a thread handle, a job record) and returns the same error from
// Run only so that executors can count it and act on it. Wrappers that give
// tasks a handle of their own, like fireforget's Thread, implement it to
// compose with every executor.
type SelfReporting interface {
	execkit.Task
	// ReportsOutcome marks the type; it does nothing.
	ReportsOutcome()
}

// A Failer is a fail-fast executor (errgroup's Group is one): the first
// task that fails fails them all. A task that reports its own outcome (a
// Future, a fireforget.Thread) calls TaskFailed with its error before it
// makes that outcome visible, so that whoever sees the failure finds the
// executor failed already (its other tasks' ctx cancelled, Submit
// refusing), as executortest's FailFast checks require. TaskFailed must
// not block. Every call is a failure: a task whose own Future was cancelled
// (Future.Cancel) and that returned context.Canceled stops alone and does
// not call it, while a context.Canceled for any other reason (a context of
// the task's own) is a failure like any other error.
type Failer interface {
	TaskFailed(err error)
}

// WithFailer returns ctx carrying f, for f to run its tasks with: a task
// that reports its own outcome finds f there and tells it of its failure
// first. An executor that uses it does not act on such a task's error
// again when Run returns it (see [TellsFailure]). A nil ctx is
// context.Background(); a nil f leaves ctx as it is. It never blocks.
func WithFailer(ctx context.Context, f Failer) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if f == nil {
		return ctx
	}
	return context.WithValue(ctx, link.FailKey{}, link.Failer(f))
}

// TellsFailure reports whether t tells the Failer in its ctx of its
// failure itself, before it reports it (the tasks of a Future, a
// fireforget.Thread). It never blocks.
func TellsFailure(t execkit.Task) bool { return link.TellsFailure(t) }
