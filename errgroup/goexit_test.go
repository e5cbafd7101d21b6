package errgroup_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// TestNestedGoexit: a follow-up that ends its goroutine (runtime.Goexit, as
// t.FailNow does) still ends its count when it runs outside the group's
// WaitGroup: in its caller's goroutine at the limit (before Shutdown, or
// after it began), or in a goroutine of its own after Shutdown began. It
// counts as returned, as any task that calls Goexit. Shutdown waited for
// it forever.
func TestNestedGoexit(t *testing.T) {
	goexit := execkit.TaskFunc(func(context.Context) error {
		runtime.Goexit()
		return errors.New("unreachable")
	})
	for _, tc := range []struct {
		name          string
		opts          []errgroup.Option
		afterShutdown bool
	}{
		{"caller-runs at the limit", []errgroup.Option{errgroup.Limit(1)}, false},
		{"caller-runs after Shutdown began", []errgroup.Option{errgroup.Limit(1)}, true},
		{"own goroutine after Shutdown began", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroup(t, tc.opts...)
			begun := make(chan struct{})
			if !tc.afterShutdown {
				close(begun)
			}
			submit(t, g, func(ctx context.Context) error {
				<-begun
				_ = g.Submit(ctx, goexit) // ends this goroutine when run here
				return nil
			})
			if tc.afterShutdown {
				go func() { // close begun once Shutdown refuses a Submit from outside
					defer close(begun)
					for g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return nil })) == nil {
						runtime.Gosched()
					}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := g.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown = %v; want nil once the tasks ended", err)
			}
			<-begun
			if s := g.Stats(); s.Running != 0 || s.Submitted != s.Succeeded {
				t.Errorf("Stats = %+v; want every task succeeded, none running", s)
			}
		})
	}
}
