package errgroup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/gate"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/shutdown"
	"github.com/execkit/execkit/internal/xrun"

	"github.com/execkit/execkit/internal/errtext"
)

// ErrGroupFailed is wrapped by the error of Submit (and so carried by the
// Future of execkit.Go) for a task submitted after a task of the group
// failed, or after the parent ctx of [WithContext] ended: the task is not
// started. The same error wraps the failure (or the parent's cause) too, so
// errors.Is sees both ErrGroupFailed and the first task's error.
var ErrGroupFailed = errors.New("errgroup: group failed, task not started")

// errGaveUp is the cause the group's context carries when Shutdown's ctx
// ended first and Shutdown cancelled the tasks.
var errGaveUp = errors.New("errgroup: Shutdown gave up waiting")

// A task's context carries its group as a *failer under link.FailKey: to
// recognise a Submit from one of the group's own tasks, and so that a task
// reporting its own outcome (a Future, a Thread) fails the group before
// that outcome can be seen (link.Failed).
type failer Group

// TaskFailed fails the group with the error of a task that reports its own
// outcome, before it reports it (link.Failer). A task whose own Future was
// cancelled (Future.Cancel) and that returned context.Canceled does not
// call it: that stops the task only.
func (f *failer) TaskFailed(err error) { (*Group)(f).fail(err) }

// cancelledAlone reports whether err, the error of a task that reports its
// own outcome but does not tell the group of it (a driver.SelfReporting
// task of another package), may be its own handle cancelled while the group
// lives: a context.Canceled then stops this task only and fails nothing.
func (g *Group) cancelledAlone(err error) bool {
	return errtext.Is(err, context.Canceled) && g.ctx.Err() == nil
}

// A Group runs each task in a goroutine of its own, as
// golang.org/x/sync/errgroup does, and fails fast: the first task that
// returns an error (or panics, as a *[execkit.PanicError]) cancels the
// context of every task of the group, with that error as the cause
// ([context.Cause]); tasks submitted after that are not started; and
// Shutdown returns that error. Make one with [New] or [WithContext]; the
// zero value is not usable. All methods are safe for concurrent use.
type Group struct {
	wg     sync.WaitGroup          // the goroutines of admitted tasks, as x/sync's Group has (see Cost in the package doc)
	ctx    context.Context         // the tasks' context: carries the group; see cancel
	cancel context.CancelCauseFunc // cancels ctx: the first failure, Shutdown giving up, the group done (its parent's end reaches ctx by itself)
	gate   *gate.Gate              // nil: no limit
	// stopParent stops the parent's AfterFunc that closes gate when the
	// parent of WithContext ends; nil without a limit.
	stopParent func() bool
	all        bool

	mu     sync.RWMutex // read-held while Submit admits, write-held while Shutdown closes admission
	closed atomic.Bool  // Shutdown has begun

	errMu sync.Mutex
	first error   // the first task error: the group failed
	errs  []error // with AllErrors: the later task errors

	// Tasks that run outside wg: a running task's follow-up
	// admitted after Shutdown began, and one run in its submitter's
	// goroutine at the limit. Shutdown's wait ends when wg's Wait has
	// returned and none of them is left; then the group is finished and
	// admits nothing more.
	extraMu  sync.Mutex
	extra    int
	waited   bool // wg's Wait returned
	finished bool

	counters xrun.Counters
	skipped  atomic.Int64

	shutOnce sync.Once
	done     chan struct{} // closed when every task has returned
	result   error         // what Shutdown returns once done is closed
}

// New returns an empty group: [WithContext] with context.Background(). It
// starts no goroutine and does not block. It returns an error for an
// invalid option (a limit below 1, a nil option).
func New(opts ...Option) (*Group, error) {
	return WithContext(context.Background(), opts...)
}

// WithContext returns an empty group whose tasks' context is derived from
// ctx, as x/sync's errgroup.WithContext does: when ctx ends (a request is
// cancelled), the context of every task of the group is cancelled, before
// ctx's cancel function returns when ctx is one of the context package's
// own, and [context.Cause] of a task's context is ctx's cause. From then on
// Submit refuses work as after a failure (ErrGroupFailed wrapping ctx's
// cause); ctx's end is not itself a task error, so Shutdown returns, as
// always, the first error a task returned: typically context.Canceled from
// tasks that return ctx.Err(), or nil when the tasks finished their work
// anyway. Shutdown also detaches the group from ctx; until it has returned
// nil, ctx holds a reference to the group, as with x/sync.
//
// WithContext starts no goroutine (unless ctx is not one of the context
// package's own: then the context package starts one, two with [Limit],
// which end with the group) and does not block. With Limit, ctx's end also
// refuses the Submits waiting for a slot, as a failure does. It returns an error for a nil ctx or an
// invalid option (a limit below 1, a nil option).
func WithContext(ctx context.Context, opts ...Option) (*Group, error) {
	if ctx == nil {
		return nil, errors.New("errgroup: nil Context")
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("errgroup: nil Option")
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	gr := &Group{
		all:  cfg.all,
		done: make(chan struct{}),
	}
	gr.ctx, gr.cancel = context.WithCancelCause(context.WithValue(xrun.WithScope(ctx, &gr.counters.Scope), link.FailKey{}, link.Failer((*failer)(gr))))
	if cfg.limit > 0 {
		gr.gate = new(gate.Gate)
		gr.gate.Init(cfg.limit, -1, nil)
		// The parent's end refuses the Submits waiting for a slot, as a
		// failure does (fail closes the gate): they would otherwise wait
		// for a task to free one, for as long as it ignores its ctx. A
		// parent that never ends (context.Background) costs nothing more.
		gr.stopParent = context.AfterFunc(ctx, func() { gr.gate.Close() })
	}
	return gr, nil
}

// Submit starts t in a goroutine of its own, with the group's context.
//
// With [Limit] it first waits, in no particular order, until fewer than the
// limit of the group's tasks are running, or ctx ends (then it returns
// ctx.Err() and t never runs). x/sync's Go waits too but cannot be
// cancelled; ctx bounds only this wait and is not t's context. A ctx that
// has already ended does not refuse a free slot: Submit then admits t when
// a slot is free and otherwise returns ctx.Err() without waiting, which is
// x/sync's TryGo (false: ctx.Err()). Without a limit Submit never waits and
// ctx plays no part.
//
// A Submit from one of the group's own tasks, with the task's context or
// one derived from it, never waits: at the limit it takes a slot ahead of
// waiting callers if one is free, and otherwise runs t in the calling
// goroutine (caller-runs: the caller's slot serves t) and returns after t
// has finished, with t's outcome going to the group as any task's. This is
// what a TryGo user writes by hand (if !g.TryGo(f) { f() }); x/sync's Go
// would wait for a slot the waiting tasks themselves hold, for ever. Such
// a task may also add follow-up work while the caller waits in Shutdown (a
// tree walk, a crawler): until the group has finished, Submit admits it in
// the same way, and Shutdown waits for it. A nested Submit with an
// unrelated context (context.Background()) cannot be told apart: pass the
// task's ctx.
//
// Submit returns an error wrapping [ErrGroupFailed] and the cause once a
// task of the group has failed or the parent ctx of [WithContext] has
// ended (also to callers waiting at that moment): t is not started, and
// Stats counts it in Skipped. A task admitted before the failure
// that has not started by then never starts either (its Future, if any,
// gets the cause as its error). Submit
// returns [execkit.ErrClosed] once Shutdown has begun (except to the
// group's own tasks, as above, until the group finished) and
// [execkit.ErrNilTask] for a nil task.
//
// The task's error (or panic) does not go to an error handler: it fails the
// group, and Shutdown returns it. A task made by [execkit.Go] (or a
// Func's Go, or a fireforget.Thread) also delivers it to its Future (or
// Join), once the group has failed: whoever sees the error there finds
// the other tasks' ctx cancelled and Submit refusing.
func (g *Group) Submit(ctx context.Context, t execkit.Task) error {
	if g == nil || g.ctx == nil { // not made by New or WithContext
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	if g.gate != nil {
		switch g.gate.Try() {
		case gate.Acquired:
		case gate.Closed: // failed, or Shutdown began
			return g.closedPath(ctx, t)
		default:
			if g.closed.Load() || g.ctx.Err() != nil { // refuse before waiting, not after
				return g.closedPath(ctx, t)
			}
			if g.nested(ctx) {
				// Never wait for a slot that the caller itself holds.
				switch g.gate.TryAcquire() {
				case gate.Acquired:
				case gate.Closed:
					return g.closedPath(ctx, t)
				default:
					return g.runHere(t)
				}
			} else if err := g.gate.Wait(ctx); err == execkit.ErrClosed {
				return g.closedPath(ctx, t)
			} else if err != nil {
				g.counters.Reject()
				return err
			}
		}
	}
	g.mu.RLock()
	if g.closed.Load() || g.ctx.Err() != nil {
		g.mu.RUnlock()
		g.release()
		return g.closedPath(ctx, t)
	}
	g.counters.Admit()
	g.wg.Add(1)
	go g.body(t)()
	g.mu.RUnlock()
	return nil
}

// refuse counts and returns the error of a Submit that found the group
// closed or failed.
func (g *Group) refuse() error {
	g.counters.Reject()
	if g.closed.Load() {
		return execkit.ErrClosed
	}
	return g.skip()
}

// skip counts and returns the error of a task not started because the
// group failed or its parent ended.
func (g *Group) skip() error {
	g.skipped.Add(1)
	// fail cancels ctx before it closes the gate, and a parent's end has
	// cancelled it already; wait all the same, to report the cause.
	<-g.ctx.Done()
	return fmt.Errorf("%w: %w", ErrGroupFailed, context.Cause(g.ctx))
}

func (g *Group) release() {
	if g.gate != nil {
		g.gate.Release()
	}
}

// body returns the function an admitted task's goroutine runs, started
// with go g.body(t)(): exec's steps in the goroutine's only frame below
// t.Run (no wrapper frame of a go statement with arguments), then the
// release of t's slot and of Shutdown's wait. The closure is the one
// allocation of a Submit, as a go statement's own.
func (g *Group) body(t execkit.Task) func() {
	return func() {
		var err error
		started := false
		defer func() {
			g.end(t, started, err, recover())
			g.release()
			g.wg.Done()
		}()
		if started = link.Begin(g.ctx, t, &err); started {
			g.counters.Start()
			err = t.Run(g.ctx)
		}
	}
}

// run runs an admitted task that holds a slot of the limit, in the calling
// goroutine.
func (g *Group) run(t execkit.Task) {
	defer g.release()
	g.exec(t)
}

// exec runs an admitted task in the calling goroutine: the steps of body.
func (g *Group) exec(t execkit.Task) {
	var err error
	started := false
	defer func() { g.end(t, started, err, recover()) }()
	if started = link.Begin(g.ctx, t, &err); started {
		g.counters.Start()
		err = t.Run(g.ctx)
	}
}

// end counts a task's outcome and fails the group with its error. A task
// not started (the group failed, or its parent ended, before it started:
// link.Begin decided it, once, and a Future got the cause as its outcome)
// is counted in Skipped, and fails nothing. r is what recover returned.
func (g *Group) end(t execkit.Task, started bool, err error, r any) {
	if !started {
		g.counters.Unqueue()
		g.skipped.Add(1)
		return
	}
	if r != nil {
		err = link.NewPanic(r)
	}
	g.counters.Finish(err)
	if err == nil || link.TellsFailure(t) && r == nil { // told the group before it reported: failer.TaskFailed
		return
	}
	if link.HasFuture(t) && g.cancelledAlone(err) {
		return
	}
	g.fail(err)
}

// fail records a task's error. The first one fails the group: it cancels
// the tasks' context with itself as the cause, then closes the gate, which
// wakes the Submits waiting for a slot (refused). With AllErrors the later
// ones are kept too, except a context.Canceled returned after the group's
// context was cancelled: a consequence of the failure, not a failure of its
// own.
func (g *Group) fail(err error) {
	g.errMu.Lock()
	if g.first == nil {
		g.first = err
		g.errMu.Unlock()
		g.cancel(err)
		if g.gate != nil {
			g.gate.Close()
		}
		return
	}
	if g.all && !(g.ctx.Err() != nil && errtext.Is(err, context.Canceled)) {
		g.errs = append(g.errs, err)
	}
	g.errMu.Unlock()
}

// Shutdown stops admission (later and waiting Submit calls return
// [execkit.ErrClosed]), waits until every task of the group has returned,
// including the follow-up work its tasks submit meanwhile (see Submit), and
// returns the first task error, or nil. With [AllErrors] it returns the
// first error joined (errors.Join) with the later ones, except the
// context.Canceled errors of tasks that the failure cancelled. The end of
// the parent ctx of [WithContext] is not an error by itself: Shutdown
// returns what the tasks returned.
//
// If ctx ends first, Shutdown cancels the tasks' contexts and returns
// ctx.Err(), joined with the group's first error if a task had already
// failed; the group goes on winding down, and a later Shutdown waits for it
// again. It is idempotent and safe to call concurrently: every call that
// waits to the end returns the same error.
func (g *Group) Shutdown(ctx context.Context) error {
	if g == nil || g.ctx == nil { // not made by New or WithContext
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	g.shutOnce.Do(func() {
		g.mu.Lock()
		g.closed.Store(true)
		g.mu.Unlock()
		if g.gate != nil {
			g.gate.Close()
		}
		go func() { // ends when the last task does
			g.wg.Wait()
			g.extraMu.Lock()
			g.waited = true
			last := g.extra == 0
			g.finished = last
			g.extraMu.Unlock()
			if last {
				g.finish()
			}
		}()
	})
	if shutdown.Wait(ctx, g.done, nil) == nil {
		return g.result
	}
	g.errMu.Lock()
	failure := g.first
	g.errMu.Unlock()
	g.cancel(fmt.Errorf("%w: %w", errGaveUp, ctx.Err()))
	if failure != nil {
		return errors.Join(failure, ctx.Err())
	}
	return ctx.Err()
}

// finish ends the group once every task has returned.
func (g *Group) finish() {
	g.result = g.compose()
	g.cancel(nil) // detach from the parent; as with x/sync, the cause is context.Canceled unless a task failed
	if g.stopParent != nil {
		g.stopParent()
	}
	close(g.done)
}

// compose returns Shutdown's error: the first task error, with AllErrors
// joined with the later ones.
func (g *Group) compose() error {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	if g.first == nil || len(g.errs) == 0 {
		return g.first
	}
	return errors.Join(append([]error{g.first}, g.errs...)...)
}

// Stats is a snapshot of a group: the execkit counters (Queued counts tasks
// admitted whose goroutine has not started them yet; Rejected includes
// Skipped) and the tasks skipped because the group had failed.
type Stats struct {
	execkit.Stats
	Skipped int64 // tasks never started because the group had failed: refused by Submit with ErrGroupFailed, or admitted and not started by then
}

// Stats returns a snapshot of the group's counters. It never blocks and is
// safe to call concurrently, also after Shutdown.
func (g *Group) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	return Stats{Stats: g.counters.Stats(), Skipped: g.skipped.Load()}
}
