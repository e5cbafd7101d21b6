package riverexec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// errEnqueued stops RunVia once Enqueue has inserted the job.
var errEnqueued = errors.New("riverexec: enqueued")

// Enqueue inserts t, a task of a registered function made by its Func's
// Task method, as one job and returns the job's id at once, without waiting
// for it to run: Celery's `delay` when you keep the task id rather than
// wait on the result. Any process can then follow the job with Lookup (the
// result is on the job row) or revoke it with Cancel; its error, if it
// fails, goes nowhere else. Enqueue blocks for one insert; ctx bounds it.
// It returns [execkit.ErrNilTask], [execkit.ErrNotPortable] (a closure, or a
// task with a Future: use Submit for those), [execkit.ErrClosed] once
// Shutdown has begun, an error wrapping [execkit.ErrPayload] for an
// argument that does not encode or encodes to more than [MaxArgSize]
// allows (1 MiB by default; the error gives the size and the limit, and
// nothing is inserted), or the insert's error. It works in every mode,
// [WorkOnly] too, and is safe for concurrent use.
func (e *Executor) Enqueue(ctx context.Context, t execkit.Task) (int64, error) {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return 0, execkit.ErrNilExecutor
	}
	return e.enqueue(ctx, t, func(ctx context.Context, p []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
		return e.client.InsertMany(ctx, p)
	})
}

// EnqueueTx is Enqueue inside the caller's transaction tx: the job exists
// if and only if tx commits (what Celery users get from
// transaction.on_commit), so a row and the job that processes it are never
// one without the other. tx is a pgx.Tx for an executor made by [New] and a
// *sql.Tx (of the database handle given to [NewSQLite]) for one on SQLite;
// another type, or a nil one (a nil *pgxpool.Tx or *sql.Tx included), is
// an error wrapping [ErrTxType]. Workers see the job once
// tx commits: on PostgreSQL at once (the notice leaves with the commit), on
// SQLite at their next poll (5ms). Before the commit, Lookup of the id from
// outside tx says UNKNOWN; after a rollback it stays UNKNOWN (on SQLite
// until a later job takes the same id: SQLite reuses the id of a row that was
// rolled back, PostgreSQL never does). On SQLite the
// open transaction holds the database's only write lock (and, with
// [OpenSQLite]'s handle, this process's only connection), so keep it short.
// EnqueueTx blocks for the insert, uses tx from the calling goroutine only,
// and returns the errors of Enqueue; an argument it refuses leaves tx as it
// was.
func (e *Executor) EnqueueTx(ctx context.Context, tx any, t execkit.Task) (int64, error) {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return 0, execkit.ErrNilExecutor
	}
	return e.enqueue(ctx, t, func(ctx context.Context, p []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
		res, err := e.db.insertTx(ctx, e.client, tx, p)
		if err == nil {
			err = e.db.notifyInsert(ctx, tx, e.cfg.schema, e.cfg.queue)
		}
		return res, err
	})
}

func (e *Executor) enqueue(ctx context.Context, t execkit.Task, insert func(context.Context, []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)) (int64, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return 0, execkit.ErrNilTask
	}
	p, ok := t.(driver.Portable)
	if !ok || driver.HasFuture(t) {
		return 0, execkit.ErrNotPortable
	}
	select {
	case <-e.closing:
		return 0, execkit.ErrClosed
	default:
	}
	var id int64
	err := driver.RunViaOnce(ctx, p, func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		if err := e.checkArg(name, payload); err != nil {
			return nil, err
		}
		args, opts := e.args(name, payload, "", time.Time{}) // ctx bounds the insert: its deadline is not the job's
		res, err := insert(ctx, []river.InsertManyParams{{Args: args, InsertOpts: opts}})
		if err != nil {
			if errors.Is(err, ErrTxType) {
				return nil, err
			}
			return nil, fmt.Errorf("riverexec: inserting the job: %w", err)
		}
		id = res[0].Job.ID
		return nil, errEnqueued
	})
	if errors.Is(err, errEnqueued) {
		return id, nil
	}
	return 0, err
}

// Lookup returns what the database knows of job id: its state in Celery's
// vocabulary, attempts, and its result or error once it has finished. An id
// with no job (never issued, or finished long enough ago that River's
// cleaner deleted it: a day for successes by default), and an id of a
// River job that is not a riverexec job (another application's, in the
// same database), is StateUnknown with a nil error; the error is the
// query's. River records completions in
// batches, so a Future of this process may complete up to 250ms before
// Lookup shows SUCCESS or FAILURE. Lookup blocks for one query, works
// in every mode and after Shutdown while the pool is open, and is safe for
// concurrent use.
func (e *Executor) Lookup(ctx context.Context, id int64) (Job, error) {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return Job{}, execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	row, err := e.client.JobGet(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) || err == nil && row.Kind != Kind { // another application's River job is not ours to read
		return Job{ID: id, State: StateUnknown}, nil
	}
	if err != nil {
		return Job{}, fmt.Errorf("riverexec: looking up job %d: %w", id, err)
	}
	return jobOf(row), nil
}

// Cancel revokes job id: Celery's revoke(terminate=True). A job that waits
// never runs; a running one has its context cancelled on its worker (through
// LISTEN/NOTIFY, or River's poll on SQLite; on this executor's own worker
// before Cancel returns, and a job that worker fetched but had not started
// never starts there) and ends REVOKED if it returns an error, SUCCESS if it
// finishes anyway; a finished one is left as it is. The Future of a task
// whose job is revoked completes with an error wrapping [ErrRevoked].
// Cancel returns an error wrapping [ErrUnknownJob] for an id with no job,
// or whose job is not a riverexec job (another application's River job in
// the same database, which it leaves as it is). It blocks for two queries,
// works in every mode and after Shutdown while the pool is open, and is
// safe for concurrent use.
func (e *Executor) Cancel(ctx context.Context, id int64) error {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// Only a job of Kind: another application's River job in the same
	// database (a kind is never changed) is not ours to revoke.
	row, err := e.client.JobGet(ctx, id)
	if err == nil && row.Kind != Kind {
		err = rivertype.ErrNotFound
	}
	if err == nil {
		row, err = e.client.JobCancel(ctx, id)
	}
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		return fmt.Errorf("%w: %d", ErrUnknownJob, id)
	case err != nil:
		return fmt.Errorf("riverexec: cancelling job %d: %w", id, err)
	}
	if e.jobs != nil && row != nil && row.State == rivertype.JobStateRunning {
		e.jobs.revoke(id) // this process's worker may run it: tell it now
	}
	return nil
}

// errCancelled is the cause of the ctx of a job that Executor.Cancel of
// this process revoked while this process's worker ran it: River's reason
// for a revoke, as the worker hears of it otherwise.
var errCancelled = fmt.Errorf("riverexec: job revoked by Executor.Cancel: %w", river.ErrJobCancelledRemotely)

// localJobs are the jobs a worker is running, so that Executor.Cancel in
// the same process cancels a running one's ctx before it returns, and
// a job the worker fetched but has not started yet never starts; River
// tells the worker of a revoke later (LISTEN/NOTIFY, or a poll on SQLite).
type localJobs struct {
	mu      sync.Mutex
	running map[int64]*context.CancelCauseFunc // one per job: a rescued job's new attempt replaces its old one
	// revoked holds the jobs Cancel revoked while the database said they
	// ran but this worker did not run them (yet: it may have fetched
	// them), with when, for begin to refuse; forgotten after a minute
	// (they ran elsewhere, or ended).
	revoked map[int64]time.Time
}

func newLocalJobs() *localJobs {
	return &localJobs{running: make(map[int64]*context.CancelCauseFunc), revoked: make(map[int64]time.Time)}
}

// begin records job id as running, with cancel to revoke it, and returns
// what end takes; it returns nil, recording nothing, when Cancel revoked
// the job already.
func (l *localJobs) begin(id int64, cancel context.CancelCauseFunc) *context.CancelCauseFunc {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.revoked[id]; ok {
		delete(l.revoked, id)
		return nil
	}
	r := &cancel
	l.running[id] = r
	return r
}

// end forgets job id's attempt r, which has returned.
func (l *localJobs) end(id int64, r *context.CancelCauseFunc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[id] == r {
		delete(l.running, id)
	}
}

// revoke cancels the ctx of job id if it runs here, or else keeps it from
// starting here.
func (l *localJobs) revoke(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.running[id]; ok {
		(*r)(errCancelled)
		return
	}
	now := time.Now()
	for old, at := range l.revoked {
		if now.Sub(at) > time.Minute {
			delete(l.revoked, old)
		}
	}
	l.revoked[id] = now
}
