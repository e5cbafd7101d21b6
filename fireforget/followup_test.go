package fireforget

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
)

// TestSubmitEndedCtx: a ctx that has already ended admits a task when a
// slot is free (x/sync's TryGo true) and returns ctx.Err() at once when
// none is (TryGo false); without Limit it plays no part.
func TestSubmitEndedCtx(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opts := range [][]Option{nil, {Limit(1)}} {
		e, err := New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		started := make(chan struct{})
		if err := e.Submit(ended, execkit.TaskFunc(func(context.Context) error {
			close(started)
			<-release
			return nil
		})); err != nil {
			t.Fatalf("Submit(ended ctx) with a free slot = %v; want nil", err)
		}
		<-started
		err = e.Submit(ended, execkit.TaskFunc(func(context.Context) error { return nil }))
		if len(opts) > 0 && !errors.Is(err, context.Canceled) {
			t.Errorf("Submit(ended ctx) at the limit = %v; want context.Canceled at once", err)
		}
		if len(opts) == 0 && err != nil {
			t.Errorf("Submit(ended ctx) without a limit = %v; want nil", err)
		}
		close(release)
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFollowUpDuringShutdown: a tree walk whose root is submitted just
// before Shutdown: every node runs before Shutdown returns, without a
// limit and with Limit(1) (each follow-up at the limit runs caller-runs);
// with RejectAtLimit a follow-up at the limit gets ErrFull, never lost; a
// task's ctx kept after Shutdown returned admits nothing.
func TestFollowUpDuringShutdown(t *testing.T) {
	const fanOut, depth = 3, 5
	const nodes = (243*3 - 1) / 2 // 1 + 3 + ... + 3^5
	for _, opts := range [][]Option{nil, {Limit(1)}, {Limit(4)}, {Limit(1), RejectAtLimit()}} {
		e, err := New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		var visited, full atomic.Int64
		var failed atomic.Value
		kept := make(chan context.Context, 1)
		var node func(d int) execkit.Task
		node = func(d int) execkit.Task {
			return execkit.TaskFunc(func(ctx context.Context) error {
				if visited.Add(1) == 1 {
					kept <- ctx
				}
				for i := 0; d > 0 && i < fanOut; i++ {
					switch err := e.Submit(ctx, node(d-1)); {
					case errors.Is(err, execkit.ErrFull):
						full.Add(1)
					case err != nil:
						failed.Store(err)
					}
				}
				return nil
			})
		}
		if err := e.Submit(context.Background(), node(depth)); err != nil {
			t.Fatal(err)
		}
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		reject := len(opts) == 2
		switch got := visited.Load(); {
		case failed.Load() != nil:
			t.Errorf("%d options: a Submit failed with %v", len(opts), failed.Load())
		case !reject && (got != nodes || full.Load() != 0):
			t.Errorf("%d options: when Shutdown returned, %d of %d nodes had run", len(opts), got, nodes)
		case reject && (got != 1 || full.Load() != fanOut):
			t.Errorf("RejectAtLimit: %d nodes ran and %d Submits got ErrFull; want 1 and %d", got, full.Load(), fanOut)
		}
		if err := e.Submit(<-kept, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrClosed) {
			t.Errorf("Submit with a task's ctx after Shutdown = %v; want ErrClosed", err)
		}
	}
}
