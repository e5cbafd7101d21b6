package subprocess

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
)

// Apply calls f(in) in a worker and blocks until it returns: the
// counterpart of Pool.apply. For the counterpart of apply_async, use
// f.Go(ctx, pool, in), which returns a Future. ctx is the call's context:
// when it ends, the worker is told to cancel the call, and killed (then
// replaced) if the call does not return within the cancel grace. Apply
// returns f's error (a [*execkit.PanicError] if it panicked), a
// [*WorkerError] if the worker died meanwhile, or the pool's refusal
// ([execkit.ErrClosed], [ErrTerminated], [ErrBroken]); for a nil f, an
// error wrapping [execkit.ErrNotRegistered]. It is safe for concurrent use.
func Apply[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], in In) (Out, error) {
	if f.Name() == "" { // nil, or a zero Func: not made by Register
		var zero Out
		return zero, fmt.Errorf("subprocess: Apply with a nil Func: %w", execkit.ErrNotRegistered)
	}
	if p == nil || p.done == nil {
		var zero Out
		return zero, fmt.Errorf("subprocess: Apply with a Pool not made by New: %w", execkit.ErrNilExecutor)
	}
	return f.Go(ctx, direct{p}, in).Wait(context.Background())
}

// direct is an Executor whose Submit runs the task in the calling
// goroutine, through the pool: Apply uses it so that the call costs no
// goroutine switch besides the worker's round trip.
type direct struct{ p *Pool }

func (d direct) Submit(ctx context.Context, t execkit.Task) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p := d.p
	pt, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	if err := p.admit(1); err != nil {
		return err
	}
	defer p.inflight.Done()
	p.runPortable(ctx, pt)
	return nil
}

func (d direct) Shutdown(ctx context.Context) error { return nil }

// admit counts one more unit of admitted work, made of tasks tasks (the
// chunks of a Map), or says why not.
func (p *Pool) admit(tasks int) error {
	p.mu.Lock()
	err := p.admitLocked()
	p.mu.Unlock()
	if err != nil {
		p.counters.Reject()
		return err
	}
	for range tasks {
		p.counters.Admit()
	}
	return nil
}

// finishChunk counts a chunk of a Map (a task, in the counters) that ended
// with err, the error of its first failing item.
func (p *Pool) finishChunk(err error) {
	p.counters.Start()
	p.counters.Finish(err)
}

// Map calls f on every item in the workers and returns the results in
// input order: the counterpart of Pool.map. Items travel in chunks, one
// frame each way per chunk, of ceil(len(items) / (4 * workers)) items
// (Python's default) unless [ChunkSize] says otherwise; a chunk runs in
// one worker, item after item. A chunk whose items do not fit in one frame
// (64 MiB) together is split until they do. A chunk is one call: its
// results travel together, after its last item, so when it fails as a
// whole (its worker dies while it runs it, its results do not fit in a
// frame) every item of it fails, those that had returned in the worker
// too, and the error names the chunk's items ("Map items 4 to 7"), not the
// one that was running. An item too large alone fails
// with an error wrapping [ErrTooLarge], and so does a chunk whose results
// total more than 64 MiB per item. An item whose argument or result the
// codec cannot encode or decode fails alone, with an error wrapping
// [execkit.ErrPayload]; the other items of its chunk run. Map blocks until
// every chunk has returned.
// At the first error it cancels the chunks not done and returns that error,
// naming the item; when ctx ends first it cancels them all and returns
// ctx.Err(). When the pool gives up on it, it returns why: [ErrTerminated]
// (Terminate), an [ErrBroken], or an error saying Shutdown's context ended.
// Either way it waits for the cancelled chunks (at most the cancel grace).
// ctx's deadline travels with each chunk: every item's ctx in the worker
// has it, and the function's policy ([execkit.TimeLimit], [execkit.Retry])
// applies to each item there. A function with an [execkit.RateLimit] is
// mapped item by item instead, each item a call with its policy in this
// process, as a submitted task's is, on at most as many items at once as
// the pool has workers: so the pool's one bucket paces every item and
// every retry (a worker process would keep a bucket of its own), and each
// item counts as a task in [Pool.Stats], with its retries and timeouts.
// It is safe for concurrent use; after Shutdown began it returns
// [execkit.ErrClosed]; for a nil f, an error wrapping
// [execkit.ErrNotRegistered].
func Map[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items []In, opts ...MapOption) ([]Out, error) {
	if f.Name() == "" { // nil, or a zero Func: not made by Register
		return nil, fmt.Errorf("subprocess: Map with a nil Func: %w", execkit.ErrNotRegistered)
	}
	if p == nil || p.done == nil {
		return nil, fmt.Errorf("subprocess: Map with a Pool not made by New: %w", execkit.ErrNilExecutor)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := mapConfig{chunk: max(1, (len(items)+4*p.n-1)/(4*p.n))}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("subprocess: Map with a nil MapOption (option %d)", i+1)
		}
		o.applyMap(&cfg)
	}
	cfg.chunk = min(cfg.chunk, max(len(items), 1)) // one chunk of them all, at most: (len + chunk - 1) overflowed for a huge chunk
	nchunks := (len(items) + cfg.chunk - 1) / cfg.chunk
	pace := paced(f)
	if pace {
		nchunks = len(items) // item by item: see paced
	}
	if err := p.admit(nchunks); err != nil {
		return nil, err
	}
	defer p.inflight.Done()
	out := make([]Out, len(items))
	if len(items) == 0 {
		return out, nil
	}
	ctx, cancel := p.taskContext(ctx)
	defer cancel()
	if pace {
		if err := mapPaced(ctx, p, f, items, out); err != nil {
			return nil, err
		}
		return out, nil
	}

	notify := newMailbox()
	calls := make([]*call, 0, nchunks)
	first := make(map[*call]int, nchunks) // the index of each chunk's first item
	var firstErr error
	stop := func(err error) {
		if firstErr == nil {
			firstErr = err
			for _, c := range calls {
				p.cancelCall(c, err, expired(ctx)) // not err: an item's error may wrap context.DeadlineExceeded
			}
		}
	}
	// Each chunk is queued as soon as it is encoded, so the workers start
	// while the rest is being encoded. A chunk too large for a frame goes
	// as several (each counted as a chunk).
	admitted := nchunks
	for lo := 0; lo < len(items); lo += cfg.chunk {
		hi := min(lo+cfg.chunk, len(items))
		parts := 0
		err := newBatches(p, "Map", f, items[lo:hi], lo, deadlineOf(ctx), notify, func(c *call, lo int) error {
			if parts++; parts > 1 {
				admitted++
				p.counters.Admit()
			}
			if err := p.enqueue(ctx, c); err != nil {
				return err
			}
			calls = append(calls, c)
			first[c] = lo
			return nil
		})
		if err != nil {
			for range admitted - len(calls) {
				p.finishChunk(err)
			}
			stop(cmp.Or(p.ctxErr(ctx), err))
			break
		}
	}

	for range calls {
		c := notify.take(ctx.Done())
		if c == nil {
			stop(p.ctxErr(ctx))
			c = notify.take(nil)
		}
		lo := first[c]
		awaitDeadline(ctx, c)
		itemErr, whole := batchResults(c, f, out[lo:lo+c.items], p.ctxErr(ctx))
		var chunkErr error
		bad := 0
		for ; bad < c.items && chunkErr == nil; bad++ {
			chunkErr = itemErr(bad)
		}
		bad--
		if chunkErr != nil && firstErr == nil {
			if err := p.ctxErr(ctx); err != nil {
				stop(err)
			} else if ended(chunkErr) {
				stop(chunkErr)
			} else if whole != nil && c.items > 1 {
				stop(fmt.Errorf("subprocess: Map items %d to %d (one chunk, which failed as a whole): %w", lo, lo+c.items-1, chunkErr))
			} else {
				stop(fmt.Errorf("subprocess: Map item %d: %w", lo+bad, chunkErr))
			}
		}
		p.finishChunk(chunkErr)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// newBatches encodes items, those from index lo of the input, as BATCH
// calls of f, for Map and MapUnordered, and passes each to emit, in order,
// with the index of its first item; it stops at emit's first error. The
// items go as one call, or, when they do not fit in a frame together,
// whatever the chunk size says, split in halves until they do. An item
// that does not encode, or does not fit in a frame alone, is named in the
// error.
func newBatches[In, Out any](p *Pool, what string, f *execkit.Func[In, Out], items []In, lo int, deadline int64, notify *mailbox, emit func(c *call, lo int) error) error {
	payload, err := driver.EncodeBatch(f, items)
	if err != nil {
		for i := range items { // find the item, to name it
			if _, err := driver.EncodeBatch(f, items[i:i+1]); err != nil {
				return fmt.Errorf("subprocess: %s item %d: %w", what, lo+i, err)
			}
		}
		return fmt.Errorf("subprocess: %s items %d to %d: %w", what, lo, lo+len(items)-1, err)
	}
	req := request{name: f.Name(), args: [][]byte{payload}, deadline: deadline} // the deadline counts in the frame's size too
	if n := req.frameSize(); n > maxFrame {
		if len(items) == 1 {
			return tooLarge("subprocess: %s item %d: its argument makes a frame of %d bytes, over the %s frame limit even alone in its chunk", what, lo, n, limitText())
		}
		payload, req = nil, request{} // free them before the halves are encoded
		half := len(items) / 2
		if err := newBatches(p, what, f, items[:half], lo, deadline, notify, emit); err != nil {
			return err
		}
		return newBatches(p, what, f, items[half:], lo+half, deadline, notify, emit)
	}
	c, err := p.newCall(frameBatch, req, len(items), notify)
	if err != nil {
		return fmt.Errorf("subprocess: %s items %d to %d: %w", what, lo, lo+len(items)-1, err)
	}
	return emit(c, lo)
}

// awaitDeadline waits for ctx's end when the worker saw its deadline pass
// in running the resolved call c (an outcome says
// context.DeadlineExceeded) before ctx's timer fired here. The worker's ctx
// has this ctx's deadline, on the wall clock: it may pass there a moment
// before this ctx's timer fires. Waiting for it, the caller sees its own
// ctx's error (a TimeLimit's cause above all), as in process, and a chunk
// fails with ctx's error, not an item's; but not for a deadline of the
// function's own making, unrelated to this one.
func awaitDeadline(ctx context.Context, c *call) {
	if c.err != nil || ctx.Err() != nil {
		return
	}
	for _, o := range c.outs {
		if o.kind == kindDeadline {
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < deadlineSkew {
				<-ctx.Done()
			}
			return
		}
	}
}

// batchResults decodes the results of the resolved BATCH call c into out
// (len(out) == c.items) and returns the error of each item, or nil, and
// the error of the chunk as a whole, or nil: when it is not nil (its worker
// died, say), every item's error is that one, whether or not the item ran.
// ctxErr is the error of the call's context, if it ended.
func batchResults[In, Out any](c *call, f *execkit.Func[In, Out], out []Out, ctxErr error) (itemErr func(i int) error, whole error) {
	err := c.batchErr(ctxErr)
	if err == nil && f == nil {
		err = execkit.ErrNotRegistered
	}
	var refused []error // a result the codec refused fails its item alone
	if err == nil {
		// Straight into out: no slice of results per chunk to copy.
		err = link.DecodeBatchInto(f, c.outs[0].data, out, func(i int, err error) {
			if refused == nil {
				refused = make([]error, len(out))
			}
			refused[i] = err
		})
		if errors.Is(err, link.ErrBatchCount) { // the worker broke the protocol
			err = fmt.Errorf("%w: %w", ErrProtocol, err)
		}
	}
	if err != nil {
		return func(int) error { return err }, err
	}
	return func(i int) error {
		if err := c.itemErr(i, ctxErr); err != nil || refused == nil {
			return err
		}
		return refused[i]
	}, nil
}
