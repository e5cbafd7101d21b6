package execkit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/shutdown"
)

// Inline is the simplest correct [Executor]: Submit runs the task in the
// calling goroutine and returns when it has finished. It is the reference
// implementation of the contract and a stand-in for tests; it adds no
// concurrency of its own. The zero value is ready to use. Its methods are
// safe for concurrent use; concurrent Submit calls run concurrently.
type Inline struct {
	// OnError receives the error of every task submitted without a Future
	// (including a *PanicError), from the goroutine that ran it. Nil means
	// log it with log/slog at level Error. A panic in OnError is logged
	// with log/slog too, with its stack; Submit does not panic.
	OnError func(error)

	once   sync.Once
	base   context.Context // the tasks' parent context, carrying e; cancelled when Shutdown gives up
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	inflight int           // tasks running in a Submit call
	done     chan struct{} // closed when a closed Inline has no task in flight: it has finished

	submitted, running, succeeded, failed, panicked, rejected atomic.Int64
	retries, timeouts                                         atomic.Int64
	locals                                                    sync.Map // rate limiters (link.Scope)
}

// inlineScope is e as the link.Scope of its tasks' policies.
type inlineScope Inline

func (s *inlineScope) Local(key any, mk func() any) any {
	if v, ok := s.locals.Load(key); ok {
		return v
	}
	v, _ := s.locals.LoadOrStore(key, mk())
	return v
}
func (s *inlineScope) CountRetry()   { s.retries.Add(1) }
func (s *inlineScope) CountTimeout() { s.timeouts.Add(1) }

func (e *Inline) init() {
	e.once.Do(func() {
		// The cancelCtx outermost: every task's start asks e.base.Err(),
		// which it answers without going through the values.
		values := context.WithValue(context.Background(), link.ScopeKey{}, link.Scope((*inlineScope)(e)))
		e.base, e.cancel = context.WithCancel(context.WithValue(values, inlineKey{}, e))
	})
}

// inlineKey is the context key under which a task's context carries its
// Inline, to recognise a Submit from one of its running tasks.
type inlineKey struct{}

// Submit runs t in the calling goroutine and blocks until it returns; the
// task's error goes to OnError unless t has a Future. ctx bounds admission
// only, which never waits, so a ctx that has already ended does not refuse
// t (x/sync's TryGo would succeed). It returns [ErrNilTask] for a nil task
// and [ErrClosed] once Shutdown has begun, except to a running task's
// follow-up: a Submit from inside one of e's tasks, with the task's ctx or
// one derived from it, runs its task (nested) while Shutdown waits, as long
// as e has not finished, and Shutdown waits for it too. A task that ends
// its goroutine (runtime.Goexit, as t.FailNow does) ends the caller's,
// Submit's, with it; it counts as succeeded, as on every executor.
func (e *Inline) Submit(ctx context.Context, t Task) error {
	if e == nil {
		return ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if isNil(t) {
		return ErrNilTask
	}
	e.init()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		nested := e.nested(ctx) // not under mu: ctx's Value is the caller's code
		e.mu.Lock()
		if !nested || e.inflight == 0 { // not a task's, or e has finished
			e.mu.Unlock()
			e.rejected.Add(1)
			return ErrClosed
		}
	}
	e.inflight++
	e.mu.Unlock()
	defer e.leave()

	e.submitted.Add(1)
	e.running.Add(1)
	ended := false
	defer func() {
		if !ended { // t ended the goroutine (runtime.Goexit, as t.FailNow does): a success, as on every executor
			e.running.Add(-1)
			e.succeeded.Add(1)
		}
	}()
	_, err := link.Run(e.base, t)
	ended = true
	e.running.Add(-1)
	switch {
	case err == nil:
		e.succeeded.Add(1)
	case isPanic(err):
		e.panicked.Add(1)
	default:
		e.failed.Add(1)
	}
	if err != nil && !hasFuture(t) {
		if e.OnError != nil {
			e.onError(err)
		} else {
			slog.Error("execkit: task failed", "executor", "Inline", "err", err)
		}
	}
	return nil
}

// onError calls OnError, logging a panic in it rather than letting it
// leave Submit, which never panics.
func (e *Inline) onError(err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("execkit: Inline's OnError handler panicked", "err", err, "panic", newPanicError(r))
		}
	}()
	e.OnError(err)
}

// leave ends a Submit's task; the last one of a closed Inline finishes it.
func (e *Inline) leave() {
	e.mu.Lock()
	e.inflight--
	if e.closed && e.inflight == 0 {
		close(e.done)
	}
	e.mu.Unlock()
}

// nested reports whether ctx is (derived from) the context of a task of e.
func (e *Inline) nested(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	f, _ := ctx.Value(inlineKey{}).(*Inline)
	return f == e
}

// Shutdown stops admission and blocks until every task running in a Submit
// call has returned, including the follow-ups they submit meanwhile (see
// Submit), then returns nil. If ctx ends first it cancels the tasks'
// contexts and returns ctx.Err(); a later call waits again. It is
// idempotent and safe to call concurrently.
func (e *Inline) Shutdown(ctx context.Context) error {
	if e == nil {
		return ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e.init()
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		e.done = make(chan struct{})
		if e.inflight == 0 {
			close(e.done)
		}
	}
	done := e.done
	e.mu.Unlock()
	err := shutdown.Wait(ctx, done, nil)
	e.cancel() // the tasks' contexts: after they finished, or given up
	return err
}

// Stats returns the counters. Queued is always zero: Inline never queues.
// It never blocks, and after Shutdown it returns the final counts.
func (e *Inline) Stats() Stats {
	if e == nil {
		return Stats{}
	}
	return Stats{
		Submitted: e.submitted.Load(),
		Running:   e.running.Load(),
		Succeeded: e.succeeded.Load(),
		Failed:    e.failed.Load(),
		Panicked:  e.panicked.Load(),
		Rejected:  e.rejected.Load(),
		Retries:   e.retries.Load(),
		Timeouts:  e.timeouts.Load(),
	}
}
