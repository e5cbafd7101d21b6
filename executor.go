package execkit

import "context"

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
//   - An executor that makes admitted tasks wait for a slot gives its slots
//     out in the order it admitted them: a waiting task gets one once the
//     tasks admitted before it let theirs go, whatever the tasks admitted
//     after it hold. (A busy worker of a subprocess pool may hold a call
//     behind the one it runs, which it then waits for; see Prefetch there.)
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
