package errgroup_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// TestWithContextParentCancel: cancelling the parent (a server-wide ctx
// with many children) has cancelled every task's ctx, with the parent's
// cause, by the time its cancel returns; Submit then refuses with that
// cause; Shutdown returns what the tasks returned. Many rounds under -race.
func TestWithContextParentCancel(t *testing.T) {
	errRequestGone := errors.New("request gone")
	server, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	for range 1000 { // other requests' contexts: the parent has many children
		_, cancel := context.WithCancel(server)
		defer cancel()
	}
	for round := range 200 {
		for _, returnNil := range []bool{false, true} {
			req, cancelReq := context.WithCancelCause(server)
			g, err := errgroup.WithContext(req, errgroup.Limit(4))
			if err != nil {
				t.Fatal(err)
			}
			const k = 4
			ctxs := make(chan context.Context, k)
			for range k {
				if err := g.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
					ctxs <- ctx
					<-ctx.Done()
					if returnNil {
						return nil
					}
					return ctx.Err()
				})); err != nil {
					t.Fatal(err)
				}
			}
			seen := make([]context.Context, k)
			for i := range seen {
				seen[i] = <-ctxs
			}
			cancelReq(errRequestGone)
			for i, ctx := range seen {
				select {
				case <-ctx.Done():
				default:
					t.Fatalf("round %d: task %d's ctx not cancelled when the parent's cancel returned", round, i)
				}
				if c := context.Cause(ctx); c != errRequestGone {
					t.Fatalf("round %d: context.Cause(task ctx) = %v; want the parent's cause", round, c)
				}
			}
			err = g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
				t.Error("a task submitted after the parent ended ran")
				return nil
			}))
			if !errors.Is(err, errgroup.ErrGroupFailed) || !errors.Is(err, errRequestGone) {
				t.Fatalf("Submit after the parent ended = %v; want ErrGroupFailed wrapping the parent's cause", err)
			}
			want := error(context.Canceled)
			if returnNil {
				want = nil
			}
			if err := g.Shutdown(context.Background()); err != want {
				t.Fatalf("round %d: Shutdown = %v; want %v (what the tasks returned)", round, err, want)
			}
		}
	}
}

// TestWithContextDetaches: a parent that lives on (a server's ctx) is not
// held by a group that finished: the group's tasks' ctx is cancelled once
// Shutdown returned, and the parent is left alone.
func TestWithContextDetaches(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := errgroup.WithContext(parent)
	if err != nil {
		t.Fatal(err)
	}
	var taskCtx context.Context
	submit(t, g, func(ctx context.Context) error { taskCtx = ctx; return nil })
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if taskCtx.Err() == nil || parent.Err() != nil {
		t.Errorf("after Shutdown: task ctx err %v, parent err %v; want Canceled, nil", taskCtx.Err(), parent.Err())
	}
	if c := context.Cause(taskCtx); c != context.Canceled {
		t.Errorf("context.Cause(task ctx) after a clean Shutdown = %v; want context.Canceled, as x/sync", c)
	}
}

func TestWithContextErrors(t *testing.T) {
	//lint:ignore SA1012 a nil ctx is the case under test
	if g, err := errgroup.WithContext(nil); err == nil || err.Error() != "errgroup: nil Context" { //nolint:staticcheck
		t.Errorf("WithContext(nil) = %v, %v; want error %q", g, err, "errgroup: nil Context")
	}
	if g, err := errgroup.WithContext(context.Background(), errgroup.Limit(0)); err == nil {
		t.Errorf("WithContext(Limit(0)) = %v, nil; want an error", g)
	}
}

// walk submits a tree of the given fan-out and depth below a node, each
// node from its parent task with the parent's ctx, as a crawler does, and
// counts the nodes visited and the Submit errors.
type walk struct {
	g       *errgroup.Group
	fanOut  int
	visited atomic.Int64
	mu      sync.Mutex
	errs    []error
	fail    int64 // > 0: the node visited fail-th fails
}

func (w *walk) node(depth int) execkit.TaskFunc {
	return func(ctx context.Context) error {
		if n := w.visited.Add(1); n == w.fail {
			return fmt.Errorf("node %d failed", n)
		}
		if depth == 0 {
			return nil
		}
		for range w.fanOut {
			if err := w.g.Submit(ctx, w.node(depth-1)); err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, err)
				w.mu.Unlock()
			}
		}
		return nil
	}
}

// TestRecursiveFanOut: the root of a tree walk is submitted and Shutdown
// called at once (x/sync's g.Go(root); g.Wait()): every node is visited
// before Shutdown returns, with and without a limit, and no Submit fails.
// Before follow-ups were admitted, every Submit made after Shutdown began
// returned ErrClosed and most of the tree never ran while Shutdown
// returned nil.
func TestRecursiveFanOut(t *testing.T) {
	const fanOut, depth = 3, 6
	const nodes = (729*3 - 1) / 2 // 1 + 3 + ... + 3^6
	for _, opts := range [][]errgroup.Option{nil, {errgroup.Limit(1)}, {errgroup.Limit(4)}} {
		t.Run(fmt.Sprint(len(opts)), func(t *testing.T) {
			for range 20 {
				w := &walk{g: newGroup(t, opts...), fanOut: fanOut}
				submit(t, w.g, w.node(depth))
				if err := w.g.Shutdown(context.Background()); err != nil {
					t.Fatalf("Shutdown = %v; want nil", err)
				}
				if got := w.visited.Load(); got != nodes || len(w.errs) > 0 {
					t.Fatalf("when Shutdown returned, %d of %d nodes were visited; Submit errors: %v", got, nodes, w.errs)
				}
				if st := w.g.Stats(); st.Submitted != nodes || st.Succeeded != nodes {
					t.Fatalf("Stats = %+v; want Submitted and Succeeded %d", st, nodes)
				}
			}
		})
	}
}

// TestRecursiveFanOutFails: a node that fails during Shutdown fails the
// group as before it: Shutdown returns its error, and the follow-ups
// submitted after it are refused with ErrGroupFailed, none silently.
func TestRecursiveFanOutFails(t *testing.T) {
	for _, opts := range [][]errgroup.Option{nil, {errgroup.Limit(2)}} {
		w := &walk{g: newGroup(t, opts...), fanOut: 3, fail: 10}
		submit(t, w.g, w.node(5))
		err := w.g.Shutdown(context.Background())
		if err == nil || err.Error() != "node 10 failed" {
			t.Fatalf("Shutdown = %v; want node 10's error", err)
		}
		st := w.g.Stats()
		for _, e := range w.errs {
			if !errors.Is(e, errgroup.ErrGroupFailed) {
				t.Errorf("a follow-up's Submit = %v; want ErrGroupFailed", e)
			}
		}
		// Skipped counts the refusals and the admitted tasks that had not
		// started when the group failed: those never start.
		// Every admitted task ran or never started, and is counted either
		// way (one that never started is in Failed, and in Skipped beyond
		// the refusals when the group had failed before it was due).
		if admittedSkipped := st.Skipped - int64(len(w.errs)); admittedSkipped < 0 || st.Submitted != st.Succeeded+st.Failed+st.Panicked || w.visited.Load() > st.Submitted {
			t.Errorf("Stats = %+v with %d refusals and %d visits; want every Submit admitted and run (or skipped), or refused", st, len(w.errs), w.visited.Load())
		}
	}
}

// TestNestedAtLimitRunsInline: a task that submits to its own full group
// does not wait for the slot it holds: the follow-up runs in its goroutine,
// before Submit returns.
func TestNestedAtLimitRunsInline(t *testing.T) {
	g := newGroup(t, errgroup.Limit(1))
	res := make(chan error, 1)
	submit(t, g, func(ctx context.Context) error {
		ran := false
		err := g.Submit(ctx, execkit.TaskFunc(func(context.Context) error { ran = true; return nil }))
		if err == nil && !ran {
			err = errors.New("Submit returned before the inline task ran")
		}
		res <- err
		return nil
	})
	if err := <-res; err != nil {
		t.Fatalf("nested Submit at the limit = %v; want nil, run inline", err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestFollowUpAfterFinish: a task's ctx kept after the group finished
// admits nothing: Submit returns ErrClosed and nothing runs.
func TestFollowUpAfterFinish(t *testing.T) {
	for _, opts := range [][]errgroup.Option{nil, {errgroup.Limit(1)}} {
		g := newGroup(t, opts...)
		kept := make(chan context.Context, 1)
		submit(t, g, func(ctx context.Context) error { kept <- ctx; return nil })
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		err := g.Submit(<-kept, execkit.TaskFunc(func(context.Context) error {
			t.Error("a task submitted after the group finished ran")
			return nil
		}))
		if !errors.Is(err, execkit.ErrClosed) {
			t.Errorf("Submit with a finished task's ctx = %v; want ErrClosed", err)
		}
	}
}

// TestSubmitEndedCtx: a ctx that has already ended admits a task when a
// slot is free (x/sync's TryGo true) and returns ctx.Err() at once when
// none is (TryGo false).
func TestSubmitEndedCtx(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opts := range [][]errgroup.Option{nil, {errgroup.Limit(1)}} {
		g := newGroup(t, opts...)
		release := make(chan struct{})
		started := make(chan struct{})
		if err := g.Submit(ended, execkit.TaskFunc(func(context.Context) error {
			close(started)
			<-release
			return nil
		})); err != nil {
			t.Fatalf("Submit(ended ctx) with a free slot = %v; want nil", err)
		}
		<-started
		err := g.Submit(ended, execkit.TaskFunc(func(context.Context) error { return nil }))
		if len(opts) > 0 && !errors.Is(err, context.Canceled) {
			t.Errorf("Submit(ended ctx) at the limit = %v; want context.Canceled at once", err)
		}
		if len(opts) == 0 && err != nil {
			t.Errorf("Submit(ended ctx) without a limit = %v; want nil", err)
		}
		close(release)
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
