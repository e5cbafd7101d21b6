package riverexec

// A call in flight: from the Invoker of a task to the outcome a worker (or
// this process) delivers.

import (
	"context"
	"errors"
	"time"

	"github.com/execkit/execkit/driver"
	"github.com/riverqueue/river/rivertype"
)

// invoke is the Invoker of a task: queue the call for the inserter, wait
// for its result, and revoke the job when ctx ends first.
func (e *Executor) invoke(ctx context.Context, name string, payload []byte, started func()) ([]byte, error) {
	c := &call{
		args:     e.args(name, payload, e.name),
		inserted: make(chan struct{}),
		done:     make(chan struct{}),
	}
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
		return c.res, c.err
	case <-ctx.Done():
	}
	return e.revoke(ctx, c)
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
		return c.res, c.err
	case <-wctx.Done():
		e.mu.Lock()
		delete(e.pending, c.id)
		e.mu.Unlock()
		return nil, ctx.Err()
	}
}

// args are the arguments of a job calling name, submitted by from ("" for
// Enqueue: no Future waits for it).
func (e *Executor) args(name string, payload []byte, from string) callArgs {
	return callArgs{
		Func:     name,
		Payload:  payload,
		Retries:  e.cfg.retries,
		Backoff:  e.cfg.backoff.Milliseconds(),
		From:     from,
		Format:   jobFormat,
		Registry: driver.RegistryHash(),
	}
}

// deliver completes the call waiting for job id, if any.
func (e *Executor) deliver(id int64, o outcome) {
	e.mu.Lock()
	c := e.pending[id]
	delete(e.pending, id)
	e.mu.Unlock()
	c.complete(o)
}

// deliverLocal is worker.local: the worker of this process has just run job
// id to its end. When this executor submitted it, the call completes now,
// or as soon as its insert returns (a short job can end before that).
func (e *Executor) deliverLocal(id int64, from string, res []byte, err error) {
	if from != e.name {
		return
	}
	o := outcome{res: res, err: err, at: time.Now()}
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
		c.res, c.err = o.res, o.err
		close(c.done)
	}
}
