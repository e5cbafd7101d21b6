package fireforget

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/statscheck"
)

// TestStatsMonotonic: no cumulative count of Stats goes down between two
// snapshots while Submits race Shutdown. Submitted went down for a moment:
// a Submit that found Shutdown begun counted its task, then took it back.
func TestStatsMonotonic(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []Option
	}{
		{"unlimited", nil},
		{"Limit", []Option{Limit(2)}},
		{"RejectWhenFull", []Option{Limit(2), RejectWhenFull()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			statscheck.Monotonic(t, func(t *testing.T) execkit.Executor {
				e, err := New(append([]Option{OnError(func(error) {})}, tt.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}, func(ex execkit.Executor) execkit.Stats { return ex.(*Executor).Stats() })
		})
	}
}
