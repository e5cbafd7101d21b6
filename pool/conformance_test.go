package pool_test

import (
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"github.com/execkit/execkit/pool"
)

// TestConformance runs the executor contract suite on each admission
// policy. No IgnoreTopFunction is passed: the suite ignores the goroutines
// that ran before each check (ants' import-time pair among them), so every
// goroutine a Pool starts, its own ants housekeeping pair included, must be
// gone after Shutdown.
func TestConformance(t *testing.T) {
	const size = 4
	tests := []struct {
		name   string
		size   int
		opts   []pool.Option
		policy executortest.Option
	}{
		{"blocking", size, nil, executortest.Blocking(size)},
		{"MaxWaiting", size, []pool.Option{pool.MaxWaiting(2)}, executortest.Blocking(size)},
		{"RejectWhenFull", size, []pool.Option{pool.RejectWhenFull()}, executortest.RejectWhenFull(size)},
		{"Queue", size, []pool.Option{pool.Queue(3)}, executortest.Blocking(size + 3)},
		{"Queue/MaxWaiting", size, []pool.Option{pool.Queue(3), pool.MaxWaiting(2)}, executortest.Blocking(size + 3)},
		{"Queue/RejectWhenFull", size, []pool.Option{pool.Queue(3), pool.RejectWhenFull()}, executortest.RejectWhenFull(size + 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
				p, err := pool.New(tt.size, append(tt.opts, pool.OnError(onError))...)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}, tt.policy, executortest.AdmitsFollowUp())
		})
	}
}
