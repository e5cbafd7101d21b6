package riverexec

// A call in flight: from the Invoker of a task to the outcome a worker (or
// this process) delivers.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// invoke is the Invoker of a task: queue the call for the inserter, wait
// for its result, and revoke the job when ctx is cancelled first. ctx's
// deadline, if it has one, is written into the job: when it passes, the
// call fails with ctx's error at once and the job is left to its worker,
// which ends it under the same deadline (no revoke needed).
func (e *Executor) invoke(ctx context.Context, name string, payload []byte, started func()) ([]byte, error) {
	if err := e.checkArg(name, payload); err != nil {
		return nil, err // before the inserter ever sees it
	}
	dl, _ := ctx.Deadline()
	c := &call{
		inserted: make(chan struct{}),
		done:     make(chan struct{}),
		task:     ctx,
	}
	c.args, c.opts = e.args(name, payload, e.name, dl)
	e.mu.Lock()
	e.queue = append(e.queue, c)
	e.mu.Unlock()
	signal(e.insertWake)

	select {
	case <-c.inserted:
	case <-ctx.Done():
		e.mu.Lock()
		if c.state == queued {
			c.state = abandoned // the inserter drops it
			e.mu.Unlock()
			return nil, ctx.Err()
		}
		e.mu.Unlock()
		<-c.inserted // an InsertMany under way, bounded by insertTimeout
	}
	if c.insertErr != nil {
		return nil, c.insertErr
	}
	started()

	select {
	case <-c.done:
		e.tally(c)
		return c.res, c.err
	case <-ctx.Done():
	}
	if c.args.Deadline != 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e.mu.Lock()
		_, waiting := e.pending[c.id]
		delete(e.pending, c.id)
		e.mu.Unlock()
		if !waiting { // delivered meanwhile
			<-c.done
			e.tally(c)
			return c.res, c.err
		}
		return nil, ctx.Err()
	}
	return e.revoke(ctx, c)
}

// tally counts the retries and timeouts of c's job, which has ended.
func (e *Executor) tally(c *call) {
	for range c.retried {
		e.counters.CountRetry()
	}
	for range c.timedOut {
		e.counters.CountTimeout()
	}
}

// revoke cancels c's job and waits (at most revokeWait) for it to end: a
// running task has its context cancelled on its worker and the Future
// completes with what it returned. One JobCancel is enough since River
// v0.51: a running job marked for cancellation ends "cancelled" whatever
// its worker returns (v0.30 let one that failed with a retry due go back to
// "available", and this loop cancelled it again).
func (e *Executor) revoke(ctx context.Context, c *call) ([]byte, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeWait)
	defer cancel()
	if _, err := e.client.JobCancel(wctx, c.id); err != nil && !errors.Is(err, rivertype.ErrNotFound) && wctx.Err() == nil {
		e.logger.Warn("riverexec: cancelling a job", "job", c.id, "err", err)
	}
	select {
	case <-c.done:
		if errors.Is(c.err, ErrRevoked) {
			return nil, ctx.Err()
		}
		e.tally(c)
		return c.res, c.err
	case <-wctx.Done():
		e.mu.Lock()
		delete(e.pending, c.id)
		e.mu.Unlock()
		return nil, ctx.Err()
	}
}

// checkArg returns an error wrapping execkit.ErrPayload when payload, the
// encoded argument of a call of name, is larger than MaxArgSize allows.
func (e *Executor) checkArg(name string, payload []byte) error {
	if n := len(payload); n > e.cfg.maxArg {
		return fmt.Errorf("riverexec: the argument of %q encodes to %d bytes, over the executor's limit of %d bytes (MaxArgSize): %w", name, n, e.cfg.maxArg, execkit.ErrPayload)
	}
	return nil
}

// args are the arguments of a job calling name, submitted by from ("" for
// Enqueue: no Future waits for it) with a deadline (zero: none), and its
// insert options. The retry budget is the Func's Retry when it declared
// one, else the executor's Retries.
func (e *Executor) args(name string, payload []byte, from string, deadline time.Time) (callArgs, *river.InsertOpts) {
	a := callArgs{
		Func:     name,
		Payload:  payload,
		Retries:  e.cfg.retries,
		Backoff:  e.cfg.backoff,
		From:     from,
		Format:   jobFormat,
		Registry: driver.RegistryHash(),
	}
	if !deadline.IsZero() {
		a.Deadline = unixNano(deadline)
	}
	p, ok := driver.PolicyOf(name)
	if !ok || !p.Retry {
		return a, e.opts
	}
	a.Retries, a.Backoff, a.MaxBackoff, a.FuncRetry = min(p.Retries, maxRetries), p.Backoff, p.MaxBackoff, true
	opts := e.opts
	if a.Retries != e.cfg.retries {
		opts = &river.InsertOpts{Queue: e.cfg.queue, MaxAttempts: a.Retries + 1 + rescueBudget}
	}
	return a, opts
}

// deliver completes the call waiting for job id, if any.
func (e *Executor) deliver(id int64, o outcome) {
	e.mu.Lock()
	c := e.pending[id]
	delete(e.pending, id)
	e.mu.Unlock()
	c.complete(o)
}

// localCall is worker.localCall: for job id, which this process's worker
// is about to start, it returns the ctx of the call's task when the job is
// of a call of this executor still waiting for it, else nil. The worker
// then does not start a job whose task's ctx has ended (its Future
// cancelled, a Shutdown that gave up), and runs the others under that ctx,
// so that when the Future's Cancel returns, the job has its ctx cancelled
// or never starts here, as on every executor; the revoke that the call
// sends may reach the database after the worker fetched the job, and the
// worker hears of it later still. A job fetched while its batch's insert
// is being registered waits for that.
func (e *Executor) localCall(id int64, from string) context.Context {
	if from != e.name {
		return nil
	}
	e.mu.Lock()
	c, ok := e.pending[id]
	reg := e.registering
	e.mu.Unlock()
	if !ok && reg != nil { // its batch, inserted, is being registered: the only one under way
		<-reg
		e.mu.Lock()
		c, ok = e.pending[id]
		e.mu.Unlock()
	}
	if !ok {
		return nil // delivered, abandoned to its deadline, or inserted twice: nothing waits for it
	}
	return c.task
}

// deliverLocal is worker.local: the worker of this process has just run job
// id to its end. When this executor submitted it, the call completes now,
// or as soon as its insert returns (a short job can end before that).
func (e *Executor) deliverLocal(id int64, from string, o outcome) {
	if from != e.name {
		return
	}
	o.at = time.Now()
	e.mu.Lock()
	c, ok := e.pending[id]
	if ok {
		delete(e.pending, id)
	} else {
		e.early[id] = o
	}
	e.mu.Unlock()
	c.complete(o)
}

func (c *call) complete(o outcome) {
	if c != nil {
		c.res, c.err, c.retried, c.timedOut = o.res, o.err, o.retried, o.timedOut
		close(c.done)
	}
}

// The instants Unix nanoseconds in an int64 hold (1677 to 2262).
var (
	latestNano   = time.Unix(0, math.MaxInt64)
	earliestNano = time.Unix(0, math.MinInt64)
)

// unixNano returns a deadline as a job row carries it, in Unix
// nanoseconds, never 0 (no deadline): clamped to what an int64 holds, since
// UnixNano wraps outside it (a deadline in 2500 became one in 1915, passed).
func unixNano(t time.Time) int64 {
	switch {
	case t.After(latestNano):
		return math.MaxInt64
	case t.Before(earliestNano):
		return math.MinInt64
	}
	if n := t.UnixNano(); n != 0 {
		return n
	}
	return 1
}
