package errgroup_test

import (
	"context"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// TestAllocs holds a Submit to one allocation, as x/sync's Go (the closure
// its goroutine runs), with and without a limit.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := context.Background()
	// Each run waits for its task: a goroutine that has exited leaves its g
	// for the next one, where a backlog would make the runtime allocate
	// new ones.
	ran := make(chan struct{}, 1)
	signal := execkit.TaskFunc(func(context.Context) error { ran <- struct{}{}; return nil })
	for _, tc := range []struct {
		name string
		opts []errgroup.Option
	}{{"limit=0", nil}, {"limit=8", []errgroup.Option{errgroup.Limit(8)}}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroup(t, tc.opts...)
			got := testing.AllocsPerRun(1000, func() {
				if err := g.Submit(ctx, signal); err != nil {
					t.Fatal(err)
				}
				<-ran
			})
			if got != 1 {
				t.Errorf("got %v allocations per Submit; want 1", got)
			}
		})
	}
}
