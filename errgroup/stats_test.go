package errgroup_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/internal/statscheck"
)

// TestStatsMonotonic: no cumulative count of Stats goes down between two
// snapshots while Submits race Shutdown.
func TestStatsMonotonic(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []errgroup.Option
	}{
		{"unlimited", nil},
		{"Limit", []errgroup.Option{errgroup.Limit(2)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			statscheck.Monotonic(t, func(t *testing.T) execkit.Executor {
				g, err := errgroup.New(tt.opts...)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}, func(ex execkit.Executor) execkit.Stats { return ex.(*errgroup.Group).Stats().Stats })
		})
	}
}
