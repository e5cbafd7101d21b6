package riverexec

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// The round whose Future's Cancel has returned, and the starts of
// startProbe seen after that.
var (
	cancelledRound atomic.Int64
	lateStarts     atomic.Int64
)

// startProbe counts a start, with a live ctx, of the round whose Cancel
// has returned.
var startProbe = execkit.Register("riverexec_test.startProbe", func(ctx context.Context, round int) (int, error) {
	if cancelledRound.Load() == int64(round) && ctx.Err() == nil {
		lateStarts.Add(1)
	}
	return round, nil
})

// TestCancelledCallNeverStarts: once a Future's Cancel has returned, its
// job does not start with a live ctx on this process's worker, as on
// every executor (Cancel only cancelled the call's ctx, and its revoke
// reached the database after the worker could fetch the job, and the
// worker heard of it later still: about one round in ten started after
// Cancel returned, and its Future completed with the result).
func TestCancelledCallNeverStarts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("cancelstart"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cancelledRound.Store(-1)
		lateStarts.Store(0)
		cancelled := 0
		const rounds = 300
		for r := range rounds {
			f := startProbe.Go(ctx, ex, r)
			if r%2 == 1 { // once inserted: racing the worker's fetch
				for ex.Stats().Queued > 0 && ctx.Err() == nil {
					runtime.Gosched()
				}
			}
			f.Cancel()
			cancelledRound.Store(int64(r))
			v, err := f.Wait(ctx)
			switch {
			case errors.Is(err, context.Canceled):
				cancelled++
			case err != nil || v != r:
				t.Fatalf("round %d: Wait after Cancel = %d, %v; want context.Canceled, or %d from a job that started before Cancel returned", r, v, err, r)
			}
		}
		if n := lateStarts.Load(); n > 0 {
			t.Errorf("%d of %d jobs started after their Future's Cancel returned; want none", n, rounds)
		}
		t.Logf("%d of %d calls cancelled, the others ran before Cancel returned", cancelled, rounds)
	})
}

// runningCtx carries the ctx of a running ctxProbe job to the test.
var runningCtx = make(chan context.Context, 1)

// ctxProbe hands its ctx to the test and waits until it ends.
var ctxProbe = execkit.Register("riverexec_test.ctxProbe", func(ctx context.Context, _ int) (int, error) {
	runningCtx <- ctx
	<-ctx.Done()
	return 0, ctx.Err()
})

// TestLocalJobCtx: a job that this process's worker runs for a Future of
// its executor sees the values a job sees on any worker, not the
// submitting side's (driver.RunViaOnce's mark among them, under which a
// call the function sends through subprocess.Apply skipped its policy),
// and the Future's Cancel has ended the function's ctx when it returns.
func TestLocalJobCtx(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("localctx"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for r := range 20 {
			f := ctxProbe.Go(ctx, ex, r)
			var jctx context.Context
			select {
			case jctx = <-runningCtx:
			case <-ctx.Done():
				t.Fatal("the job did not start")
			}
			if jctx.Value(link.OnceKey{}) != nil {
				t.Fatalf("round %d: the job's ctx carries driver.RunViaOnce's mark; want the values of a job on any worker", r)
			}
			f.Cancel()
			if jctx.Err() == nil {
				t.Fatalf("round %d: the function's ctx was live after its Future's Cancel returned", r)
			}
			if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: Wait = %v; want context.Canceled", r, err)
			}
		}
	})
}
