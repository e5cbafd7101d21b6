package fireforget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit"
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
// tasks run at once and Submit waits for a slot (or, with [RejectAtLimit],
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

	sem     chan struct{} // slots of Limit; nil without a limit
	reject  bool
	onError func(error)

	base    context.Context // the tasks' context; cancelled when Shutdown gives up
	cancel  context.CancelFunc
	closing chan struct{} // closed when Shutdown begins: wakes Submits waiting for a slot
	done    chan struct{} // closed when doneBit is set
	closeMu sync.Once
}

// New returns an Executor configured by opts: [Limit], [RejectAtLimit] and
// [OnError] apply; any other option, a limit below 1 or a nil handler is an
// error. New starts no goroutine.
func New(opts ...Option) (*Executor, error) {
	c, err := newConfig("New", optLimit|optReject|optOnError, opts)
	if err != nil {
		return nil, err
	}
	e := &Executor{
		reject:  c.reject,
		onError: c.onError,
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if e.onError == nil {
		e.onError = xrun.LogError("fireforget")
	}
	if c.limit > 0 {
		e.sem = make(chan struct{}, c.limit)
	}
	base, cancel := context.WithCancel(context.Background())
	e.base, e.cancel = context.WithValue(base, executorKey{}, e), cancel
	return e, nil
}

// Submit starts t in a new goroutine and returns without waiting for it. The
// task runs with a context that is cancelled when Shutdown gives up waiting;
// its error (or a panic, as a [*execkit.PanicError]) goes to the error handler
// unless t delivers it to a Future. With [Limit], Submit blocks while every
// slot is taken, until one frees (nil), ctx ends (ctx.Err()) or Shutdown
// begins ([execkit.ErrClosed]); with [RejectAtLimit] too it returns
// [execkit.ErrFull] at once instead. ctx is consulted only while waiting:
// a free slot admits the task even when ctx has ended already. It returns
// [execkit.ErrNilTask] for a nil task and [execkit.ErrClosed] once Shutdown
// has begun. A task that submits to its own Executor while every slot of
// the Limit is held waits for a slot only its own return would free: pass
// it the task's ctx or use RejectAtLimit (see [Limit]). It costs about
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
// for a slot its caller may hold; with RejectAtLimit it returns ErrFull
// then. A task's ctx kept after the Executor finished admits nothing
// (ErrClosed).
func (e *Executor) Submit(ctx context.Context, t execkit.Task) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if execkit.IsNil(t) {
		return execkit.ErrNilTask
	}
	if e.sem != nil {
		if err := e.acquire(ctx); err != nil {
			if err == execkit.ErrClosed && e.nested(ctx) {
				return e.followUp(t)
			}
			e.rejected.Add(1)
			return err
		}
	}
	if e.state.Add(1)&closedBit != 0 {
		if e.nested(ctx) && e.stillRunning() {
			go e.run(t) // a running task's follow-up (no Limit): the count taken above holds Shutdown
			return nil
		}
		e.release()
		e.rejected.Add(1)
		return execkit.ErrClosed
	}
	go e.run(t)
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
// Limit: a free slot, else caller-runs (ErrFull with RejectAtLimit).
func (e *Executor) followUp(t execkit.Task) error {
	e.state.Add(1)
	if !e.stillRunning() {
		e.finishOne()
		e.rejected.Add(1)
		return execkit.ErrClosed
	}
	select {
	case e.sem <- struct{}{}:
		go e.run(t)
		return nil
	default:
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

// acquire takes a slot of the limit.
func (e *Executor) acquire(ctx context.Context) error {
	select {
	case <-e.closing:
		return execkit.ErrClosed
	default:
	}
	select {
	case e.sem <- struct{}{}:
		return nil
	default:
	}
	if e.reject {
		return execkit.ErrFull
	}
	select {
	case e.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-e.closing:
		return execkit.ErrClosed
	}
}

// run is the body of a task's goroutine.
func (e *Executor) run(t execkit.Task) {
	e.exec(t)
	e.release()
}

// exec runs an admitted task and counts and reports its outcome.
func (e *Executor) exec(t execkit.Task) {
	if err := execkit.Run(e.base, t); err == nil {
		e.succeeded.Add(1)
	} else {
		e.failure(t, err)
	}
}

// failure counts and reports a task's error: to the error handler, unless
// the task delivered it to a Future or a Thread already.
func (e *Executor) failure(t execkit.Task, err error) {
	var pe *execkit.PanicError
	if errors.As(err, &pe) {
		e.panicked.Add(1)
	} else {
		e.failed.Add(1)
	}
	if !execkit.HasFuture(t) {
		e.onError(err)
	}
}

// release gives back what an admitted task held and ends Shutdown's wait
// when it was the last one.
func (e *Executor) release() {
	if e.sem != nil {
		<-e.sem
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
	if ctx == nil {
		ctx = context.Background()
	}
	e.closeMu.Do(func() {
		close(e.closing)
		e.state.Or(closedBit)
		e.finishIfIdle()
	})
	select {
	case <-e.done:
		e.cancel()
		return nil
	default:
	}
	select {
	case <-e.done:
		e.cancel()
		return nil
	case <-ctx.Done():
		e.cancel()
		return ctx.Err()
	}
}

// Stats returns a snapshot of the counters. Queued is always zero: a task
// waits for a slot of [Limit] before it is admitted, never after. Running
// counts admitted tasks that have not finished, and Submitted is derived from
// the other counters, so a snapshot taken while tasks finish may be off by
// those tasks. It never blocks, and keeps working after Shutdown.
func (e *Executor) Stats() execkit.Stats {
	s := execkit.Stats{
		Succeeded: e.succeeded.Load(),
		Failed:    e.failed.Load(),
		Panicked:  e.panicked.Load(),
		Rejected:  e.rejected.Load(),
		Running:   e.state.Load() & countMask,
	}
	s.Submitted = s.Succeeded + s.Failed + s.Panicked + s.Running
	return s
}
