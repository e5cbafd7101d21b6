package subprocess

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/xrun"
)

// paced reports whether f has a RateLimit. [Map] and [MapUnordered] then
// call it item by item, each item a call whose policy runs in this
// process, as a submitted task's does: so the pool's one bucket paces
// every item and every retry. In a chunk, the policy runs in the worker,
// where each worker process would keep a bucket of its own, and a pool
// of n workers would start items at n times the limit.
func paced[In, Out any](f *execkit.Func[In, Out]) bool {
	pol, ok := link.PolicyOf(f.Name())
	return ok && pol.RateLimit > 0
}

// runPortable runs pt, an admitted task, in the calling goroutine through
// the pool, counting it: its policy (retries, time limit, rate limit) runs
// here, in the pool's scope, and each attempt is one call to a worker.
func (p *Pool) runPortable(ctx context.Context, pt driver.Portable) {
	ctx, cancel := p.taskContext(xrun.WithScope(ctx, &p.counters.Scope)) // the policies count here
	defer cancel()
	p.counters.Start()
	p.counters.Finish(driver.RunVia(ctx, pt, p.invokeDirect))
}

// capture is an Executor that keeps the one task submitted to it, to be
// run later under a context of the caller's choosing (see runItem).
type capture struct{ t driver.Portable }

func (c *capture) Submit(_ context.Context, t execkit.Task) error {
	pt, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	c.t = pt
	return nil
}

func (c *capture) Shutdown(context.Context) error { return nil }

// runItem calls f(in) as one admitted item of a paced Map: see runPortable.
// It returns when the call has returned; the item is counted once, as
// failed when it never started.
func runItem[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], in In) (Out, error) {
	var c capture
	fut := f.Go(ctx, &c, in)
	if c.t != nil {
		p.runPortable(ctx, c.t)
		return fut.Wait(context.Background())
	}
	v, err := fut.Wait(context.Background())
	p.finishChunk(err)
	return v, err
}

// mapPaced is Map for a paced f: items, all admitted, run item by item on
// as many goroutines as the pool has workers, their results into out. At
// the first error it cancels the items running and starts no other (those
// counted as failed), and returns that error as Map does; ctx is Map's.
func mapPaced[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items []In, out []Out) error {
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		next     int
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(p.n, len(items)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				if i == len(items) || firstErr != nil {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				v, err := runItem(run, p, f, items[i])
				if err == nil {
					out[i] = v
					continue
				}
				mu.Lock()
				if firstErr == nil {
					switch ctxErr := p.ctxErr(ctx); {
					case ctxErr != nil:
						firstErr = ctxErr
					case ended(err):
						firstErr = err
					default:
						firstErr = fmt.Errorf("subprocess: Map item %d: %w", i, err)
					}
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for range len(items) - next {
		p.finishChunk(context.Canceled) // given up before it started
	}
	return firstErr
}

// mapUnorderedPaced is MapUnordered for a paced f (see mapPaced): at most
// as many items run at once as the pool has workers; each result is
// yielded as it comes, an error naming its item, and the loop goes on.
// ctx is MapUnordered's; the pool admitted the call.
func mapUnorderedPaced[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items iter.Seq[In], yield func(Out, error) bool) {
	type result struct {
		i   int
		v   Out
		err error
	}
	var zero Out
	run, cancel := context.WithCancel(ctx)
	results := make(chan result)
	outstanding := 0
	defer func() { // cancel and wait for what is still running
		cancel()
		for ; outstanding > 0; outstanding-- {
			<-results
		}
	}()
	// take waits for one result and yields it; false means stop.
	take := func() bool {
		select {
		case r := <-results:
			outstanding--
			switch {
			case r.err != nil && p.ctxErr(ctx) != nil: // said once, the sequence ends
				yield(zero, p.ctxErr(ctx))
				return false
			case ended(r.err):
				yield(zero, r.err)
				return false
			case r.err != nil:
				return yield(r.v, fmt.Errorf("subprocess: MapUnordered item %d: %w", r.i, r.err))
			}
			return yield(r.v, nil)
		case <-ctx.Done():
			yield(zero, p.ctxErr(ctx))
			return false
		}
	}
	next := 0
	for item := range items {
		for outstanding >= p.n {
			if !take() {
				return
			}
		}
		p.counters.Admit()
		i := next
		next++
		outstanding++
		go func() {
			v, err := runItem(run, p, f, item)
			results <- result{i, v, err}
		}()
	}
	for outstanding > 0 {
		if !take() {
			return
		}
	}
}
