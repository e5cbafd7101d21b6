package execkit

import (
	"context"
	"iter"
	"sync"

	"github.com/execkit/execkit/internal/errtext"
)

// Map runs fn on every item through ex and returns the results in input
// order: the counterpart of ThreadPoolExecutor.map. It submits one task per
// item (blocking as ex's admission policy says) and blocks until all of them
// have finished. After the first error (a task's, a panic's, or a Submit
// error) Map stops submitting, cancels the tasks already admitted, waits for
// them, and returns that error with nil results (after ex's Shutdown began,
// Submit's error: [ErrClosed]). When ctx ends first, Map
// returns ctx.Err() without waiting for its tasks, and by then every task it
// admitted has had its context cancelled or will never start. A nil ctx is
// [context.Background]; a nil ex returns [ErrNilExecutor], a nil fn
// [ErrNilTask]; no items return an empty slice. On an executor that runs
// tasks in another process use [Func.Map], since fn is a closure. Map never
// panics. A Map inside a task (fn calling Map with its ctx) is told through
// that ctx: when the outer Map returns, the inner Maps have been told, and
// cancel their own tasks as they return, a moment later.
func Map[In, Out any](ctx context.Context, ex Executor, items []In, fn func(context.Context, In) (Out, error)) ([]Out, error) {
	if fn == nil {
		return nil, ErrNilTask
	}
	return mapFutures(ctx, ex, len(items), func(i int) (*Future[Out], Task) {
		item := items[i]
		f := newFuture(func(ctx context.Context) (Out, error) { return fn(ctx, item) })
		return f, &f.task
	})
}

// mapFutures submits n tasks to ex in order, task i and the Future it
// completes made by prepare(i); it stops at the first failure, cancels the
// rest, and collects the results in order.
//
// Every Future is recorded before its task is submitted, so that a
// cancellation reaches a task that an executor runs inside Submit (Inline,
// a pool's caller-runs); and Map cancels them all itself before it returns
// because its ctx ended, rather than rely on the context package's
// asynchronous callbacks having run by then.
func mapFutures[Out any](ctx context.Context, ex Executor, n int, prepare func(i int) (*Future[Out], Task)) ([]Out, error) {
	if ex == nil {
		return nil, ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	mctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)

	var m mapRun[Out]
	// When the first failure (or ctx) ends mctx, cancel every future, also
	// while this goroutine is inside Submit.
	defer context.AfterFunc(mctx, m.stop)()

	for i := 0; i < n && mctx.Err() == nil; i++ {
		f, t := prepare(i)
		if !m.add(f) { // stopped while we prepared it: it never starts
			break
		}
		f.whenDone(func() {
			if f.err != nil {
				fail(f.err)
			}
		})
		f.submit(mctx, ex, t)
	}

	futures := m.futures // only this goroutine appends
	out := make([]Out, len(futures))
	var firstErr, failure error
	for i, f := range futures {
		v, err := f.Wait(ctx)
		if ctx.Err() != nil {
			m.stop()
			return nil, ctx.Err()
		}
		if err != nil && firstErr == nil {
			// The first failure, not a cancellation it caused; err itself
			// when its callback has not recorded it yet.
			if firstErr = context.Cause(mctx); firstErr == nil {
				firstErr = err
			}
		}
		if failure == nil && err != nil && !errtext.Is(err, context.Canceled) {
			failure = err
		}
		out[i] = v
	}
	if firstErr != nil && failure != nil && errtext.Is(firstErr, context.Canceled) {
		// The first to end was a task its executor cancelled because
		// another failed (a fail-fast group cancels the others before the
		// failing task's Future reports): that failure is Map's error.
		firstErr = failure
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if n > len(futures) { // stopped early without a task failing: ctx ended
		m.stop()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, context.Cause(mctx)
	}
	return out, nil
}

// mapRun is the set of futures one Map call has started.
type mapRun[Out any] struct {
	mu      sync.Mutex
	stopped bool
	futures []*Future[Out]
}

// add records f, or reports false once stop was called.
func (m *mapRun[Out]) add(f *Future[Out]) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return false
	}
	m.futures = append(m.futures, f)
	return true
}

// stop refuses further futures and cancels every one recorded: when it
// returns, each of their tasks has had its context cancelled or will never
// start. It is idempotent.
func (m *mapRun[Out]) stop() {
	m.mu.Lock()
	m.stopped = true
	fs := m.futures
	m.mu.Unlock()
	for _, f := range fs {
		f.Cancel()
	}
}

// AsCompleted yields the futures in the order they complete, each distinct
// future once (a future listed twice is yielded once; nil entries are
// skipped), blocking between them until the next is done: the counterpart
// of concurrent.futures.as_completed. Breaking out of the loop early is
// safe and leaves no goroutine behind. To bound the wait, cancel the
// futures (or the tasks' work) from elsewhere; cancelled futures are
// yielded as they complete. A zero Future is yielded at once (it is done).
func AsCompleted[T any](futures []*Future[T]) iter.Seq[*Future[T]] {
	return func(yield func(*Future[T]) bool) {
		distinct := make([]*Future[T], 0, len(futures))
		seen := make(map[*Future[T]]struct{}, len(futures))
		for _, f := range futures {
			if _, dup := seen[f]; f == nil || dup {
				continue
			}
			seen[f] = struct{}{}
			distinct = append(distinct, f)
		}
		ready := make(chan *Future[T], len(distinct))
		for _, f := range distinct {
			f.whenDone(func() { ready <- f })
		}
		for range distinct {
			if !yield(<-ready) {
				return
			}
		}
	}
}
