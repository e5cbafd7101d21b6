package fireforget

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/execkit/execkit"
)

// Defaults of a [Registry]; see the options that change them.
const (
	DefaultLimit        = 1000             // unfinished jobs at once; see Limit
	DefaultKeepFinished = 1000             // finished jobs kept; see KeepFinished
	DefaultTTL          = 10 * time.Minute // how long a finished job is kept; see TTL
	DefaultMaxOutput    = 64 << 10         // output bytes kept per job; see MaxOutput
	DefaultRefresh      = time.Second      // status page reload interval; see RefreshEvery
)

// A State is where a job is in its life. The zero State is Unknown: what
// [Registry.Info] reports for an id it never issued (or has evicted), kept
// apart from Pending, which is a job that exists and has not started.
type State uint8

// The states of a job. Succeeded, Failed and Cancelled are final.
const (
	Unknown   State = iota // no such job (never issued, or evicted)
	Pending                // created, its function not started yet
	Running                // its function is running
	Succeeded              // its function returned nil
	Failed                 // it returned an error or panicked
	Cancelled              // it was cancelled before it started, or returned an error after its context was cancelled
)

var stateNames = [...]string{"unknown", "pending", "running", "succeeded", "failed", "cancelled"}

// String returns the state's lowercase name, "running" for Running.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String's text, for encoding/json.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Final reports whether s is Succeeded, Failed or Cancelled.
func (s State) Final() bool { return s >= Succeeded }

// A JobFunc is the background part of a job: it runs with a context that is
// cancelled by [Registry.Cancel] or by a Shutdown that gives up, and writes its
// output to out, which is safe for concurrent use and may be kept by
// goroutines the function starts (what they write after it returned is kept
// too).
type JobFunc func(ctx context.Context, out io.Writer) error

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
	seq        uint64
	finished   []finishedJob // in finishing order; finished[head:] are live
	head       int
}

type finishedJob struct {
	id ID
	at time.Time
}

// NewRegistry returns an empty Registry configured by opts: [Limit],
// [KeepFinished], [TTL], [MaxOutput] and [RefreshEvery] apply; any other
// option or an out-of-range value is an error. It starts no goroutine:
// expired jobs are evicted when the Registry is next used.
func NewRegistry(opts ...Option) (*Registry, error) {
	c, err := newConfig("NewRegistry", optLimit|optKeep|optTTL|optMaxOutput|optRefresh, opts)
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
// carrying the stack; it never crashes the process.
func (r *Registry) Start(fn JobFunc) (*Job, error) {
	if fn == nil {
		return nil, errors.New("fireforget: Registry.Start: nil JobFunc")
	}
	j, err := r.create()
	if err != nil {
		return nil, err
	}
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
	return j, nil
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
	err := execkit.Run(ctx, (*jobCall)(t))
	j.finish(err, ctx.Err() != nil)
	return nil // the job keeps its error; the executor must not log it
}

// jobCall calls a job's function with the job's output: the Task that
// execkit.Run guards against panics.
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
// [Unknown] and every other field is zero.
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
// [execkit.ErrClosed]) and blocks until every running job has returned, then
// returns nil. If ctx ends first it cancels the jobs' contexts and returns
// ctx.Err(). A nil ctx waits without bound, as context.Background() does.
// Jobs stay readable after it. It is idempotent and safe to call
// concurrently.
func (r *Registry) Shutdown(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r.ready()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	err := r.ex.Shutdown(ctx)
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

// A Job is one job of a [Registry]. Its methods are safe for concurrent use
// and keep working after the Registry evicted it.
type Job struct {
	id  ID
	seq uint64
	reg *Registry

	mu                      sync.Mutex
	state                   State
	out                     output
	created, started, ended time.Time
	err                     error
	cancel                  context.CancelFunc // while running
	done                    chan struct{}
}

// ID returns the job's id.
func (j *Job) ID() ID { return j.id }

// Done returns a channel closed when the job reached a final state. It never
// blocks.
func (j *Job) Done() <-chan struct{} { return j.done }

// Cancel cancels the job (see [Registry.Cancel]) and reports whether it was
// unfinished. It never blocks for long.
func (j *Job) Cancel() bool {
	j.mu.Lock()
	switch j.state {
	case Pending:
		j.mu.Unlock()
		return j.finish(context.Canceled, true)
	case Running:
		cancel := j.cancel
		j.mu.Unlock()
		cancel()
		return true
	default:
		j.mu.Unlock()
		return false
	}
}

// finish moves j to its final state unless it has one; cancelled says its
// context was cancelled. It reports whether it did.
func (j *Job) finish(err error, cancelled bool) bool {
	now := time.Now()
	j.mu.Lock()
	if j.state.Final() {
		j.mu.Unlock()
		return false
	}
	switch {
	case err == nil:
		j.state = Succeeded
	case cancelled:
		j.state = Cancelled
	default:
		j.state = Failed
	}
	j.err, j.ended, j.cancel = err, now, nil
	close(j.done)
	j.mu.Unlock()
	j.reg.markFinished(j.id, now)
	return true
}

// Info returns a snapshot of the job, output included.
func (j *Job) Info() JobInfo { return j.info(true) }

func (j *Job) info(withOutput bool) JobInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	in := JobInfo{
		ID:      j.id,
		State:   j.state,
		Created: j.created,
		Started: j.started,
		Ended:   j.ended,
		Written: j.out.total,
		Cut:     j.out.cut(),
		Err:     j.err,
	}
	if withOutput {
		in.Output = j.out.String()
	}
	var pe *execkit.PanicError
	if errors.As(j.err, &pe) {
		in.Stack = string(pe.Stack)
	}
	return in
}

// jobWriter is the io.Writer a job's output goes to.
type jobWriter Job

// Write appends p to the job's output, keeping only the head and tail of
// it beyond the Registry's MaxOutput. It never fails.
func (w *jobWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.out.write(p)
	w.mu.Unlock()
	return len(p), nil
}

// JobInfo is a snapshot of a job.
type JobInfo struct {
	ID      ID
	State   State
	Created time.Time // when the job was created
	Started time.Time // when its function started; zero if it did not
	Ended   time.Time // when it reached a final state; zero before
	Output  string    // head and tail of the output, with a marker line where bytes were cut (empty in List)
	Written int64     // output bytes written in all
	Cut     int64     // output bytes not retained
	Err     error     // the function's error, a *execkit.PanicError, or context.Canceled for a job cancelled before it started
	Stack   string    // the panic's stack when Err is a *execkit.PanicError
}
