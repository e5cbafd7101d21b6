package subprocess_test

import (
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"github.com/execkit/execkit/subprocess"
)

// TestConformance runs the executor contract's suite. Its checks need up to
// 4 tasks running at once, so the pool has 4 workers. Its time limit is
// hard: a worker whose function ignores its ctx is killed after the grace.
func TestConformance(t *testing.T) {
	const grace = 200 * time.Millisecond
	executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
		p, err := subprocess.New(4, subprocess.OnError(onError), subprocess.CancelGrace(grace))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, executortest.Portable(), executortest.HardTimeLimit(grace))
}
