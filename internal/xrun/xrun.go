// Package xrun holds what every execkit executor does around a task: count
// it, run it with panic recovery, and report an error that has no Future.
package xrun

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// Counters are the atomic counters behind execkit.Stats. The zero value is
// ready to use. Every counter only grows and sits on a cache line of its
// own, so the submitting goroutine and the workers do not contend for one
// line; Queued and Running are differences computed by Stats.
type Counters struct {
	submitted, started, succeeded, failed, panicked, rejected, dropped padded
	Scope                                                              // retries, timeouts, rate limiters
}

// Scope is an executor's link.Scope: the counters of retries and timeouts
// of its tasks' policies, and their rate limiters. The zero value is ready
// to use.
type Scope struct {
	retries, timeouts padded
	locals            sync.Map

	// TimedFromStart says that the executor calls the start hook of a call
	// it sends through its invoker when the call starts running (see
	// link.StartsClock). Set it before the scope is used.
	TimedFromStart bool
}

// WithScope returns parent carrying s as the link.Scope of the tasks run
// with it (or a context derived from it): their policies count retries and
// timeouts in s and keep their rate limiters in it. An executor calls it
// once, on the base context of its tasks.
func WithScope(parent context.Context, s *Scope) context.Context {
	return context.WithValue(parent, link.ScopeKey{}, link.Scope(s))
}

// Retries returns the retries counted.
func (s *Scope) Retries() int64 { return s.retries.Load() }

// Timeouts returns the timeouts counted.
func (s *Scope) Timeouts() int64 { return s.timeouts.Load() }

// Local implements link.Scope.
func (c *Scope) Local(key any, mk func() any) any {
	if v, ok := c.locals.Load(key); ok {
		return v
	}
	v, _ := c.locals.LoadOrStore(key, mk())
	return v
}

// StartsClock implements link.StartsClock.
func (c *Scope) StartsClock() bool { return c.TimedFromStart }

// CountRetry implements link.Scope.
func (c *Scope) CountRetry() { c.retries.Add(1) }

// CountTimeout implements link.Scope.
func (c *Scope) CountTimeout() { c.timeouts.Add(1) }

// Add counts retries and timeouts counted elsewhere: in a worker process,
// by the policies of the functions a call ran there.
func (c *Scope) Add(retries, timeouts int64) {
	c.retries.Add(retries)
	c.timeouts.Add(timeouts)
}

// padded is an atomic counter alone on its cache line.
type padded struct {
	atomic.Int64
	_ [56]byte
}

// Admit counts a task admitted and queued.
func (c *Counters) Admit() { c.submitted.Add(1) }

// Reject counts a Submit call that admitted nothing.
func (c *Counters) Reject() { c.rejected.Add(1) }

// Start moves a task from queued to running.
func (c *Counters) Start() { c.started.Add(1) }

// Unqueue removes a queued task that will never start (its executor gave
// up on it); it is counted as failed.
func (c *Counters) Unqueue() { c.dropped.Add(1) }

// Ended returns how many admitted tasks have ended: finished, or
// dropped before they started.
func (c *Counters) Ended() int64 {
	return c.succeeded.Load() + c.failed.Load() + c.panicked.Load() + c.dropped.Load()
}

// Finish counts a task that returned err.
func (c *Counters) Finish(err error) {
	switch {
	case err == nil:
		c.succeeded.Add(1)
	case link.IsPanic(err):
		c.panicked.Add(1)
	default:
		c.failed.Add(1)
	}
}

// Stats returns a snapshot. Under concurrent updates the fields are read
// one by one, so Queued and Running may be off by the tasks that moved
// while it read; they are never negative.
func (c *Counters) Stats() execkit.Stats {
	// Read the later stages first, so a task that moves while Stats reads
	// is seen in an earlier stage rather than in none.
	succeeded, failed, panicked := c.succeeded.Load(), c.failed.Load(), c.panicked.Load()
	dropped := c.dropped.Load()
	started := c.started.Load()
	submitted := c.submitted.Load()
	return execkit.Stats{
		Submitted: submitted,
		Queued:    max(submitted-started-dropped, 0),
		Running:   max(started-succeeded-failed-panicked, 0),
		Succeeded: succeeded,
		Failed:    failed + dropped,
		Panicked:  panicked,
		Rejected:  c.rejected.Load(),
		Retries:   c.retries.Load(),
		Timeouts:  c.timeouts.Load(),
	}
}

// Exec runs an admitted task: Start, link.Run (driver.Run's steps, without
// its frame), Finish, and the error to
// onError unless the task delivers it to a Future. It returns the task's
// error for strategies that act on it.
func Exec(ctx context.Context, c *Counters, t execkit.Task, onError func(error)) error {
	c.Start()
	return ExecStarted(ctx, c, t, onError)
}

// ExecStarted is Exec for a strategy that counted the task as running
// (Start) when it admitted it: one whose admitted tasks never wait in a
// queue, so that Queued stays zero while a worker takes the task up.
func ExecStarted(ctx context.Context, c *Counters, t execkit.Task, onError func(error)) error {
	ended := false
	defer func() {
		if !ended { // t ended the goroutine (runtime.Goexit, as t.FailNow does): a success, as for x/sync's errgroup
			c.Finish(nil)
		}
	}()
	_, err := link.Run(ctx, t)
	ended = true
	c.Finish(err)
	if err != nil && !link.HasFuture(t) {
		onError(err)
	}
	return err
}

// LogError returns the default error handler of the executor called name:
// it logs with log/slog at level Error; a *execkit.PanicError logs its
// stack too.
func LogError(name string) func(error) {
	return func(err error) {
		slog.Error("execkit: task failed", "executor", name, "err", err)
	}
}

// Guard makes a user's error handler safe to call where a task ends (a
// worker's goroutine, a task's own, a Submit): a panic in fn is logged
// with log/slog, with its stack, as "<name>: OnError handler panicked",
// instead of crashing the process (or leaving a Submit by a panic, and its
// task's count unfinished, so that Shutdown would wait for ever). A nil fn
// stays nil.
func Guard(name string, fn func(error)) func(error) {
	if fn == nil {
		return nil
	}
	return func(err error) {
		defer func() {
			if r := recover(); r != nil {
				slog.Error(name+": OnError handler panicked",
					"err", err, "panic", &execkit.PanicError{Value: r, Stack: debug.Stack()})
			}
		}()
		fn(err)
	}
}
