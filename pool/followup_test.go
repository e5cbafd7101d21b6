package pool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
)

// TestStatsRightAfterSubmit: a task the pool admitted holds a worker, so
// Stats counts it Running at once, never Queued, even before the worker's
// goroutine has begun it (issue 14, item 10: Queued was 8 right after 8
// Submits on New(8)). Many rounds, since the window is a scheduling one.
func TestStatsRightAfterSubmit(t *testing.T) {
	const size = 8
	for round := range 50 {
		p := newPool(t, size)
		release := make(chan struct{})
		stop := sync.OnceFunc(func() { close(release) })
		t.Cleanup(stop) // before the pool's cleanup Shutdown, if a check fails
		for i := range size {
			if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
				<-release
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			if st := p.Stats(); st.Queued != 0 || st.Running != int64(i+1) || st.Free != size-i-1 {
				t.Fatalf("round %d, after Submit #%d: Queued %d, Running %d, Free %d; want 0, %d, %d",
					round, i+1, st.Queued, st.Running, st.Free, i+1, size-i-1)
			}
		}
		stop()
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Queued != 0 || st.Running != 0 || st.Succeeded != size {
			t.Fatalf("after Shutdown: %+v; want Queued 0, Running 0, Succeeded %d", st.Stats, size)
		}
	}
}

// TestSubmitEndedCtx: a ctx that has already ended admits a task when a
// worker is free (x/sync's TryGo true) and returns ctx.Err() at once when
// none is (TryGo false).
func TestSubmitEndedCtx(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	p := newPool(t, 1)
	b := newBlocker()
	defer close(b.release)
	if err := p.Submit(ended, b.task(0)); err != nil {
		t.Fatalf("Submit(ended ctx) with a free worker = %v; want nil", err)
	}
	b.await(t, 1)
	if err := p.Submit(ended, b.task(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Submit(ended ctx) on a full pool = %v; want context.Canceled at once", err)
	}
}

// TestFollowUpDuringShutdown: a tree walk whose root is submitted just
// before Shutdown: every node runs before Shutdown returns, on a pool of 1
// (each follow-up at capacity runs caller-runs) and of 4; a task's ctx kept
// after Shutdown returned admits nothing.
func TestFollowUpDuringShutdown(t *testing.T) {
	const fanOut, depth = 3, 5
	const nodes = (243*3 - 1) / 2 // 1 + 3 + ... + 3^5
	for _, size := range []int{1, 4} {
		p := newPool(t, size)
		var visited atomic.Int64
		var failed atomic.Value
		kept := make(chan context.Context, 1)
		var node func(d int) execkit.Task
		node = func(d int) execkit.Task {
			return execkit.TaskFunc(func(ctx context.Context) error {
				if visited.Add(1) == 1 {
					kept <- ctx
				}
				for i := 0; d > 0 && i < fanOut; i++ {
					if err := p.Submit(ctx, node(d-1)); err != nil {
						failed.Store(err)
					}
				}
				return nil
			})
		}
		if err := p.Submit(context.Background(), node(depth)); err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := visited.Load(); got != nodes || failed.Load() != nil {
			t.Errorf("size %d: when Shutdown returned, %d of %d nodes had run; a Submit failed with %v", size, got, nodes, failed.Load())
		}
		if err := p.Submit(<-kept, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrClosed) {
			t.Errorf("Submit with a task's ctx after Shutdown = %v; want ErrClosed", err)
		}
	}
}
