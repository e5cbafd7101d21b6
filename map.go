package execkit

import (
	"context"
	"iter"
	"sync"
)

// Map runs fn on every item through ex and returns the results in input
// order: the counterpart of ThreadPoolExecutor.map. It submits one task per
// item (blocking as ex's admission policy says) and blocks until all of them
// have finished. After the first error (a task's, a panic's, or a Submit
// error) Map stops submitting, cancels the tasks already admitted, waits for
// them, and returns that error with nil results. When ctx ends first, Map
// cancels its tasks and returns ctx.Err() without waiting for them. On an
// executor that runs tasks in another process use [Func.Map], since fn is a
// closure.
func Map[In, Out any](ctx context.Context, ex Executor, items []In, fn func(context.Context, In) (Out, error)) ([]Out, error) {
	if fn == nil {
		return nil, ErrNilTask
	}
	return mapFutures(ctx, len(items), func(ctx context.Context, i int) *Future[Out] {
		item := items[i]
		return Go(ctx, ex, func(ctx context.Context) (Out, error) { return fn(ctx, item) })
	})
}

// mapFutures starts n futures in order with start, stops at the first
// failure, cancels the rest, and collects the results in order.
func mapFutures[Out any](ctx context.Context, n int, start func(context.Context, int) *Future[Out]) ([]Out, error) {
	mctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)

	var (
		mu      sync.Mutex
		stopped bool
		futures = make([]*Future[Out], 0, n)
	)
	// When the first failure (or ctx) ends mctx, cancel every future.
	stop := context.AfterFunc(mctx, func() {
		mu.Lock()
		stopped = true
		fs := futures
		mu.Unlock()
		for _, f := range fs {
			f.Cancel()
		}
	})
	defer stop()

	for i := 0; i < n && mctx.Err() == nil; i++ {
		f := start(mctx, i)
		mu.Lock()
		futures = append(futures, f)
		cancelNow := stopped
		mu.Unlock()
		if cancelNow {
			f.Cancel()
		}
		f.whenDone(func() {
			if f.err != nil {
				fail(f.err)
			}
		})
	}

	out := make([]Out, len(futures))
	var firstErr error
	for i, f := range futures {
		v, err := f.Wait(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil && firstErr == nil {
			// The first failure, not a cancellation it caused; err itself
			// when its callback has not recorded it yet.
			if firstErr = context.Cause(mctx); firstErr == nil {
				firstErr = err
			}
		}
		out[i] = v
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if n > len(futures) { // stopped early without a task failing: ctx ended
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, context.Cause(mctx)
	}
	return out, nil
}

// AsCompleted yields the futures in the order they complete, each once,
// blocking between them until the next is done: the counterpart of
// concurrent.futures.as_completed. Breaking out of the loop early is safe
// and leaves no goroutine behind. To bound the wait, cancel the futures (or
// the tasks' work) from elsewhere; cancelled futures are yielded as they
// complete.
func AsCompleted[T any](futures []*Future[T]) iter.Seq[*Future[T]] {
	return func(yield func(*Future[T]) bool) {
		ready := make(chan *Future[T], len(futures))
		for _, f := range futures {
			f.whenDone(func() { ready <- f })
		}
		for range futures {
			if !yield(<-ready) {
				return
			}
		}
	}
}
