package errgroup

// A running task's own Submits: follow-up work during Shutdown and
// caller-runs at the limit.

import (
	"context"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/gate"
	"github.com/execkit/execkit/internal/link"
)

// nested reports whether ctx is (derived from) the context of a task of g.
func (g *Group) nested(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	f, _ := ctx.Value(link.FailKey{}).(*failer)
	return (*Group)(f) == g
}

// closedPath answers a Submit that found the group failed or shut down: a
// running task's follow-up is admitted after Shutdown began while the group
// has neither failed nor finished; anything else is refused.
func (g *Group) closedPath(ctx context.Context, t execkit.Task) error {
	if !g.closed.Load() || !g.nested(ctx) {
		return g.refuse()
	}
	if g.ctx.Err() != nil || !g.enter() {
		return g.refuseNested()
	}
	g.counters.Admit()
	if g.gate != nil && g.gate.TryAcquireNested(false) != gate.Acquired {
		g.execExtra(t) // no free slot: caller-runs
		return nil
	}
	go func() { // a goroutine of its own, outside wg
		defer g.leave() // see execExtra
		g.run(t)
	}()
	return nil
}

// execExtra runs t, counted by enter, in the calling goroutine. leave is
// deferred: a task that ends the goroutine (runtime.Goexit, as t.FailNow
// does) must still end its count, or Shutdown would wait for it forever.
func (g *Group) execExtra(t execkit.Task) {
	defer g.leave()
	g.exec(t)
}

// runHere runs t in the calling goroutine, a task of the group at the
// limit, as a task of the group.
func (g *Group) runHere(t execkit.Task) error {
	if !g.enter() {
		return g.refuseNested()
	}
	g.counters.Admit()
	g.execExtra(t)
	return nil
}

// enter counts a task that runs outside wg, unless the
// group has finished (a task's context used after the task returned).
func (g *Group) enter() bool {
	g.extraMu.Lock()
	defer g.extraMu.Unlock()
	if g.finished {
		return false
	}
	g.extra++
	return true
}

// leave ends what enter began, and finishes the group when it was the last
// task of a group whose Shutdown is waiting.
func (g *Group) leave() {
	g.extraMu.Lock()
	g.extra--
	last := g.extra == 0 && g.waited && !g.finished
	g.finished = g.finished || last
	g.extraMu.Unlock()
	if last {
		g.finish()
	}
}

// refuseNested is refuse for a Submit from one of the group's own tasks
// after Shutdown began: ErrClosed once the group finished or Shutdown gave
// up, else the failure.
func (g *Group) refuseNested() error {
	g.counters.Reject()
	g.extraMu.Lock()
	finished := g.finished
	g.extraMu.Unlock()
	if finished || errtext.Is(context.Cause(g.ctx), errGaveUp) {
		return execkit.ErrClosed
	}
	return g.skip()
}
