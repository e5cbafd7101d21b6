package pool_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/statscheck"
	"github.com/execkit/execkit/pool"
)

// TestStatsMonotonic: no cumulative count of Stats goes down between two
// snapshots while Submits race Shutdown.
func TestStatsMonotonic(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []pool.Option
	}{
		{"blocking", nil},
		{"RejectWhenFull", []pool.Option{pool.RejectWhenFull()}},
		{"Queue", []pool.Option{pool.Queue(8)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			statscheck.Monotonic(t, func(t *testing.T) execkit.Executor {
				p, err := pool.New(2, append([]pool.Option{pool.OnError(func(error) {})}, tt.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}, func(ex execkit.Executor) execkit.Stats { return ex.(*pool.Pool).Stats().Stats })
		})
	}
}
