package pool_test

import (
	"context"
	"sync"
	"testing"

	"github.com/execkit/execkit"
)

// TestStatsRightAfterSubmit: a task the pool admitted holds a worker, so
// Stats counts it Running at once, never Queued, even before the worker's
// goroutine has begun it (issue 14, item 10: Queued was 8 right after 8
// Submits on New(8)). Many rounds, since the window is a scheduling one.
func TestStatsRightAfterSubmit(t *testing.T) {
	const size = 8
	for round := range 50 {
		p := newPool(t, size)
		release := make(chan struct{})
		stop := sync.OnceFunc(func() { close(release) })
		t.Cleanup(stop) // before the pool's cleanup Shutdown, if a check fails
		for i := range size {
			if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
				<-release
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			if st := p.Stats(); st.Queued != 0 || st.Running != int64(i+1) || st.Free != size-i-1 {
				t.Fatalf("round %d, after Submit #%d: Queued %d, Running %d, Free %d; want 0, %d, %d",
					round, i+1, st.Queued, st.Running, st.Free, i+1, size-i-1)
			}
		}
		stop()
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Queued != 0 || st.Running != 0 || st.Succeeded != size {
			t.Fatalf("after Shutdown: %+v; want Queued 0, Running 0, Succeeded %d", st.Stats, size)
		}
	}
}
