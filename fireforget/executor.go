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

// closedBit marks Executor.state once Shutdown has begun, and doneBit once
// the Executor has finished (Shutdown began and no admitted task was left);
// the bits below count the admitted tasks that have not finished.
const (
	closedBit = int64(1) << 62
	doneBit   = int64(1) << 61
	countMask = doneBit - 1
)

// executorKey is the context key under which a task's context carries its
// Executor, to recognise a Submit from one of its running tasks.
type executorKey struct{}

// An Executor runs every submitted task in a goroutine of its own: the
// counterpart of starting a threading.Thread per job. Without [Limit] it never
// waits and never refuses work until Shutdown; with it, at most that many
// tasks run at once and Submit waits for a slot (or, with [RejectWhenFull],
// returns [execkit.ErrFull]). Make one with [New]; the zero value is not
// usable. All methods are safe for concurrent use.
type Executor struct {
	// state is closedBit (once Shutdown began) | admitted unfinished tasks.
	// One atomic word lets Submit admit a task and see a Shutdown in a
	// single Add, without a lock on the hot path.
	state atomic.Int64
	// succeeded shares state's cache line on purpose: a finishing task
	// writes both, so one line moves between cores instead of two.
	succeeded, failed, panicked, rejected atomic.Int64
	scope                                 xrun.Scope // the policies' retries, timeouts and rate limiters

	slots   *gate.Gate // Limit's slots, closed when Shutdown begins; nil without a limit
	reject  bool
	onError func(error)

	base    context.Context // the tasks' context; cancelled when Shutdown gives up
	cancel  context.CancelFunc
	done    chan struct{} // closed when doneBit is set
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
	}
	if c.limit > 0 {
		e.slots = newSlots(c.limit, c.reject)
	}
	// The cancelCtx outermost: every task's start asks e.base.Err(), which
	// it answers without going through the values.
	values := context.WithValue(xrun.WithScope(context.Background(), &e.scope), executorKey{}, e)
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
// 1.06x a bare go statement (see Costs in the package doc).
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
// (ErrClosed).
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
			e.rejected.Add(1)
			return err
		}
	}
	if e.state.Add(1)&closedBit != 0 {
		if e.nested(ctx) && e.stillRunning() {
			go e.body(t)() // a running task's follow-up (no Limit): the count taken above holds Shutdown
			return nil
		}
		e.release()
		e.rejected.Add(1)
		return execkit.ErrClosed
	}
	go e.body(t)()
	return nil
}

// nested reports whether ctx is (derived from) the context of a task of e.
func (e *Executor) nested(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	f, _ := ctx.Value(executorKey{}).(*Executor)
	return f == e
}

// stillRunning reports, after a Submit counted itself in state, whether the
// Executor has not finished: then that count keeps it from finishing until
// the task it admits returns.
func (e *Executor) stillRunning() bool { return e.state.Load()&doneBit == 0 }

// followUp admits a running task's follow-up after Shutdown began, with
// Limit: a free slot, else caller-runs (ErrFull with RejectWhenFull).
func (e *Executor) followUp(t execkit.Task) error {
	e.state.Add(1)
	if !e.stillRunning() {
		e.finishOne()
		e.rejected.Add(1)
		return execkit.ErrClosed
	}
	switch e.slots.TryAcquireNested(false) {
	case gate.Acquired:
		go e.body(t)()
		return nil
	case gate.Closed: // cannot happen: the caller holds a slot until it returns
		e.finishOne()
		e.rejected.Add(1)
		return execkit.ErrClosed
	}
	if e.reject {
		e.finishOne()
		e.rejected.Add(1)
		return execkit.ErrFull
	}
	e.exec(t)
	e.finishOne()
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
// counts and reports the outcome and releases what t held.
func (e *Executor) end(t execkit.Task, err *error) {
	if r := recover(); r != nil {
		*err = link.NewPanic(r)
	}
	e.outcome(t, *err)
	e.release()
}

// exec runs an admitted task in the calling goroutine, and counts and
// reports its outcome.
func (e *Executor) exec(t execkit.Task) {
	_, err := link.Run(e.base, t)
	e.outcome(t, err)
}

// outcome counts a task's outcome, and reports its error to the error
// handler, unless the task delivered it to a Future or a Thread already.
func (e *Executor) outcome(t execkit.Task, err error) {
	if err == nil {
		e.succeeded.Add(1)
		return
	}
	if link.IsPanic(err) {
		e.panicked.Add(1)
	} else {
		e.failed.Add(1)
	}
	if !link.HasFuture(t) {
		e.onError(err)
	}
}

// release gives back what an admitted task held and ends Shutdown's wait
// when it was the last one.
func (e *Executor) release() {
	if e.slots != nil {
		e.slots.Release()
	}
	e.finishOne()
}

// finishOne takes back one count of state, and finishes the Executor when
// it was the last of a closed one. The doneBit is set once, by a CAS from
// closed-and-empty, so that a follow-up counted in the meantime keeps the
// Executor running instead.
func (e *Executor) finishOne() {
	if e.state.Add(-1) == closedBit {
		e.finishIfIdle()
	}
}

func (e *Executor) finishIfIdle() {
	if e.state.CompareAndSwap(closedBit, closedBit|doneBit) {
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
		e.state.Or(closedBit)
		e.finishIfIdle()
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
// counts admitted tasks that have not finished, and Submitted is derived from
// the other counters, so a snapshot taken while tasks finish may be off by
// those tasks. It never blocks, and keeps working after Shutdown.
func (e *Executor) Stats() execkit.Stats {
	if e == nil {
		return execkit.Stats{}
	}
	s := execkit.Stats{
		Succeeded: e.succeeded.Load(),
		Failed:    e.failed.Load(),
		Panicked:  e.panicked.Load(),
		Rejected:  e.rejected.Load(),
		Running:   e.state.Load() & countMask,
		Retries:   e.scope.Retries(),
		Timeouts:  e.scope.Timeouts(),
	}
	s.Submitted = s.Succeeded + s.Failed + s.Panicked + s.Running
	return s
}
