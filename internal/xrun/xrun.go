// Package xrun holds what every execkit executor does around a task: count
// it, run it with panic recovery, and report an error that has no Future.
package xrun

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/execkit/execkit"
)

// Counters are the atomic counters behind execkit.Stats. The zero value is
// ready to use.
type Counters struct {
	submitted, queued, running, succeeded, failed, panicked, rejected atomic.Int64
}

// Admit counts a task admitted and queued.
func (c *Counters) Admit() { c.submitted.Add(1); c.queued.Add(1) }

// Reject counts a Submit call that admitted nothing.
func (c *Counters) Reject() { c.rejected.Add(1) }

// Start moves a task from queued to running.
func (c *Counters) Start() { c.queued.Add(-1); c.running.Add(1) }

// Unqueue removes a queued task that will never start (its executor gave
// up on it); it is counted as failed.
func (c *Counters) Unqueue() { c.queued.Add(-1); c.failed.Add(1) }

// Finish counts a task that returned err.
func (c *Counters) Finish(err error) {
	c.running.Add(-1)
	var pe *execkit.PanicError
	switch {
	case err == nil:
		c.succeeded.Add(1)
	case errors.As(err, &pe):
		c.panicked.Add(1)
	default:
		c.failed.Add(1)
	}
}

// Stats returns a snapshot.
func (c *Counters) Stats() execkit.Stats {
	return execkit.Stats{
		Submitted: c.submitted.Load(),
		Queued:    c.queued.Load(),
		Running:   c.running.Load(),
		Succeeded: c.succeeded.Load(),
		Failed:    c.failed.Load(),
		Panicked:  c.panicked.Load(),
		Rejected:  c.rejected.Load(),
	}
}

// Exec runs an admitted task: Start, execkit.Run, Finish, and the error to
// onError unless the task delivers it to a Future. It returns the task's
// error for strategies that act on it.
func Exec(ctx context.Context, c *Counters, t execkit.Task, onError func(error)) error {
	c.Start()
	err := execkit.Run(ctx, t)
	c.Finish(err)
	if err != nil && !execkit.HasFuture(t) {
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
