// Package statscheck checks, for the executors' tests, that the cumulative
// counts of an executor's Stats never go down between two snapshots while
// Submits race Shutdown.
package statscheck

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/execkit/execkit"
)

// Rounds is how many executors Monotonic makes, one round each.
const Rounds = 60

// cumulative returns the counts of s that only grow, by name.
func cumulative(s execkit.Stats) [7]int64 {
	return [7]int64{s.Submitted, s.Succeeded, s.Failed, s.Panicked, s.Rejected, s.Retries, s.Timeouts}
}

var names = [7]string{"Submitted", "Succeeded", "Failed", "Panicked", "Rejected", "Retries", "Timeouts"}

// Monotonic runs Rounds rounds, each on an executor made by newExecutor,
// whose Stats stats reads: submitters (and the submits of running tasks)
// race a Shutdown, while a reader takes snapshots one after another. Every
// cumulative count of a snapshot must be at least what the one before it
// showed; once Shutdown returned, Submitted must be the tasks that ended.
func Monotonic(t *testing.T, newExecutor func(t *testing.T) execkit.Executor, stats func(execkit.Executor) execkit.Stats) {
	t.Helper()
	boom := errors.New("statscheck: a failing task")
	for r := range Rounds {
		ex := newExecutor(t)
		task := execkit.TaskFunc(func(ctx context.Context) error {
			if ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })) != nil {
				return boom
			}
			return nil
		})
		stop := make(chan struct{})
		bad := make(chan string, 1)
		var readers sync.WaitGroup
		for range 2 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				last := cumulative(stats(ex))
				for {
					select {
					case <-stop:
						return
					default:
					}
					now := cumulative(stats(ex))
					for i := range now {
						if now[i] < last[i] {
							select {
							case bad <- names[i]:
							default:
							}
							return
						}
					}
					last = now
				}
			}()
		}
		var submitters sync.WaitGroup
		for range 3 {
			submitters.Add(1)
			go func() {
				defer submitters.Done()
				for range 20 {
					_ = ex.Submit(context.Background(), task)
				}
			}()
		}
		if err := ex.Shutdown(context.Background()); err != nil && !errors.Is(err, boom) {
			t.Fatalf("round %d: Shutdown = %v; want nil or a task's error", r, err)
		}
		submitters.Wait()
		close(stop)
		readers.Wait()
		select {
		case name := <-bad:
			t.Fatalf("round %d: Stats().%s went down between two snapshots while Submits raced Shutdown", r, name)
		default:
		}
		s := stats(ex)
		if ended := s.Succeeded + s.Failed + s.Panicked; s.Submitted != ended || s.Running != 0 || s.Queued != 0 {
			t.Fatalf("round %d: after Shutdown Stats() = %+v; want Submitted = Succeeded+Failed+Panicked, nothing running or queued", r, s)
		}
	}
}
