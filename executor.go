package execkit

import (
	"context"
	"errors"
)

// A Task is a unit of work an [Executor] runs. Run receives a context that
// the executor cancels when it gives up on the task (a Shutdown deadline
// passed, a fail-fast group failed, the task's [Future] was cancelled); a
// well-behaved task returns soon after.
type Task interface {
	Run(ctx context.Context) error
}

// TaskFunc adapts an ordinary function to a [Task]. A nil TaskFunc is
// rejected by every executor with [ErrNilTask].
type TaskFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f TaskFunc) Run(ctx context.Context) error { return f(ctx) }

// An Executor runs tasks. Every execkit strategy (an inline call, a
// goroutine per task, a bounded pool, a fail-fast group, a pool of worker
// processes) implements it, so tasks written against it move between them
// unchanged. The contract, which package executortest checks:
//
//   - Submit admits a task or returns why not, and never panics. At capacity
//     it applies the executor's admission policy: block until a slot frees or
//     ctx ends (then it returns ctx.Err()), or reject at once with [ErrFull].
//     After Shutdown began it returns [ErrClosed]. A nil task gets
//     [ErrNilTask]. ctx bounds admission only: it is not the task's context.
//     A nil ctx is [context.Background], for Submit and Shutdown alike.
//   - Every admitted task runs at most once and its outcome is observable:
//     through its [Future] when it has one, else through the executor's
//     error handler. A panic in a task becomes a [*PanicError] delivered to
//     the same place.
//   - Shutdown stops admission, waits for admitted tasks and returns nil once
//     every goroutine (and process) the executor started has exited. If ctx
//     ends first it cancels the tasks' contexts and returns ctx.Err(). It is
//     idempotent and safe to call concurrently.
type Executor interface {
	Submit(ctx context.Context, t Task) error
	Shutdown(ctx context.Context) error
}

var (
	// ErrClosed is returned by Submit (and carried by the Future of Go) once
	// Shutdown has begun.
	ErrClosed = errors.New("execkit: executor is shut down")

	// ErrFull is returned by Submit of an executor whose admission policy is
	// to reject work at capacity instead of waiting for a slot.
	ErrFull = errors.New("execkit: executor is at capacity")

	// ErrNilTask is returned by Submit for a nil Task or a nil TaskFunc, by
	// Map for a nil function, and carried by the Future of Go called with a
	// nil function (and by a nil or zero Future).
	ErrNilTask = errors.New("execkit: nil task")

	// ErrNilExecutor is returned by Map and carried by the Future of Go
	// (and of a Func's Go and Map) called with a nil Executor.
	ErrNilExecutor = errors.New("execkit: nil executor")

	// ErrNotPortable is returned by Submit of an executor that runs tasks in
	// another process when the task was not made by a registered [Func]: a
	// closure cannot cross a process boundary.
	ErrNotPortable = errors.New("execkit: task is not portable (make it with a registered Func)")

	// ErrNotRegistered is returned by [Invoke] (and so by a worker process)
	// for a function name that was never registered in that process.
	ErrNotRegistered = errors.New("execkit: function not registered")

	// ErrPayload is wrapped by the errors of [Invoke] and of a Future's
	// result when an encoded argument or result does not decode.
	ErrPayload = errors.New("execkit: bad payload")
)

// IsNil reports whether t is nil or a nil TaskFunc. Executors call it first
// in Submit to return [ErrNilTask].
func IsNil(t Task) bool {
	if t == nil {
		return true
	}
	f, ok := t.(TaskFunc)
	return ok && f == nil
}

// Run runs t with ctx the way every execkit executor does: a panic in t is
// recovered and returned as a [*PanicError] carrying the stack, so it never
// crashes the process. Run returns t's error. When ctx has already ended,
// t does not start and Run returns ctx.Err(): what an executor gave up on
// never starts afterwards. A [SelfReporting] task is called all the same,
// since it must record that outcome for its waiter: its Run must not start
// its work when ctx has ended (a Future's does not). Executors call it where a task
// runs; it blocks for as long as t runs.
func Run(ctx context.Context, t Task) (err error) {
	if err := ctx.Err(); err != nil && !HasFuture(t) { // cancelled before it started: never start
		return err // (a SelfReporting task records this outcome itself, in its Run)
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	return t.Run(ctx)
}

// HasFuture reports whether t delivers its own outcome to whoever waits for
// it: a [Future] (the tasks of [Go], [Map], and a [Func]'s Go and Map), or
// anything else that implements [SelfReporting]. An executor must not pass
// the error of such a task to its error handler too, or it would be
// reported twice; it still counts it, and may act on it (a fail-fast group
// does).
func HasFuture(t Task) bool {
	_, ok := t.(SelfReporting)
	return ok
}

// SelfReporting is implemented by a Task that delivers its own outcome (to
// a Future, a thread handle, a job record) and returns the same error from
// Run only so that executors can count it and act on it. Wrappers that give
// tasks a handle of their own, like fireforget's Thread, implement it to
// compose with every executor.
type SelfReporting interface {
	Task
	// ReportsOutcome marks the type; it does nothing.
	ReportsOutcome()
}
