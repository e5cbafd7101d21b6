package riverexec

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// insertLoop inserts the queued calls, up to maxBatch per InsertMany, until
// stop. An insert that fails with a connection error (the server is
// restarting, say) is tried again with backoff; one that fails otherwise
// fails its calls.
func (e *Executor) insertLoop() {
	defer e.loops.Done()
	var backoff time.Duration
	for {
		select {
		case <-e.insertWake:
		case <-e.stop:
			return
		}
		for {
			batch := e.takeBatch()
			if len(batch) == 0 {
				break
			}
			err := e.insertBatch(batch)
			if err == nil {
				backoff = 0
				continue
			}
			if !transient(err) || e.base.Err() != nil {
				e.failBatch(batch, err)
				continue
			}
			e.logger.Warn("riverexec: inserting jobs (will retry)", "jobs", len(batch), "err", err)
			e.requeue(batch)
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-e.base.Done():
				t.Stop()
			}
		}
	}
}

// takeBatch moves up to maxBatch queued calls, whose arguments total at
// most maxBatchBytes (or a single call), to inserting, dropping the
// abandoned ones.
func (e *Executor) takeBatch() []*call {
	e.mu.Lock()
	defer e.mu.Unlock()
	var batch []*call
	size := 0
	i := 0
	for ; i < len(e.queue) && len(batch) < maxBatch; i++ {
		c := e.queue[i]
		if c.state == abandoned {
			continue
		}
		n := len(c.args.Payload)
		if len(batch) > 0 && size+n > maxBatchBytes {
			break // c begins the next batch
		}
		size += n
		c.state = inserting
		batch = append(batch, c)
	}
	e.queue = e.queue[i:]
	if len(e.queue) == 0 {
		e.queue = nil // let the backing array go
	}
	return batch
}

func (e *Executor) insertBatch(batch []*call) error {
	// The local worker may fetch a job of the batch before it is in
	// pending: registering tells it to wait until it is, and no longer
	// (not for the notification below).
	reg := make(chan struct{})
	e.mu.Lock()
	e.registering = reg
	e.mu.Unlock()
	registeredLocked := func() {
		e.registering = nil
		close(reg)
	}
	params := make([]river.InsertManyParams, len(batch))
	for i, c := range batch {
		params[i] = river.InsertManyParams{Args: c.args, InsertOpts: c.opts}
	}
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	defer cancel()
	res, err := e.client.InsertMany(ctx, params)
	if err != nil {
		e.mu.Lock()
		registeredLocked()
		e.mu.Unlock()
		return err
	}
	var done []*call
	e.mu.Lock()
	for i, c := range batch {
		c.id = res[i].Job.ID
		c.state = inserted
		if o, ok := e.early[c.id]; ok {
			delete(e.early, c.id)
			c.res, c.err, c.retried, c.timedOut = o.res, o.err, o.retried, o.timedOut
			done = append(done, c)
			continue
		}
		e.pending[c.id] = c
	}
	registeredLocked()
	e.mu.Unlock()
	e.notifyInsert(ctx)
	for _, c := range batch {
		close(c.inserted)
	}
	for _, c := range done {
		close(c.done)
	}
	signal(e.collectWake)
	return nil
}

// notifyInsert wakes the queue's workers. River notifies them too, but at
// most once per FetchCooldown (2ms) per queue and never later, so an insert
// right after another would wait for the workers' next poll (a second on
// PostgreSQL).
func (e *Executor) notifyInsert(ctx context.Context) {
	if err := e.db.notifyInsert(ctx, nil, e.cfg.schema, e.cfg.queue); err != nil {
		e.logger.Warn("riverexec: notifying the workers (they will poll)", "err", err)
	}
}

func (e *Executor) failBatch(batch []*call, err error) {
	for _, c := range batch {
		c.insertErr = errors.Join(errors.New("riverexec: inserting the job"), err)
		close(c.inserted)
	}
}

// requeue puts a failed batch back at the head of the queue; calls whose
// task gave up meanwhile fail now.
func (e *Executor) requeue(batch []*call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	keep := make([]*call, 0, len(batch)+len(e.queue))
	for _, c := range batch {
		c.state = queued
		keep = append(keep, c)
	}
	e.queue = append(keep, e.queue...)
}

// transient reports whether err is worth trying again: the connection broke
// or the server is starting or stopping (PostgreSQL), or the database
// stayed locked longer than the busy timeout (SQLite).
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) >= 2 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		}
		return false
	}
	if sqliteBusy(err) {
		return true
	}
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
	)
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, &netErr) || errors.As(err, &connErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded)
}

// collectLoop polls River for the pending jobs that have finished, in one
// query per cycle, until stop. The interval adapts: back to pollMin after a
// poll that found results, doubling up to pollMax after one that did not.
func (e *Executor) collectLoop() {
	defer e.loops.Done()
	interval := e.cfg.pollMin
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		e.mu.Lock()
		n := len(e.pending)
		e.mu.Unlock()
		if n == 0 {
			select {
			case <-e.collectWake:
				interval = e.cfg.pollMin
				continue
			case <-e.stop:
				return
			}
		}
		t.Reset(interval)
		select {
		case <-t.C:
		case <-e.stop:
			return
		}
		found, err := e.collectOnce()
		switch {
		case err != nil:
			e.logger.Warn("riverexec: polling for results (will retry)", "err", err)
			interval = max(interval, 100*time.Millisecond)
		case found > 0:
			interval = e.cfg.pollMin
		default:
			interval = min(2*interval, e.cfg.pollMax)
		}
	}
}

var finalStates = []rivertype.JobState{
	rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded,
	rivertype.JobStateCancelled,
}

// collectOnce asks River which pending jobs have finished and completes
// their calls. It returns how many it completed.
func (e *Executor) collectOnce() (int, error) {
	e.mu.Lock()
	for id, o := range e.early { // outcomes whose call gave up waiting for its insert
		if time.Since(o.at) > time.Minute {
			delete(e.early, id)
		}
	}
	ids := make([]int64, 0, min(len(e.pending), maxPoll))
	for id := range e.pending {
		if len(ids) == maxPoll {
			break
		}
		ids = append(ids, id)
	}
	e.mu.Unlock()
	if len(ids) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	defer cancel()
	res, err := e.client.JobList(ctx, river.NewJobListParams().IDs(ids...).States(finalStates...).First(len(ids)))
	if err != nil {
		return 0, err
	}
	for _, row := range res.Jobs {
		j, out := readRow(row)
		e.deliver(row.ID, outcome{res: j.Result, err: j.Err, retried: out.Retried, timedOut: out.TimedOut})
	}
	return len(res.Jobs), nil
}
