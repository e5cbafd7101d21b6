package fireforget

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/gate"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/shutdown"
	"github.com/execkit/execkit/internal/xrun"
)

// executorKey is the context key under which a task's context carries its
// Executor, to recognise a Submit from one of its running tasks.
type executorKey struct{}

// pad keeps the counters that different cores write on cache lines of
// their own (two lines: some CPUs fetch lines in adjacent pairs).
type pad [128]byte

// An Executor runs every submitted task in a goroutine of its own: the
// counterpart of starting a threading.Thread per job. Without [Limit] it never
// waits and never refuses work until Shutdown; with it, at most that many
// tasks run at once and Submit waits for a slot (or, with [RejectWhenFull],
// returns [execkit.ErrFull]). Make one with [New]; the zero value is not
// usable. All methods are safe for concurrent use.
type Executor struct {
	// Read on every Submit and every task's end, written once: they share
	// no line with a counter.
	slots   *gate.Gate // Limit's slots, closed when Shutdown begins; nil without a limit
	reject  bool
	onError func(error)
	base    context.Context // the tasks' context; cancelled when Shutdown gives up
	cancel  context.CancelFunc
	// closed is set once Shutdown has begun. Until then neither Submit nor
	// a finishing task takes a lock: each writes only its own counter.
	closed atomic.Bool
	_      pad

	// submitted counts the tasks Submit counted before it knew whether
	// they are admitted (see admitClosed): Shutdown waits until as many
	// have ended. A task refused after all is taken back from it. Only
	// Submit writes it, so a lone submitter keeps its line to itself while
	// tasks finish on other cores.
	submitted atomic.Int64
	_         pad

	// counters are Stats' (each on a line of its own, and only growing):
	// Admit for a task admitted (Submitted), Finish for one that ended,
	// Reject; and the policies' retries, timeouts and rate limiters.
	counters xrun.Counters

	// Once closed is set, an admission or a task's end takes mu, and the
	// one that sees finished == submitted finishes the Executor: sets
	// isDone and closes done.
	mu      sync.Mutex
	isDone  bool
	done    chan struct{}
	closeMu sync.Once
}

// New returns an Executor configured by opts ([Limit], [RejectWhenFull],
// [OnError]); a nil option, a limit below 1, RejectWhenFull without a Limit
// or a nil handler is an error. New starts no goroutine.
func New(opts ...Option) (*Executor, error) {
	c, err := newConfig("New", opts)
	if err != nil {
		return nil, err
	}
	e := &Executor{
		reject:  c.reject,
		onError: c.onError,
		done:    make(chan struct{}),
	}
	if e.onError == nil {
		e.onError = xrun.LogError("fireforget")
	} else {
		e.onError = xrun.Guard("fireforget", e.onError)
	}
	if c.limit > 0 {
		e.slots = newSlots(c.limit, c.reject)
	}
	// The cancelCtx outermost: every task's start asks e.base.Err(), which
	// it answers without going through the values.
	values := context.WithValue(xrun.WithScope(context.Background(), &e.counters.Scope), executorKey{}, e)
	e.base, e.cancel = context.WithCancel(values)
	return e, nil
}

// Submit starts t in a new goroutine and returns without waiting for it. The
// task runs with a context that is cancelled when Shutdown gives up waiting;
// its error (or a panic, as a [*execkit.PanicError]) goes to the error handler
// unless t delivers it to a Future. With [Limit], Submit blocks while every
// slot is taken, until one frees (nil), ctx ends (ctx.Err()) or Shutdown
// begins ([execkit.ErrClosed]); with [RejectWhenFull] too it returns
// [execkit.ErrFull] at once instead. ctx is consulted only while waiting:
// a free slot admits the task even when ctx has ended already. It returns
// [execkit.ErrNilTask] for a nil task and [execkit.ErrClosed] once Shutdown
// has begun. A task that submits to its own Executor while every slot of
// the Limit is held waits for a slot only its own return would free: pass
// it the task's ctx or use RejectWhenFull (see [Limit]). It costs about
// 1.1x a bare go statement (see Costs in the package doc).
//
// A ctx that has already ended does not refuse a free slot: with Limit,
// Submit then admits t when a slot is free and otherwise returns ctx.Err()
// without waiting (x/sync's TryGo); without Limit ctx plays no part.
//
// After Shutdown began, a Submit from inside one of the Executor's running
// tasks, with the task's context or one derived from it, is still admitted
// (follow-up work: a tree walk, a crawler), as long as the Executor has not
// finished, and Shutdown waits for it. With Limit it takes a free slot, and
// when none is free it runs t in the calling goroutine (caller-runs: the
// caller's slot serves t) and returns once t has finished, rather than wait
// for a slot its caller may hold; with RejectWhenFull it returns ErrFull
// then. A task's ctx kept after the Executor finished admits nothing
// (ErrClosed). The Executor cannot tell a running task from a goroutine
// that kept a task's ctx after the task returned: such a goroutine's
// Submits are follow-ups too while the Executor has not finished, and
// without Limit, as long as it keeps submitting, Shutdown keeps waiting
// (its ctx ends that wait).
func (e *Executor) Submit(ctx context.Context, t execkit.Task) error {
	if e == nil || e.base == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	if e.slots != nil {
		if err := acquire(ctx, e.slots, e.reject); err != nil {
			if err == execkit.ErrClosed && e.nested(ctx) {
				return e.followUp(t)
			}
			e.counters.Reject()
			return err
		}
	}
	e.submitted.Add(1)
	if e.closed.Load() {
		return e.admitClosed(ctx, t)
	}
	e.counters.Admit()
	go e.body(t)()
	return nil
}

// admitClosed decides, once Shutdown has begun, on a task that Submit has
// counted in submitted: a running task's follow-up is admitted while the
// Executor has not finished (without Limit: the slot, if any, is already
// taken), anything else is refused and uncounted.
func (e *Executor) admitClosed(ctx context.Context, t execkit.Task) error {
	e.mu.Lock()
	if e.nested(ctx) && !e.isDone {
		e.mu.Unlock()
		e.counters.Admit()
		go e.body(t)() // the count taken by Submit holds Shutdown
		return nil
	}
	e.uncountLocked()
	e.mu.Unlock()
	if e.slots != nil {
		e.slots.Release()
	}
	e.counters.Reject()
	return execkit.ErrClosed
}

// nested reports whether ctx is (derived from) the context of a task of e.
func (e *Executor) nested(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	f, _ := ctx.Value(executorKey{}).(*Executor)
	return f == e
}

// countClosed counts a follow-up admitted after Shutdown began, and
// reports false, counting nothing, once the Executor has finished.
func (e *Executor) countClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.isDone {
		return false
	}
	e.submitted.Add(1)
	return true
}

// uncountLocked takes back the count of a task that is not admitted after
// all, and finishes the Executor when that was the last one; e.mu is held.
// Stats never saw that count: it reads admitted.
func (e *Executor) uncountLocked() {
	e.submitted.Add(-1)
	e.finishIfIdleLocked()
}

// uncount is uncountLocked for a caller that does not hold e.mu.
func (e *Executor) uncount() {
	e.mu.Lock()
	e.uncountLocked()
	e.mu.Unlock()
}

// followUp admits a running task's follow-up after Shutdown began, with
// Limit: a free slot, else caller-runs (ErrFull with RejectWhenFull).
func (e *Executor) followUp(t execkit.Task) error {
	if !e.countClosed() {
		e.counters.Reject()
		return execkit.ErrClosed
	}
	switch e.slots.TryAcquireNested(false) {
	case gate.Acquired:
		e.counters.Admit()
		go e.body(t)()
		return nil
	case gate.Closed: // a goroutine that kept a task's ctx, after the last slot was released
		e.uncount()
		e.counters.Reject()
		return execkit.ErrClosed
	}
	if e.reject {
		e.uncount()
		e.counters.Reject()
		return execkit.ErrFull
	}
	e.counters.Admit()
	// Deferred: a task that ends its goroutine (runtime.Goexit, as
	// t.FailNow does) ends the caller's here, and its count must still
	// end, or Shutdown would wait for it forever; it counts as a success.
	var err error
	defer func() { e.finishOne(err) }()
	_, err = link.Run(e.base, t)
	e.report(t, err)
	return nil
}

// newSlots returns the gate of a Limit of n: waiters unbounded in number,
// or none at all with reject, untimed.
func newSlots(n int, reject bool) *gate.Gate {
	g := new(gate.Gate)
	maxWaiting := -1
	if reject {
		maxWaiting = 0
	}
	g.Init(n, maxWaiting, nil)
	return g
}

// acquire takes a slot of g: a free one at once, else ErrFull with reject,
// else it waits in FIFO order until a slot frees (nil), ctx ends
// (ctx.Err()) or g closes (ErrClosed). A closed g returns ErrClosed at once.
func acquire(ctx context.Context, g *gate.Gate, reject bool) error {
	switch g.Try() {
	case gate.Acquired:
		return nil
	case gate.Closed:
		return execkit.ErrClosed
	}
	if reject {
		return execkit.ErrFull
	}
	return g.Wait(ctx)
}

// body returns the function a task's goroutine runs, started with
// go e.body(t)(): the closure is the goroutine's only frame below t.Run
// (no wrapper frame of a go statement with arguments, no frame of
// link.Run, whose two steps it takes inline), so that a parked task's
// goroutine keeps the 2 KB stack it starts with about as long as a bare go
// statement's would (TestStackPerParkedTask). The closure is the one
// allocation of a Submit, as a go statement's own.
func (e *Executor) body(t execkit.Task) func() {
	return func() {
		var err error
		defer e.end(t, &err)
		if link.Begin(e.base, t, &err) {
			err = t.Run(e.base)
		}
	}
}

// end, deferred by a task's goroutine, recovers a panic of t into *err,
// reports the outcome, then counts it and releases what t held. The release is
// deferred: an error handler that ends the goroutine (runtime.Goexit, as
// t.FailNow does) must not keep t's slot and count for ever.
func (e *Executor) end(t execkit.Task, err *error) {
	if r := recover(); r != nil {
		*err = link.NewPanic(r)
	}
	defer e.release(*err)
	e.report(t, *err)
}

// report sends a task's error to the error handler, unless the task
// delivered it to a Future or a Thread already.
func (e *Executor) report(t execkit.Task, err error) {
	if err != nil && !link.HasFuture(t) {
		e.onError(err)
	}
}

// release gives back what an admitted task held, counts its outcome err
// and ends Shutdown's wait when it was the last one.
func (e *Executor) release(err error) {
	if e.slots != nil {
		e.slots.Release()
	}
	e.finishOne(err)
}

// finishOne counts one admitted task ended with err, once its error
// handler has returned. Before Shutdown that is one atomic add; after it
// began, the task that ends the last one finishes the Executor. Either the
// task sees closed set, or Shutdown sees the task counted (both are
// sequentially consistent atomics), so the last end is never missed.
func (e *Executor) finishOne(err error) {
	e.counters.Finish(err)
	if e.closed.Load() {
		e.mu.Lock()
		e.finishIfIdleLocked()
		e.mu.Unlock()
	}
}

// finishIfIdleLocked finishes a closed Executor once every admitted task has
// ended; e.mu is held. A Submit that counts itself after the check sees
// closed set and then, under e.mu, isDone.
func (e *Executor) finishIfIdleLocked() {
	if !e.isDone && e.closed.Load() && e.counters.Ended() == e.submitted.Load() {
		e.isDone = true
		close(e.done)
	}
}

// Shutdown stops admission and blocks until every admitted task has
// returned, including the follow-ups that running tasks submit meanwhile
// (see Submit), then returns nil; no goroutine of the Executor is left. If ctx
// ends first it cancels the tasks' contexts and returns ctx.Err(); the tasks
// still finish in the background and a later Shutdown waits for them again.
// It is idempotent and safe to call concurrently.
func (e *Executor) Shutdown(ctx context.Context) error {
	if e == nil || e.base == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e.closeMu.Do(func() {
		if e.slots != nil {
			e.slots.Close() // wakes the Submits waiting for a slot
		}
		e.closed.Store(true)
		e.mu.Lock()
		e.finishIfIdleLocked()
		e.mu.Unlock()
	})
	select {
	case <-e.done:
		e.cancel()
		return nil
	default:
	}
	err := shutdown.Wait(ctx, e.done, nil)
	e.cancel() // the tasks' contexts: after they finished, or given up
	return err
}

// Stats returns a snapshot of the counters. Queued is always zero: a task
// waits for a slot of [Limit] before it is admitted, never after. Running
// counts admitted tasks that have not finished. Each cumulative count is
// read from a counter of its own that only grows, so no snapshot shows
// one smaller than an earlier snapshot did; a snapshot taken while tasks
// are submitted or finish may show a task in Submitted before it is
// Running or finished. A task is counted finished once its error handler
// has returned. It never blocks, and keeps working after Shutdown.
func (e *Executor) Stats() execkit.Stats {
	if e == nil {
		return execkit.Stats{}
	}
	// Every admitted task runs at once (it is never counted started):
	// none is queued, and every one not ended runs.
	s := e.counters.Stats()
	s.Queued, s.Running = 0, max(s.Submitted-s.Succeeded-s.Failed-s.Panicked, 0)
	return s
}
