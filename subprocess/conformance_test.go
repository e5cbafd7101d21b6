package subprocess_test

import (
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"github.com/execkit/execkit/subprocess"
)

// TestConformance runs the executor contract's suite, with the default
// prefetching and with none. Its checks need up to 4 tasks running at
// once, so the pool has 4 workers. Its time limit is hard: a worker whose
// function ignores its ctx is killed after the grace, which leaves a
// cooperative function time to return on a loaded machine under -race
// (with 200ms, a worker was killed now and then before its function,
// cancelled, had recorded so, and CancelMap failed).
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []subprocess.Option
	}{
		{"prefetch=default", nil},
		{"prefetch=0", []subprocess.Option{subprocess.Prefetch(0)}}, // another dispatch: no call held ahead, no stealing
	} {
		t.Run(c.name, func(t *testing.T) {
			const grace = time.Second
			executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
				opts := append([]subprocess.Option{subprocess.OnError(onError), subprocess.CancelGrace(grace)}, c.opts...)
				p, err := subprocess.New(4, opts...)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}, executortest.Portable(), executortest.HardTimeLimit(grace))
		})
	}
}
