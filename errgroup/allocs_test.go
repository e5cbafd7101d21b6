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
	noop := execkit.TaskFunc(func(context.Context) error { return nil })
	for _, tc := range []struct {
		name string
		opts []errgroup.Option
	}{{"limit=0", nil}, {"limit=8", []errgroup.Option{errgroup.Limit(8)}}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroup(t, tc.opts...)
			got := testing.AllocsPerRun(1000, func() {
				if err := g.Submit(ctx, noop); err != nil {
					t.Fatal(err)
				}
			})
			if got != 1 {
				t.Errorf("got %v allocations per Submit; want 1", got)
			}
		})
	}
}
