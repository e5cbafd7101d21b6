package execkit

import (
	"context"
	"sync"
	"time"

	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/link"
)

// A Future is the result of a task that will be known later: the Go
// counterpart of concurrent.futures.Future. [Go] and a [Func]'s Go make
// one. A nil *Future and a zero Future are the Future of no task: done
// already, Wait returns [ErrNilTask]. All methods are safe to call
// concurrently and any number of times, and never panic.
type Future[T any] struct {
	task  goTask[T] // the Task submitted; lives in the same allocation
	done  chan struct{}
	mu    sync.Mutex
	state futureState
	// stopped says that Cancel cancelled the running task's context: a
	// context.Canceled it then returns is its stopping alone, not a
	// failure (see run).
	stopped bool
	cancel  context.CancelFunc // set while running
	val     T
	err     error
	notify  []func()  // run once when done (AsCompleted)
	dl      time.Time // the submitter's ctx deadline, zero if none: the task's too
}

type futureState uint8

const (
	pending futureState = iota
	running
	finished
)

func newFuture[T any](fn func(context.Context) (T, error)) *Future[T] {
	f := &Future[T]{done: make(chan struct{})}
	f.task = goTask[T]{f: f, fn: fn}
	return f
}

// Wait blocks until the task has finished or ctx ends, and returns the
// task's result and error. The error is the task's own, a [*PanicError], the
// Submit error that kept the task from being admitted ([ErrClosed],
// [ErrFull], ...), or [context.Canceled] when Cancel stopped the task before
// it started. When ctx ends first, Wait returns ctx.Err() and the Future
// stays usable: a later Wait can still collect the result.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	if f.noTask() {
		var zero T
		return zero, ErrNilTask
	}
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case <-f.done:
		return f.val, f.err
	default:
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Done returns a channel that is closed when the task has finished (or will
// never start). It never blocks.
func (f *Future[T]) Done() <-chan struct{} {
	if f.noTask() {
		return closedChan
	}
	return f.done
}

// noTask reports whether f is nil or a zero Future: not made by Go, so no
// task will ever complete it.
func (f *Future[T]) noTask() bool { return f == nil || f.done == nil }

// closedChan is the Done channel of a Future of no task.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Cancel asks the task to stop. A task that has not started yet never starts:
// the Future completes at once with [context.Canceled]. A running task has
// its context cancelled and the Future completes when it returns, with
// whatever it returns. When Cancel returns, the task's context has been
// cancelled or the task will never start. Cancel on a finished Future does
// nothing. It never blocks.
func (f *Future[T]) Cancel() {
	if f.noTask() {
		return
	}
	f.mu.Lock()
	switch f.state {
	case pending:
		// Finish it under the lock start takes: let go in between, and
		// the task could start, and run after its Future completed.
		var zero T
		notify := f.finish(zero, context.Canceled)
		f.mu.Unlock()
		runAll(notify)
	case running:
		cancel := f.cancel
		f.stopped = true
		f.mu.Unlock()
		cancel()
	default:
		f.mu.Unlock()
	}
}

// start moves a pending Future to running and returns the context its task
// runs with; ok is false when the Future was cancelled (or completed) first.
func (f *Future[T]) start(parent context.Context) (ctx context.Context, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != pending {
		return nil, false
	}
	if f.dl.IsZero() {
		ctx, f.cancel = context.WithCancel(parent)
	} else {
		ctx, f.cancel = context.WithDeadline(parent, f.dl)
	}
	f.state = running
	return ctx, true
}

// complete records the outcome unless one was recorded already.
func (f *Future[T]) complete(v T, err error) {
	f.mu.Lock()
	notify := f.finish(v, err)
	f.mu.Unlock()
	runAll(notify)
}

// finish records the outcome unless one was recorded already, and returns
// the callbacks to run once f.mu is released. f.mu must be held. It
// cancels the task's context before anyone can see the Future finished:
// a Cancel that finds it so returns at once, and by then the task's
// context must have been cancelled (it also releases the context's
// resources). Cancelling a context runs none of the task's code (the
// callbacks of context.AfterFunc run in goroutines of their own), so it
// does not come back to f.mu.
func (f *Future[T]) finish(v T, err error) (notify []func()) {
	if f.state == finished {
		return nil
	}
	f.state = finished
	f.val, f.err = v, err
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	notify, f.notify = f.notify, nil
	close(f.done)
	return notify
}

// runAll calls each of fns in turn.
func runAll(fns []func()) {
	for _, fn := range fns {
		fn()
	}
}

// whenDone calls fn once the Future is done: at once when it already is,
// else from the goroutine that completes it. fn must not block.
func (f *Future[T]) whenDone(fn func()) {
	if f.noTask() {
		fn()
		return
	}
	f.mu.Lock()
	if f.state != finished {
		f.notify = append(f.notify, fn)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	fn()
}

// goTask is the Task that runs a Future's function.
type goTask[T any] struct {
	f  *Future[T]
	fn func(context.Context) (T, error)
}

// ReportsOutcome marks the task as self-reporting (driver.SelfReporting): the Future gets its outcome.
func (t *goTask[T]) ReportsOutcome() {}

// TellsFailure marks the task as telling a fail-fast executor of its
// failure before the Future reports it (link.Failed).
func (t *goTask[T]) TellsFailure() {}

// Run runs the function and completes the Future; see Future.run.
func (t *goTask[T]) Run(ctx context.Context) error { return t.f.run(ctx, t.fn) }

// run calls fn unless the Future was cancelled first or ctx has ended
// (then fn never starts and the Future completes with the cause of
// ctx: context.Cause),
// recovering a panic into a *PanicError, and completes the Future. It
// returns the error it delivered. A failure of fn is told to a fail-fast
// executor (link.Failed) before the Future completes with it.
func (f *Future[T]) run(ctx context.Context, fn func(context.Context) (T, error)) (err error) {
	if ctx == nil { // an executor that calls Run itself with one: the Future must still complete
		ctx = context.Background()
	}
	ctx, ok := f.start(ctx)
	if !ok {
		_, err := f.Wait(context.Background())
		return err
	}
	var v T
	if ctx.Err() != nil { // cancelled before it started: never start
		err = context.Cause(ctx)
		f.complete(v, err)
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
		defer f.complete(v, err) // whatever telling the failure does
		if err != nil && !f.stoppedAlone(err) {
			// A fail-fast executor fails before anyone can see the
			// failure here: see link.Failed.
			link.Failed(ctx, err)
		}
	}()
	v, err = fn(ctx)
	return err
}

// stoppedAlone reports whether err, the error of f's function, is its
// stopping as Cancel asked: Cancel cancelled its context while it ran and
// it returned context.Canceled. That is no failure to tell a fail-fast
// executor; the same error for any other reason (a context of the
// function's own, an executor's cancellation) is one.
func (f *Future[T]) stoppedAlone(err error) bool {
	f.mu.Lock()
	stopped := f.stopped
	f.mu.Unlock()
	return stopped && errtext.Is(err, context.Canceled)
}

// Go submits fn to ex and returns its Future at once (or once Submit admits
// it, when ex blocks at capacity). ctx bounds admission (nil means
// [context.Background]), and its deadline, if it has one, reaches the
// task: fn receives the executor's context for the task, with that
// deadline, cancelled by Future.Cancel too. Cancelling ctx does not cancel
// the task (Future.Cancel does). When ex does not admit the task the
// Future completes with Submit's error; a nil fn completes it with
// [ErrNilTask], a nil ex with [ErrNilExecutor]. Go never panics.
func Go[T any](ctx context.Context, ex Executor, fn func(context.Context) (T, error)) *Future[T] {
	f := newFuture(fn)
	if fn == nil {
		f.fail(ErrNilTask)
		return f
	}
	f.submit(ctx, ex, &f.task)
	return f
}

// fail completes f with err and the zero value.
func (f *Future[T]) fail(err error) {
	var zero T
	f.complete(zero, err)
}

// submit hands t, which completes f, to ex, and fails f with Submit's error
// when ex does not admit it. A nil ctx is context.Background; a nil ex
// fails f with ErrNilExecutor; a Submit that panics (a typed nil
// executor) fails f with the *PanicError.
func (f *Future[T]) submit(ctx context.Context, ex Executor, t Task) {
	if ex == nil {
		f.fail(ErrNilExecutor)
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	defer func() { // a broken executor (a typed nil, say) must not crash Go
		if r := recover(); r != nil {
			f.fail(newPanicError(r))
		}
	}()
	f.dl, _ = ctx.Deadline()
	if err := ex.Submit(ctx, t); err != nil {
		f.fail(err)
	}
}
