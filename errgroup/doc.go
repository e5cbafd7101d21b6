// Package errgroup runs a group of tasks that fail together: the first
// error cancels the rest. It is the Go counterpart of Python's
// concurrent.futures.wait(fs, return_when=FIRST_EXCEPTION) followed by
// cancelling the others, and of asyncio's TaskGroup. A [Group] is an
// [execkit.Executor] built on golang.org/x/sync/errgroup, which runs each
// task in a goroutine of its own and keeps the first error; this package
// adds what x/sync leaves to its caller.
//
//	g, _ := errgroup.New(errgroup.Limit(4))
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
// well, and still fails the group.
//
// # Limit
//
// With [Limit], at most n tasks run at once and Submit waits for a slot
// until its ctx ends. x/sync's SetLimit makes Go wait too, but that wait
// ignores any context and cannot be abandoned.
//
// # Cost
//
// A task costs what x/sync's Go costs (a goroutine) plus the group's
// bookkeeping: see BenchmarkGroup, which runs the same tasks on x/sync's
// errgroup used directly, and the figures in the project README.
package errgroup
