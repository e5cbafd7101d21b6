package fireforget

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
// with RejectWhenFull a follow-up at the limit gets ErrFull, never lost; a
// task's ctx kept after Shutdown returned admits nothing.
func TestFollowUpDuringShutdown(t *testing.T) {
	const fanOut, depth = 3, 5
	const nodes = (243*3 - 1) / 2 // 1 + 3 + ... + 3^5
	for _, opts := range [][]Option{nil, {Limit(1)}, {Limit(4)}, {Limit(1), RejectWhenFull()}} {
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
			t.Errorf("RejectWhenFull: %d nodes ran and %d Submits got ErrFull; want 1 and %d", got, full.Load(), fanOut)
		}
		if err := e.Submit(<-kept, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrClosed) {
			t.Errorf("Submit with a task's ctx after Shutdown = %v; want ErrClosed", err)
		}
	}
}

// TestFollowUpGoexit: a follow-up that ends its goroutine
// (runtime.Goexit, as t.FailNow does) still counts as ended, also when it
// runs in its caller's goroutine (Limit at the limit after Shutdown
// began: caller-runs), so Shutdown does not wait for it forever. It is
// counted as a success, as a task that calls Goexit in a goroutine of its
// own is.
func TestFollowUpGoexit(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{{"own goroutine", nil}, {"caller-runs", []Option{Limit(1)}}} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			begun := make(chan struct{})
			if err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
				<-begun
				_ = e.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
					runtime.Goexit()
					return nil
				}))
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			go func() {
				for e.Stats().Running == 0 || !e.closed.Load() {
					runtime.Gosched()
				}
				close(begun) // Shutdown has begun
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown = %v; want nil once both tasks ended", err)
			}
			if s := e.Stats(); s.Submitted != 2 || s.Running != 0 || s.Succeeded != 2 {
				t.Errorf("Stats = %+v; want 2 submitted, 2 succeeded, none running", s)
			}
		})
	}
}
