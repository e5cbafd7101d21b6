// Package errgroup runs a group of tasks that fail together: the first
// error cancels the rest. It is the Go counterpart of Python's
// concurrent.futures.wait(fs, return_when=FIRST_EXCEPTION) followed by
// cancelling the others, and of asyncio's TaskGroup. A [Group] is an
// [execkit.Executor] with the semantics of golang.org/x/sync/errgroup (a
// goroutine per task, the first error kept and the rest cancelled with it,
// WithContext, TryGo's non-blocking slot, SetLimit's bound; x/sync's own
// tests run against it through an adapter), plus what x/sync leaves to its
// caller. It starts its goroutines itself, with a sync.WaitGroup, rather
// than through x/sync's Go, which takes a func() error and so would cost a
// second allocation per task for the closure wrapping the task (see Cost).
//
//	g, _ := errgroup.WithContext(r.Context(), errgroup.Limit(4))
//	for _, url := range urls {
//		execkit.Go(ctx, g, func(ctx context.Context) ([]byte, error) { return fetch(ctx, url) })
//	}
//	err := g.Shutdown(ctx) // the first failure, or nil
//
// # Failing fast
//
// The first task that returns an error, or panics (the panic arrives as a
// *[execkit.PanicError] with its stack), cancels the context of every task
// of the group with that error as the cause: a task sees ctx.Done() and can
// read the failure with [context.Cause]. x/sync starts a task passed to Go
// after the failure anyway (golang/go#61611); here Submit refuses it with an
// error wrapping [ErrGroupFailed] and the failure, and Stats counts it in
// Skipped. [Group.Shutdown] waits for the tasks and returns the first error,
// or with [AllErrors] all of them joined.
//
// Task errors do not go to an error handler: they are the group's result.
// A task made by [execkit.Go] delivers its own outcome to its Future as
// well, and still fails the group, with one exception: a task whose own
// Future was cancelled ([execkit.Future.Cancel]) and that returns
// context.Canceled stops alone, as Cancel promises, and fails nothing.
//
// # Tied to a request
//
// [WithContext] derives the tasks' context from a parent, as x/sync's
// WithContext does: when the request is cancelled, every task's context is
// cancelled with the request's cause, at once, and Submit refuses further
// work. [New] is WithContext with context.Background().
//
// # Follow-up work
//
// A task may submit follow-up tasks to its own group, with its own ctx (a
// crawler, a tree walk), also while the caller waits in [Group.Shutdown]:
// until the group has finished, such a Submit is admitted and Shutdown
// waits for it; a Submit with a task's ctx kept after the group finished
// returns [execkit.ErrClosed]. At the limit such a Submit never waits for
// the slot its caller holds: it runs the follow-up in the caller's
// goroutine, as x/sync users do by hand with TryGo.
//
// # Limit
//
// With [Limit], at most n tasks run at once and Submit waits for a slot
// until its ctx ends. x/sync's SetLimit makes Go wait too, but that wait
// ignores any context and cannot be abandoned.
//
// # Cost
//
// BenchmarkGroup runs the same task bodies on this group and on x/sync's
// errgroup used directly. A Submit costs 1 allocation (32 bytes), as
// x/sync's Go (TestAllocs): the closure its goroutine runs, which holds
// one frame of the group's below the task's own. Until the group started
// its goroutines itself, it cost 2 (56-62 bytes): the closure that handed
// the task to x/sync's Go, then x/sync's own. In CPU time per task (go
// test -run '^$' -bench Group -benchtime=200000x, 8 runs interleaved with
// the code before, benchstat medians; a 2-core machine under a load
// average of 11, where wall times spread by ±50-130% and say little):
// without a limit 0.93x x/sync on no-op tasks and 1.10x on 1µs ones (1.13x
// and 1.15x before); with a limit (8) 0.67x and 0.98x (0.88x and 1.01x
// before), since a Submit at the limit first yields instead of parking.
// What is left beyond x/sync is the counters of Stats, the failed-or-closed
// check and panic recovery.
//
// A parked task keeps its goroutine's stack, 2 KB while its deepest call
// fits: the group's frames take 96 bytes of it more than a bare go
// statement's with a WaitGroup, 480 before (TestStackPerParkedTask, in a
// child process whose goroutines all start on 2 KB stacks).
package errgroup
