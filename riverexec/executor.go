package riverexec

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/shutdown"
	"github.com/execkit/execkit/internal/xrun"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

const (
	// insertTimeout bounds one InsertMany; an insert that fails with a
	// connection error is tried again (the server may be restarting).
	insertTimeout = 10 * time.Second
	// maxBatch is the most calls one InsertMany carries, and
	// maxBatchBytes the most bytes of arguments, unless one call alone
	// has more (MaxArgSize allows up to 16 MiB): one InsertMany is one
	// transaction, which on SQLite holds the only write lock, about 0.3s
	// per MiB, and must end within insertTimeout.
	maxBatch      = 1000
	maxBatchBytes = 4 << 20
	// maxPoll is the most pending ids one poll asks about (River's
	// JobList limit).
	maxPoll = 10_000
	// revokeWait bounds how long a cancelled task waits for its job to
	// end on its worker before its Future completes anyway.
	revokeWait = 10 * time.Second
	// fetchCooldown is the shortest time between two fetches of River's
	// producer; River's default (100ms) caps a queue at ten fetches a
	// second, too few for short tasks.
	fetchCooldown = 2 * time.Millisecond
)

// An Executor runs registered functions ([execkit.Register]) as River jobs
// in PostgreSQL: Submit inserts one job per task, any worker sharing the
// database runs it, and the result comes back to the task's Future. Its
// methods are safe for concurrent use. Make one with [New].
type Executor struct {
	client   riverClient
	db       backend
	cfg      config
	onError  func(error)
	logger   *slog.Logger
	counters xrun.Counters
	opts     *river.InsertOpts
	jobs     *localJobs // the jobs this process's worker runs; nil without one

	// base is the parent of the tasks' contexts, cancelled when Shutdown
	// gives up; giveUp cancels it.
	base   context.Context
	giveUp context.CancelFunc

	slots chan struct{} // Limit's semaphore; nil when unbounded

	mu      sync.Mutex
	closed  bool
	closing chan struct{} // closed when Shutdown begins
	active  int           // task goroutines
	idle    chan struct{} // closed once closed and active == 0
	queue   []*call       // admitted calls waiting to be inserted
	pending map[int64]*call
	early   map[int64]outcome // outcomes the local worker had before the insert returned
	// registering is closed once the batch being inserted is in pending
	// (nil when no insert is under way): the local worker waits for it to
	// tell whether a job it fetched is of a call cancelled meanwhile.
	registering chan struct{}
	name        string        // callArgs.From of this executor's calls
	finished    chan struct{} // closed when Shutdown's work is done

	insertWake  chan struct{}
	collectWake chan struct{}
	stop        chan struct{} // ends the loops
	loops       sync.WaitGroup
}

// A call is one invocation on its way through the database.
type call struct {
	args      callArgs
	opts      *river.InsertOpts
	state     callState // guarded by Executor.mu
	id        int64
	inserted  chan struct{} // closed once the insert succeeded (id set) or failed (insertErr set)
	insertErr error
	done      chan struct{} // closed once res or err is set
	res       []byte
	err       error
	// task is the ctx of the call's task (its Future's), kept for this
	// process's worker: a job whose task was cancelled does not start
	// there, and a running one has its ctx cancelled with the task's, at
	// once (see localCall).
	task context.Context
	// retried and timedOut count the job's retries and timeouts, for
	// Stats, once done.
	retried, timedOut int
}

type callState uint8

const (
	queued    callState = iota // waiting for the inserter
	inserting                  // in an InsertMany
	abandoned                  // its task gave up before it was inserted
	inserted                   // in the database, result pending
)

// New makes an executor on a PostgreSQL pool, whose database must hold
// River's tables (see [Migrate]), and starts its River client when it runs
// workers (the default; see [SubmitOnly] and [WorkOnly]): the many-machine
// rung of the ladder. [NewSQLite] makes the same executor on an embedded
// SQLite file. New seals execkit's registry ([driver.RegistryHash]):
// register every function before. ctx bounds the checks New makes of the
// database only. The pool must stay open until Shutdown returned; give it at
// least 10 connections (pool_max_conns), since River holds one to listen and
// fetches, completes and inserts on others.
//
// New returns an error for a bad option or when River's tables cannot be
// read. An executor that runs workers starts River's goroutines, which idle
// until jobs arrive, and on PostgreSQL one of its own that wakes the
// workers for retries; a submitting one starts two of its own (the inserter
// and the result collector).
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Executor, error) {
	if pool == nil {
		return nil, errors.New("riverexec: New with a nil pool")
	}
	return start(ctx, postgres{pool}, opts)
}

// start makes and starts an executor on db.
func start(ctx context.Context, db backend, opts []Option) (*Executor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := defaults()
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("riverexec: New with a nil Option")
		}
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := db.validate(&cfg); err != nil {
		return nil, err
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(minLevel{slog.Default().Handler(), slog.LevelError})
	}
	driver.RegistryHash()

	e := &Executor{
		db:          db,
		cfg:         cfg,
		onError:     cfg.onError,
		logger:      logger,
		opts:        &river.InsertOpts{Queue: cfg.queue, MaxAttempts: cfg.retries + 1 + rescueBudget},
		closing:     make(chan struct{}),
		idle:        make(chan struct{}),
		pending:     make(map[int64]*call),
		early:       make(map[int64]outcome),
		name:        randomName(),
		finished:    make(chan struct{}),
		insertWake:  make(chan struct{}, 1),
		collectWake: make(chan struct{}, 1),
		stop:        make(chan struct{}),
	}
	rc := &river.Config{
		FetchCooldown:     fetchCooldown,
		FetchPollInterval: cmp.Or(cfg.fetchPoll, db.fetchPoll()),
		// River (since v0.3x) rescues only jobs that have a timeout, so a
		// task's context ends when RescueAfter passes: by then River takes
		// it for abandoned and runs it again anyway.
		JobTimeout:           cfg.rescueAfterOrDefault(),
		Logger:               logger,
		RescueStuckJobsAfter: cfg.rescueAfterOrDefault(),
		Schema:               cfg.schema,
	}
	if cfg.work {
		e.jobs = newLocalJobs()
		w := &worker{scope: &e.counters.Scope, jobs: e.jobs}
		if cfg.submit {
			w.local = e.deliverLocal
			w.localCall = e.localCall
		}
		rc.Workers = river.NewWorkers()
		river.AddWorker(rc.Workers, w)
		rc.Queues = map[string]river.QueueConfig{cfg.queue: {MaxWorkers: cfg.workers}}
	}
	client, err := db.newClient(rc)
	if err != nil {
		return nil, fmt.Errorf("riverexec: %w", err)
	}
	if _, err := client.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
		return nil, fmt.Errorf("riverexec: reading River's jobs (%s): %w", db.migrateHint(cfg.schema), err)
	}
	e.client = client
	if e.onError == nil {
		e.onError = xrun.LogError("riverexec")
	}
	if cfg.maxPending > 0 {
		e.slots = make(chan struct{}, cfg.maxPending)
	}
	// The scope: its rate limiters serve this executor's worker; its
	// counters take the retries and timeouts of the jobs e submitted.
	e.base, e.giveUp = context.WithCancel(xrun.WithScope(context.Background(), &e.counters.Scope))
	if cfg.work {
		// Start's ctx would stop River when cancelled: Shutdown does that.
		if err := client.Start(context.WithoutCancel(ctx)); err != nil {
			e.giveUp()
			return nil, fmt.Errorf("riverexec: starting River: %w", err)
		}
		if db.fetchPoll() == 0 { // workers wait for notices (PostgreSQL)
			events, unsubscribe := client.Subscribe(river.EventKindJobFailed)
			e.loops.Add(1)
			go e.wakeRetries(events, unsubscribe)
		}
	}
	if cfg.submit {
		e.loops.Add(2)
		go e.insertLoop()
		go e.collectLoop()
	}
	return e, nil
}

// Submit admits t, which must be a task of a registered function ([Func]'s
// Task, Go or Map): the job is inserted moments later by a goroutine that
// batches inserts, and t's outcome arrives at its Future (or the OnError
// handler) once a worker has run it. Submit blocks only under
// [Limit], until a task finishes or ctx ends (then it returns
// ctx.Err()). It returns [execkit.ErrNilTask] for a nil task,
// [execkit.ErrNotPortable] for any other task (a closure cannot run on
// another machine), [ErrWorkOnly] on a [WorkOnly] executor, and
// [execkit.ErrClosed] once Shutdown has begun. Safe for concurrent use.
// A task whose argument encodes to more than [MaxArgSize] allows (1 MiB
// by default) is admitted and fails, its job never inserted, with an
// error wrapping [execkit.ErrPayload] that gives the size and the limit
// (Submit returns before the argument is encoded).
//
// A task is durable once its job is inserted, not when Submit returns:
// a crash of the process (or of the machine) between the two loses it,
// as it loses its Future ([execkit.Stats].Queued counts the tasks not
// inserted yet). Use [Executor.Enqueue], which returns once the job is in
// the database, for a task that must survive a crash from the moment the
// call returns.
func (e *Executor) Submit(ctx context.Context, t execkit.Task) error {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	p, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	if !e.cfg.submit {
		e.counters.Reject()
		return ErrWorkOnly
	}
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}: // a free slot admits even when ctx has ended, as in the other executors
		default:
			if err := e.waitSlot(ctx); err != nil {
				return err
			}
		}
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.release()
		e.counters.Reject()
		return execkit.ErrClosed
	}
	e.active++
	e.mu.Unlock()
	e.counters.Admit()
	go e.run(p)
	return nil
}

func (e *Executor) release() {
	if e.slots != nil {
		<-e.slots
	}
}

// run runs one admitted task through the database and reports its outcome.
func (e *Executor) run(t driver.Portable) {
	started := false
	// The Func's policy applies on the worker, to the job's attempts.
	err := driver.RunViaOnce(e.base, t, func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		return e.invoke(ctx, name, payload, func() {
			started = true
			e.counters.Start()
		})
	})
	if started {
		e.counters.Finish(err)
	} else {
		e.counters.Unqueue()
	}
	if err != nil && !driver.HasFuture(t) {
		e.onError(err)
	}
	e.release()
	e.mu.Lock()
	e.active--
	if e.closed && e.active == 0 {
		close(e.idle)
	}
	e.mu.Unlock()
}

// An outcome is a job's final result or error.
type outcome struct {
	res               []byte
	err               error
	retried, timedOut int       // output.Retried and TimedOut
	at                time.Time // when the worker had it (early outcomes)
}

func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Shutdown stops admission (Submit returns [execkit.ErrClosed]), waits for
// the outcome of every task this executor admitted, then stops River's
// client, which waits for the jobs this process's worker is running (for
// any submitter), and returns nil once every goroutine the executor and its
// River client started has exited. If ctx ends first, Shutdown cancels the
// tasks' contexts, which revokes their jobs (on whatever worker runs them),
// stops River's client hard (its running jobs' contexts are cancelled; River
// runs them again later if they have attempts left) and returns ctx.Err(); a
// later call waits again. Jobs still in the database stay there. It is
// idempotent and safe to call concurrently.
func (e *Executor) Shutdown(ctx context.Context) error {
	if e == nil || e.finished == nil { // not made by New or NewSQLite
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.closing)
		if e.active == 0 {
			close(e.idle)
		}
		go e.close()
	}
	e.mu.Unlock()
	return shutdown.Wait(ctx, e.finished, e.giveUp)
}

// waitSlot waits for a slot of Limit until ctx ends or Shutdown
// begins.
func (e *Executor) waitSlot(ctx context.Context) error {
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		e.counters.Reject()
		return ctx.Err()
	case <-e.closing:
		e.counters.Reject()
		return execkit.ErrClosed
	}
}

// close is Shutdown's work, in its own goroutine so that a Shutdown whose
// ctx ended can return while it goes on.
func (e *Executor) close() {
	defer close(e.finished)
	select {
	case <-e.idle:
	case <-e.base.Done():
		if e.cfg.work { // cancel the local jobs now, while the tasks revoke theirs
			_ = e.client.StopAndCancel(context.Background())
		}
		<-e.idle
	}
	close(e.stop)
	e.loops.Wait()
	if e.cfg.work {
		if err := e.client.Stop(e.base); err != nil {
			_ = e.client.StopAndCancel(context.Background())
		}
	}
	e.giveUp() // release the context
}

// Stats returns the executor's counters: Submitted counts admitted tasks,
// Queued those not inserted yet, Running those inserted whose result has
// not come back (waiting for a worker or running on one), then Succeeded,
// Failed and Panicked by outcome; Retries and Timeouts count the retried
// and timed-out attempts of those tasks' jobs, read from the job when its
// outcome arrives. Jobs this process's worker runs for other submitters (or
// for Enqueue) are not counted. It never blocks (it reads counters, not the
// database) and is safe for concurrent use, after Shutdown too.
func (e *Executor) Stats() execkit.Stats {
	if e == nil {
		return execkit.Stats{}
	}
	return e.counters.Stats()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wakeRetries notifies the queue's workers of the failed jobs of this
// worker that River has made available again for a retry due soon, until
// stop: River notifies the workers of new jobs but not of retries, which
// would otherwise wait for their next fetch poll (a second). Failures that
// arrive together share one notice.
func (e *Executor) wakeRetries(events <-chan *river.Event, unsubscribe func()) {
	defer e.loops.Done()
	defer unsubscribe()
	retry := func(ev *river.Event) bool {
		return ev.Job != nil && ev.Job.State == rivertype.JobStateAvailable && ev.Job.Queue == e.cfg.queue
	}
	for {
		var ev *river.Event
		select {
		case ev = <-events:
		case <-e.stop:
			return
		}
		if ev == nil { // River's client stopped
			return
		}
		due := retry(ev)
	drain:
		for {
			select {
			case ev = <-events:
				if ev == nil {
					break drain
				}
				due = due || retry(ev)
			default:
				break drain
			}
		}
		if due {
			ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
			e.notifyInsert(ctx)
			cancel()
		}
	}
}
