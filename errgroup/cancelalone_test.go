package errgroup_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
)

// ownCanceled returns a context.Canceled of a context of its own, as a
// call cancelled by something else than the group would.
func ownCanceled() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return fmt.Errorf("fetch: %w", ctx.Err())
}

var canceledFunc = execkit.Register("errgroup_test.canceled", func(context.Context, int) (int, error) { return 0, ownCanceled() })

// TestCanceledIsAFailure: a task that returns context.Canceled of its own
// (a context it made, not the group's) fails the group whatever submitted
// it: a bare Task, execkit.Go, a Func's Go, a fireforget Thread. Only a
// task whose own Future was cancelled (Future.Cancel) stops alone, and
// TestFutureCancelStopsAlone checks that. Go, Func.Go and Thread failed
// nothing: any context.Canceled from a task that reports its own outcome
// was taken for its Future cancelled, and a Thread has no Cancel at all.
func TestCanceledIsAFailure(t *testing.T) {
	bg := context.Background()
	for _, tc := range []struct {
		name   string
		submit func(g *errgroup.Group) // returns once the task's outcome is reported, but for Submit
	}{
		{"Submit", func(g *errgroup.Group) {
			_ = g.Submit(bg, execkit.TaskFunc(func(context.Context) error { return ownCanceled() }))
		}},
		{"execkit.Go", func(g *errgroup.Group) {
			_, _ = execkit.Go(bg, g, func(context.Context) (int, error) { return 0, ownCanceled() }).Wait(bg)
		}},
		{"Func.Go", func(g *errgroup.Group) { _, _ = canceledFunc.Go(bg, g, 1).Wait(bg) }},
		{"Thread", func(g *errgroup.Group) {
			th := fireforget.NewThread("canceled", execkit.TaskFunc(func(context.Context) error { return ownCanceled() }))
			if th.Start(bg, g) == nil {
				_ = th.Join(bg)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := errgroup.New()
			if err != nil {
				t.Fatal(err)
			}
			tc.submit(g)
			if tc.name == "Submit" { // nothing reports the bare task's outcome: Shutdown says it
				if err := g.Shutdown(bg); !errors.Is(err, context.Canceled) {
					t.Errorf("Shutdown = %v; want the task's context.Canceled", err)
				}
				return
			}
			if err := g.Submit(bg, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, errgroup.ErrGroupFailed) {
				t.Errorf("Submit after the task returned its own context.Canceled = %v; want ErrGroupFailed", err)
			}
			if err := g.Shutdown(bg); !errors.Is(err, context.Canceled) {
				t.Errorf("Shutdown = %v; want the task's context.Canceled", err)
			}
		})
	}
}

// TestFutureCancelStopsAlone: a running task whose Future is cancelled and
// that returns context.Canceled fails nothing: the group goes on.
func TestFutureCancelStopsAlone(t *testing.T) {
	bg := context.Background()
	g, err := errgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{})
	f := execkit.Go(bg, g, func(ctx context.Context) (int, error) {
		close(running)
		<-ctx.Done()
		return 0, ctx.Err()
	})
	<-running
	f.Cancel()
	if _, err := f.Wait(bg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v; want context.Canceled", err)
	}
	if v, err := execkit.Go(bg, g, func(context.Context) (int, error) { return 7, nil }).Wait(bg); v != 7 || err != nil {
		t.Errorf("a task after the cancelled one: Wait = %d, %v; want 7, nil", v, err)
	}
	if err := g.Shutdown(bg); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
}
