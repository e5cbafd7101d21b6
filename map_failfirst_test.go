package execkit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// slowReporter is a fail-fast executor (driver.WithFailer) that, told of a
// task's failure, cancels the other tasks and returns only once they have
// returned: their Futures complete, with context.Canceled, before the
// failing task's does. errgroup's Group does the same, only not always so
// slowly.
// (It breaks driver.Failer's rule that TaskFailed must not block, on
// purpose: so the cancelled task always ends first.)
type slowReporter struct {
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	finished int
	failed   bool
	done     chan struct{} // closed when one task has finished
}

func (e *slowReporter) Submit(_ context.Context, t execkit.Task) error {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		driver.Run(e.ctx, t)
		e.mu.Lock()
		if e.finished++; e.finished == 1 {
			close(e.done)
		}
		e.mu.Unlock()
	}()
	return nil
}

func (e *slowReporter) Shutdown(context.Context) error { e.wg.Wait(); return nil }

// TaskFailed, told of the first failure, cancels the others and waits
// until one of them has returned; told of their failures (their
// context.Canceled), it returns at once.
func (e *slowReporter) TaskFailed(error) {
	e.mu.Lock()
	first := !e.failed
	e.failed = true
	e.mu.Unlock()
	if first {
		e.cancel()
		<-e.done
	}
}

// TestMapFailureAfterItsCancellations: when the tasks a failure cancels
// end before the failing task's Future reports (a fail-fast group cancels
// them first), Map still returns the failure, not the context.Canceled of
// the first to end (errgroup's conformance Map failed so 2 runs in 20).
func TestMapFailureAfterItsCancellations(t *testing.T) {
	e := &slowReporter{done: make(chan struct{})}
	base, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.ctx = driver.WithFailer(base, e)
	boom := errors.New("boom")
	waiting := make(chan struct{})
	_, err := execkit.Map(context.Background(), e, []int{0, 1}, func(ctx context.Context, i int) (int, error) {
		if i == 1 {
			close(waiting)
			<-ctx.Done()
			return 0, ctx.Err()
		}
		<-waiting
		return 0, boom
	})
	if err != boom {
		t.Errorf("Map = %v; want the failing item's error", err)
	}
	e.Shutdown(context.Background())
}
