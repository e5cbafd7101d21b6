package execkit_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/statscheck"
)

// TestStatsMonotonic: no cumulative count of Inline's Stats goes down
// between two snapshots while Submits race Shutdown.
func TestStatsMonotonic(t *testing.T) {
	statscheck.Monotonic(t, func(t *testing.T) execkit.Executor {
		return &execkit.Inline{OnError: func(error) {}}
	}, func(ex execkit.Executor) execkit.Stats { return ex.(*execkit.Inline).Stats() })
}
