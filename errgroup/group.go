package errgroup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/gate"
	"github.com/execkit/execkit/internal/xrun"
)

// ErrGroupFailed is wrapped by the error of Submit (and so carried by the
// Future of execkit.Go) for a task submitted after a task of the group
// failed: the task is not started. The same error wraps the failure too, so
// errors.Is sees both ErrGroupFailed and the first task's error.
var ErrGroupFailed = errors.New("errgroup: group failed, task not started")

// errGaveUp is the cause the group's context carries when Shutdown's ctx
// ended first and Shutdown cancelled the tasks.
var errGaveUp = errors.New("errgroup: Shutdown gave up waiting")

// A Group runs each task in a goroutine of its own, as
// golang.org/x/sync/errgroup does, and fails fast: the first task that
// returns an error (or panics, as a *[execkit.PanicError]) cancels the
// context of every task of the group, with that error as the cause
// ([context.Cause]); tasks submitted after that are not started; and
// Shutdown returns that error. Make one with [New]; the zero value is not
// usable. All methods are safe for concurrent use.
type Group struct {
	g    *errgroup.Group
	ctx  context.Context         // the tasks' context: cancelled by the first failure
	stop context.CancelCauseFunc // cancels ctx's parent: Shutdown gave up
	gate *gate.Gate              // nil: no limit
	all  bool

	mu      sync.RWMutex  // read-held while Submit admits, write-held while Shutdown closes admission
	closing chan struct{} // closed when Shutdown begins
	closed  atomic.Bool   // set when closing is closed

	errMu sync.Mutex
	errs  []error // with AllErrors: every recorded task error

	counters xrun.Counters
	skipped  atomic.Int64

	shutOnce sync.Once
	done     chan struct{} // closed when every task has returned
	result   error         // what Shutdown returns once done is closed
}

// New returns an empty group. It starts no goroutine and does not block. It
// returns an error for an invalid option (a limit below 1, a nil option).
func New(opts ...Option) (*Group, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("errgroup: nil Option")
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	parent, stop := context.WithCancelCause(context.Background())
	g, ctx := errgroup.WithContext(parent)
	gr := &Group{
		g:       g,
		ctx:     ctx,
		stop:    stop,
		all:     cfg.all,
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if cfg.limit > 0 {
		gr.gate = new(gate.Gate)
		gr.gate.Init(cfg.limit, -1, nil)
	}
	return gr, nil
}

// Submit starts t in a goroutine of its own, with the group's context.
//
// With [Limit] it first waits, in no particular order, until fewer than the
// limit of the group's tasks are running, or ctx ends (then it returns
// ctx.Err() and t never runs). x/sync's Go waits too but cannot be
// cancelled; ctx bounds only this wait and is not t's context.
//
// Submit returns an error wrapping [ErrGroupFailed] and the first task's
// error once a task of the group has failed (also to callers waiting at
// that moment): t is not started, and Stats counts it in Skipped. A task
// admitted before the failure that has not started by then never starts
// either (its Future, if any, gets the failure as its error). Submit returns [execkit.ErrClosed] once
// Shutdown has begun and [execkit.ErrNilTask] for a nil task.
//
// The task's error (or panic) does not go to an error handler: it fails the
// group, and Shutdown returns it. A task made by [execkit.Go] also delivers
// it to its Future.
//
// A task that submits to its own group at the limit waits like any other
// caller (as with x/sync): when every running task does so, they wait until
// their ctx ends. Pass a ctx that ends, or use a
// [github.com/execkit/execkit/pool.Pool], which runs such a task inline.
func (g *Group) Submit(ctx context.Context, t execkit.Task) error {
	if execkit.IsNil(t) {
		return execkit.ErrNilTask
	}
	if g.gate != nil {
		// Refuse before waiting for a slot, not after.
		if err := g.admissible(); err != nil {
			return err
		}
		if err := g.acquire(ctx); err != nil {
			return err
		}
	}
	g.mu.RLock()
	if err := g.admissible(); err != nil {
		g.mu.RUnlock()
		g.release()
		return err
	}
	g.counters.Admit()
	g.g.Go(func() error { return g.run(t) })
	g.mu.RUnlock()
	return nil
}

// admissible returns the error of a Submit that must not admit its task
// now, counting it, or nil. It is two atomic loads.
func (g *Group) admissible() error {
	if g.closed.Load() || g.ctx.Err() != nil {
		return g.refuse()
	}
	return nil
}

// refuse counts and returns the error of a Submit that found the group
// closed or failed.
func (g *Group) refuse() error {
	g.counters.Reject()
	if g.closed.Load() {
		return execkit.ErrClosed
	}
	g.skipped.Add(1)
	// A failing task closes the gate just before x/sync records its error
	// and cancels ctx with it: wait for that, to report the cause.
	<-g.ctx.Done()
	return fmt.Errorf("%w: %w", ErrGroupFailed, context.Cause(g.ctx))
}

// acquire takes a slot of the limit, waiting until ctx ends; the gate is
// closed when the group fails or Shutdown begins.
func (g *Group) acquire(ctx context.Context) error {
	switch g.gate.Try() {
	case gate.Acquired:
		return nil
	case gate.Closed:
		return g.refuse()
	}
	err := g.gate.Wait(ctx)
	switch {
	case err == nil:
		return nil
	case err == execkit.ErrClosed:
		return g.refuse()
	default:
		g.counters.Reject()
		return err
	}
}

func (g *Group) release() {
	if g.gate != nil {
		g.gate.Release()
	}
}

// ignore is the error handler of xrun.Exec: a group's task errors go to the
// group (x/sync records the first), not to a handler.
func ignore(error) {}

func (g *Group) run(t execkit.Task) error {
	defer g.release()
	err := xrun.Exec(g.ctx, &g.counters, t, ignore)
	if err != nil && execkit.HasFuture(t) && errors.Is(err, context.Canceled) && g.ctx.Err() == nil {
		// Its own Future was cancelled (Future.Cancel), not the group: that
		// stops this task only, as Cancel promises, and fails nothing.
		return nil
	}
	if err != nil {
		if g.gate != nil {
			g.gate.Close() // wake the Submits waiting for a slot: they will be refused
		}
		if g.all {
			g.record(err)
		}
	}
	return err // x/sync keeps the first and cancels g.ctx with it
}

// record keeps err for AllErrors, unless it is a context.Canceled returned
// after the group's context was cancelled: a consequence of the failure,
// not a failure of its own.
func (g *Group) record(err error) {
	if g.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return
	}
	g.errMu.Lock()
	g.errs = append(g.errs, err)
	g.errMu.Unlock()
}

// Shutdown stops admission (later and waiting Submit calls return
// [execkit.ErrClosed]), waits until every task of the group has returned,
// and returns the first task error, or nil. With [AllErrors] it returns
// the first error joined (errors.Join) with the later ones, except the
// context.Canceled errors of tasks that the failure cancelled.
//
// If ctx ends first, Shutdown cancels the tasks' contexts and returns
// ctx.Err(), joined with the group's first error if a task had already
// failed; the group goes on winding down, and a later Shutdown waits for it
// again. It is idempotent and safe to call concurrently: every call that
// waits to the end returns the same error.
func (g *Group) Shutdown(ctx context.Context) error {
	g.shutOnce.Do(func() {
		g.mu.Lock()
		g.closed.Store(true)
		close(g.closing)
		g.mu.Unlock()
		if g.gate != nil {
			g.gate.Close()
		}
		go func() { // ends when the last task does
			first := g.g.Wait()
			g.result = g.compose(first)
			close(g.done)
		}()
	})
	select {
	case <-g.done:
		return g.result
	case <-ctx.Done():
	}
	select {
	case <-g.done: // finished as ctx ended
		return g.result
	default:
	}
	var failure error
	if g.ctx.Err() != nil {
		if cause := context.Cause(g.ctx); !errors.Is(cause, errGaveUp) {
			failure = cause
		}
	}
	g.stop(fmt.Errorf("%w: %w", errGaveUp, ctx.Err()))
	if failure != nil {
		return errors.Join(failure, ctx.Err())
	}
	return ctx.Err()
}

// compose returns Shutdown's error from x/sync's first error.
func (g *Group) compose(first error) error {
	if first == nil || !g.all {
		return first
	}
	g.errMu.Lock()
	defer g.errMu.Unlock()
	errs := []error{first}
	for _, err := range g.errs {
		if err != first {
			errs = append(errs, err)
		}
	}
	if len(errs) == 1 {
		return first
	}
	return errors.Join(errs...)
}

// Stats is a snapshot of a group: the execkit counters (Queued counts tasks
// admitted whose goroutine has not started them yet; Rejected includes
// Skipped) and the tasks skipped because the group had failed.
type Stats struct {
	execkit.Stats
	Skipped int64 // Submit calls refused with ErrGroupFailed
}

// Stats returns a snapshot of the group's counters. It never blocks and is
// safe to call concurrently, also after Shutdown.
func (g *Group) Stats() Stats {
	return Stats{Stats: g.counters.Stats(), Skipped: g.skipped.Load()}
}
