package fireforget

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// Defaults of a [Registry]; see the options that change them.
const (
	DefaultLimit        = 1000             // unfinished jobs at once; see Limit
	DefaultKeepFinished = 1000             // finished jobs kept; see KeepFinished
	DefaultTTL          = 10 * time.Minute // how long a finished job is kept; see TTL
	DefaultMaxOutput    = 64 << 10         // output bytes kept per job; see MaxOutput
	DefaultRefresh      = time.Second      // status page reload interval; see RefreshEvery
)

// A Registry runs jobs in the background and keeps track of them: the
// counterpart of web.py's background threads and their threaddb, without its
// hazards. Each job has a random 128-bit [ID] that is never reused, a
// [State], a capped output ([MaxOutput]), start and end times and its error
// (with the stack when it panicked). Finished jobs are forgotten after [TTL]
// and beyond [KeepFinished], and at most [Limit] jobs ([DefaultLimit] unless
// set) are unfinished at once, so the jobs a Registry holds, and their
// output, stay bounded however many are started (however many requests
// reach [Registry.Handler], which serves jobs over HTTP the way web.py's
// @backgrounder did). Make one with [NewRegistry]; the zero value is a
// Registry with every default. All methods are safe for concurrent use;
// after Shutdown, Start fails with [execkit.ErrClosed] while Lookup, Info,
// Cancel and List keep working.
type Registry struct {
	setup     sync.Once // makes the zero Registry one with the defaults
	ex        *Executor
	limit     int
	keep      int
	ttl       time.Duration
	maxOutput int
	refresh   time.Duration

	mu         sync.Mutex
	closed     bool
	jobs       map[ID]*Job
	unfinished int
	// starting counts the jobs created and not yet handed to ex (Start
	// between create and run; Handler while h runs): Shutdown waits for
	// them before ex's Shutdown, so that a job Start returned is run, not
	// refused. startedAll is closed once Shutdown began and none is left.
	starting   int
	startedAll chan struct{}
	seq        uint64
	finished   []finishedJob // in finishing order; finished[head:] are live
	head       int
}

type finishedJob struct {
	id ID
	at time.Time
}

// NewRegistry returns an empty Registry configured by opts: [Limit],
// [KeepFinished], [TTL], [MaxOutput] and [RefreshEvery]; a nil option or an
// out-of-range value is an error. It starts no goroutine:
// expired jobs are evicted when the Registry is next used.
func NewRegistry(opts ...RegistryOption) (*Registry, error) {
	c, err := registryConfig(opts)
	if err != nil {
		return nil, err
	}
	r := new(Registry)
	r.setup.Do(func() { r.configure(c) })
	return r, nil
}

// ready configures a zero Registry with the defaults on its first use; for
// one made by NewRegistry it does nothing.
func (r *Registry) ready() { r.setup.Do(func() { r.configure(config{}) }) }

// configure fills r from c and the defaults.
func (r *Registry) configure(c config) {
	ex, _ := New() // New without options cannot fail
	r.ex = ex
	r.limit = cmpOr(c.limit, DefaultLimit)
	r.keep = cmpOr(c.keep, DefaultKeepFinished)
	r.ttl = cmpOr(c.ttl, DefaultTTL)
	r.maxOutput = cmpOr(c.maxOutput, DefaultMaxOutput)
	r.refresh = cmpOr(c.refresh, DefaultRefresh)
	r.jobs = make(map[ID]*Job)
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Start creates a job, starts fn in the background and returns the job at
// once. It returns [execkit.ErrFull] when [Limit] (by default
// [DefaultLimit]) unfinished jobs exist already, an error for a nil fn, and
// [execkit.ErrClosed] once Shutdown has begun; it never blocks, so a job may
// start others without the deadlock a nested Submit risks on an [Executor]
// with a Limit. A panic in fn fails the job with a [*execkit.PanicError]
// carrying the stack; it never crashes the process. A runtime.Goexit in fn
// (t.FailNow calls it) counts as returning nil, as for the function of
// execkit.Go.
func (r *Registry) Start(fn JobFunc) (*Job, error) {
	if r == nil {
		return nil, execkit.ErrNilExecutor
	}
	if fn == nil {
		return nil, errors.New("fireforget: Registry.Start: nil JobFunc")
	}
	j, err := r.create()
	if err != nil {
		return nil, err
	}
	defer r.started()
	r.run(j, fn)
	return j, nil
}

// create adds a pending job.
func (r *Registry) create() (*Job, error) {
	r.ready()
	now := time.Now()
	id := newID() // outside the lock: it may make a system call
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, execkit.ErrClosed
	}
	r.evictLocked(now)
	if r.unfinished >= r.limit {
		return nil, execkit.ErrFull
	}
	for r.jobs[id] != nil { // a clash with a live job: about 2^-128 per job
		id = newID()
	}
	r.seq++
	j := &Job{
		id:      id,
		seq:     r.seq,
		reg:     r,
		state:   Pending,
		out:     newOutput(r.maxOutput),
		created: now,
		done:    make(chan struct{}),
	}
	r.jobs[id] = j
	r.unfinished++
	r.starting++
	return j, nil
}

// started ends what create began for one job: it was handed to ex, or
// finished without its function. Every successful create is followed by
// exactly one call.
func (r *Registry) started() {
	r.mu.Lock()
	r.starting--
	if r.starting == 0 && r.startedAll != nil {
		close(r.startedAll)
	}
	r.mu.Unlock()
}

// run starts the pending job j's function.
func (r *Registry) run(j *Job, fn JobFunc) {
	if err := r.ex.Submit(context.Background(), &jobTask{j: j, fn: fn}); err != nil {
		j.finish(err, false) // ErrClosed: Shutdown began after create
	}
}

// jobTask runs a job's function on the Registry's executor.
type jobTask struct {
	j  *Job
	fn JobFunc
}

// Run runs the job unless it was cancelled first. A function that ends its
// goroutine (runtime.Goexit, as t.FailNow does) counts as returning nil,
// as a Future's function that does: the job finishes then, rather than
// stay unfinished for ever, holding its place under Limit.
func (t *jobTask) Run(context.Context) error {
	j := t.j
	// Not derived from the executor's context: deriving registers every job
	// with one shared parent under its lock, a quarter of a job's cost.
	// Shutdown cancels the running jobs itself when it gives up.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j.mu.Lock()
	if j.state != Pending { // cancelled before it started
		j.mu.Unlock()
		return nil
	}
	j.state, j.started, j.cancel = Running, time.Now(), cancel
	j.mu.Unlock()
	returned := false
	defer func() {
		if !returned { // fn ended its goroutine (runtime.Goexit)
			j.finish(nil, ctx.Err() != nil)
		}
	}()
	err := driver.Run(ctx, (*jobCall)(t))
	returned = true
	j.finish(err, ctx.Err() != nil)
	return nil // the job keeps its error; the executor must not log it
}

// jobCall calls a job's function with the job's output: the Task that
// driver.Run guards against panics.
type jobCall jobTask

func (t *jobCall) Run(ctx context.Context) error { return t.fn(ctx, (*jobWriter)(t.j)) }

// markFinished moves j to the finished queue and evicts what is due.
func (r *Registry) markFinished(id ID, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unfinished--
	r.finished = append(r.finished, finishedJob{id: id, at: at})
	r.evictLocked(at)
}

// evictLocked forgets finished jobs beyond keep or older than ttl.
func (r *Registry) evictLocked(now time.Time) {
	for r.head < len(r.finished) {
		f := r.finished[r.head]
		if len(r.finished)-r.head <= r.keep && now.Sub(f.at) < r.ttl {
			break
		}
		delete(r.jobs, f.id)
		r.finished[r.head] = finishedJob{}
		r.head++
	}
	// Compact once the dead prefix is at least half the slice, so the
	// queue's memory is bounded by about twice keep.
	if r.head > 0 && r.head >= len(r.finished)/2 {
		n := copy(r.finished, r.finished[r.head:])
		clear(r.finished[n:])
		r.finished = r.finished[:n]
		r.head = 0
	}
}

// Lookup returns the job with the given id, or false when the Registry has no
// such job (never issued, or evicted). It never blocks for long.
func (r *Registry) Lookup(id ID) (*Job, bool) {
	if r == nil {
		return nil, false
	}
	r.ready()
	now := time.Now()
	r.mu.Lock()
	r.evictLocked(now)
	j := r.jobs[id]
	r.mu.Unlock()
	return j, j != nil
}

// Info returns a snapshot of the job with the given id, output included. For
// an id the Registry does not have (never issued, or evicted) the State is
// [Unknown] and every other field is zero. It never blocks for long, and
// keeps working after Shutdown (jobs stay readable).
func (r *Registry) Info(id ID) JobInfo {
	j, ok := r.Lookup(id)
	if !ok {
		return JobInfo{}
	}
	return j.Info()
}

// Cancel cancels the job with the given id and reports whether it found it
// unfinished: a pending job ends Cancelled at once and never runs; a running
// job has its context cancelled and ends Cancelled if it then returns an
// error (or as its result says, if it ignores the cancellation). It never
// blocks for long.
func (r *Registry) Cancel(id ID) bool {
	j, ok := r.Lookup(id)
	return ok && j.Cancel()
}

// List returns a snapshot of every job the Registry has, oldest first,
// without their output (Info has it). It never blocks for long.
func (r *Registry) List() []JobInfo {
	if r == nil {
		return nil
	}
	r.ready()
	now := time.Now()
	r.mu.Lock()
	r.evictLocked(now)
	jobs := make([]*Job, 0, len(r.jobs))
	for _, j := range r.jobs {
		jobs = append(jobs, j)
	}
	r.mu.Unlock()
	slices.SortFunc(jobs, func(a, b *Job) int { return cmp.Compare(a.seq, b.seq) })
	infos := make([]JobInfo, len(jobs))
	for i, j := range jobs {
		infos[i] = j.info(false)
	}
	return infos
}

// Shutdown stops the Registry from starting jobs (Start then returns
// [execkit.ErrClosed]) and blocks until every job created before has
// returned (a Start or a Handler's request that created one as Shutdown
// began runs it), then returns nil. If ctx ends first it cancels the jobs'
// contexts and returns ctx.Err(); a job not started by then ends
// Cancelled, and its function never runs. A nil ctx waits without bound, as context.Background() does.
// Jobs stay readable after it. It is idempotent and safe to call
// concurrently.
func (r *Registry) Shutdown(ctx context.Context) error {
	if r == nil {
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r.ready()
	r.mu.Lock()
	r.closed = true
	if r.startedAll == nil {
		r.startedAll = make(chan struct{})
		if r.starting == 0 {
			close(r.startedAll)
		}
	}
	startedAll := r.startedAll
	r.mu.Unlock()
	gaveUp := false
	select { // the jobs created before, handed to ex: its Shutdown waits for them
	case <-startedAll:
	case <-ctx.Done():
		select {
		case <-startedAll:
		default: // some not handed over: cancelled below, they never run
			gaveUp = true
		}
	}
	err := r.ex.Shutdown(ctx)
	if err == nil && gaveUp {
		err = ctx.Err()
	}
	if err != nil {
		r.mu.Lock()
		jobs := make([]*Job, 0, r.unfinished)
		for _, j := range r.jobs {
			jobs = append(jobs, j)
		}
		r.mu.Unlock()
		for _, j := range jobs {
			j.Cancel()
		}
	}
	return err
}
