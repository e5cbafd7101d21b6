package subprocess_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/execkit/execkit/subprocess"
)

// lateCtx reports a deadline its timer passes late: Done closes some
// time after it. Under load a real ctx is like it for a while: its
// deadline passed, its timer not run yet, while the worker's timer for the
// same deadline (in another process) fired already.
type lateCtx struct {
	context.Context
	deadline time.Time
}

func (c lateCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// newLateCtx returns a lateCtx whose deadline is in d and whose Done
// closes 40ms after it (less than the pool waits for it, 50ms).
func newLateCtx(t *testing.T, d time.Duration) context.Context {
	dl := time.Now().Add(d)
	ctx, cancel := context.WithDeadline(testContext(t), dl.Add(40*time.Millisecond))
	t.Cleanup(cancel)
	return lateCtx{ctx, dl}
}

// Map whose deadline passed returns context.DeadlineExceeded itself, as
// its doc says (ctx.Err()), also when the worker saw the deadline pass
// before the pool's timer fired, as a single call (Apply) already did: it
// returned "Map item 0: context deadline exceeded", an item's
// *execkit.RemoteError. MapUnordered yields ctx.Err() once and ends.
func TestDeadlineSeenFirstByWorker(t *testing.T) {
	p := newPool(t, 2)
	items := []time.Duration{time.Hour, time.Hour}
	_, err := subprocess.Apply(newLateCtx(t, 50*time.Millisecond), p, waitCtx, time.Hour)
	if err != context.DeadlineExceeded {
		t.Errorf("Apply: %v (%T); want context.DeadlineExceeded itself", err, err)
	}
	_, err = subprocess.Map(newLateCtx(t, 50*time.Millisecond), p, waitCtx, items)
	if err != context.DeadlineExceeded {
		t.Errorf("Map: %v (%T); want context.DeadlineExceeded itself", err, err)
	}
	var errs []error
	for _, err := range subprocess.MapUnordered(newLateCtx(t, 50*time.Millisecond), p, waitCtx, slices.Values(items)) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] != context.DeadlineExceeded {
		t.Errorf("MapUnordered yielded %v; want context.DeadlineExceeded itself, once", errs)
	}
}

// When MapUnordered's ctx ends, its outstanding chunks are cancelled at
// once, as Map's are, and ctx.Err() is yielded once, as its doc says. The
// chunks were cancelled only when the range asked for the next value:
// while the loop body ran, an item running in the worker went on with its
// ctx alive, and items the worker held started, ran to the end and were
// yielded as successes after the cancel. And a chunk whose cancelled
// answer was in before the range asked was yielded as an item's failure
// ("MapUnordered item 1: context canceled"), ctx's error told twice.
func TestMapUnorderedCtxEndToldOnce(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	items := func(yield func(time.Duration) bool) {
		for _, d := range []time.Duration{0, time.Hour, time.Hour, time.Hour} {
			if !yield(d) {
				return
			}
		}
	}
	var after []error // what came after the cancel
	cancelled := false
	for _, err := range subprocess.MapUnordered(ctx, p, waitCtx, items) {
		if cancelled {
			after = append(after, err)
			continue
		}
		if err != nil {
			t.Fatalf("the first item: %v", err)
		}
		cancel()
		cancelled = true
		// The one worker runs calls in order: this one runs once the
		// items ahead of it (waiting for their ctx for an hour) are
		// cancelled, and then their answers are in.
		bctx, bcancel := context.WithTimeout(testContext(t), 10*time.Second)
		_, err := subprocess.Apply(bctx, p, double, 1)
		bcancel()
		if err != nil {
			t.Fatalf("a call behind the items of the cancelled MapUnordered: %v; want it to run (the items' ctx ended in the worker when the loop's ctx was cancelled)", err)
		}
	}
	if len(after) != 1 || after[0] != context.Canceled {
		t.Errorf("after ctx was cancelled, MapUnordered yielded %v; want context.Canceled once", after)
	}
}
