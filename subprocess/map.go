package subprocess

import (
	"context"
	"fmt"
	"iter"

	"github.com/execkit/execkit"
)

// Apply calls f(in) in a worker and blocks until it returns: the
// counterpart of Pool.apply. For the counterpart of apply_async, use
// f.Go(ctx, pool, in), which returns a Future. ctx is the call's context:
// when it ends, the worker is told to cancel the call, and killed (then
// replaced) if the call does not return within the cancel grace. Apply
// returns f's error (a [*execkit.PanicError] if it panicked), a
// [*WorkerError] if the worker died meanwhile, or the pool's refusal
// ([execkit.ErrClosed], [ErrTerminated], [ErrBroken]). It is safe for
// concurrent use.
func Apply[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], in In) (Out, error) {
	if f == nil {
		var zero Out
		return zero, fmt.Errorf("subprocess: Apply with a nil Func: %w", execkit.ErrNilTask)
	}
	return f.Go(ctx, direct{p}, in).Wait(context.Background())
}

// direct is an Executor whose Submit runs the task in the calling
// goroutine, through the pool: Apply uses it so that the call costs no
// goroutine switch besides the worker's round trip.
type direct struct{ p *Pool }

func (d direct) Submit(ctx context.Context, t execkit.Task) error {
	p := d.p
	pt, ok := t.(execkit.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	if err := p.admit(1); err != nil {
		return err
	}
	defer p.inflight.Done()
	ctx, cancel := p.taskContext(ctx)
	defer cancel()
	p.counters.Start()
	p.counters.Finish(runVia(ctx, pt, p.invoke))
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
// (Python's default) unless [WithChunkSize] says otherwise; a chunk runs in
// one worker, item after item. Map blocks until every chunk has returned.
// At the first error it cancels the chunks not done and returns that error,
// naming the item; when ctx ends first it cancels them all and returns
// ctx.Err(). Either way it waits for the cancelled chunks (at most the
// cancel grace). It is safe for concurrent use; after Shutdown began it
// returns [execkit.ErrClosed].
func Map[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items []In, opts ...MapOption) ([]Out, error) {
	if f == nil {
		return nil, fmt.Errorf("subprocess: Map with a nil Func: %w", execkit.ErrNilTask)
	}
	cfg := mapConfig{chunk: max(1, (len(items)+4*p.n-1)/(4*p.n))}
	for _, o := range opts {
		if o != nil {
			o.applyMap(&cfg)
		}
	}
	nchunks := (len(items) + cfg.chunk - 1) / cfg.chunk
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

	codec := f.Codec()
	notify := make(chan *call, nchunks)
	calls := make([]*call, 0, nchunks)
	first := make(map[*call]int, nchunks) // the index of each chunk's first item
	var firstErr error
	stop := func(err error) {
		if firstErr == nil {
			firstErr = err
			for _, c := range calls {
				p.cancelCall(c, err)
			}
		}
	}
	// Each chunk is queued as soon as it is encoded, so the workers start
	// while the rest is being encoded.
	for lo := 0; lo < len(items); lo += cfg.chunk {
		hi := min(lo+cfg.chunk, len(items))
		args := make([][]byte, hi-lo)
		var err error
		for i := range args {
			if args[i], err = encodeValue(codec, items[lo+i]); err != nil {
				err = fmt.Errorf("subprocess: Map item %d: %w: argument of %q: %v", lo+i, execkit.ErrPayload, f.Name(), err)
				break
			}
		}
		var c *call
		if err == nil {
			if c, err = p.newCall(f.Name(), args, notify); err != nil {
				err = fmt.Errorf("subprocess: Map items %d to %d: %w", lo, hi-1, err)
			} else {
				err = p.enqueue(ctx, c)
			}
		}
		if err != nil {
			for range nchunks - len(calls) {
				p.finishChunk(err)
			}
			stop(err)
			break
		}
		calls = append(calls, c)
		first[c] = lo
	}

	for range calls {
		var c *call
		select {
		case c = <-notify:
		case <-ctx.Done():
			stop(ctx.Err())
			c = <-notify
		}
		lo := first[c]
		var chunkErr error
		for i := range c.req.args {
			var err error
			if err = c.outcomeErr(i, ctx.Err()); err == nil {
				out[lo+i], err = decodeValue[Out](codec, c.outs[i].data)
				if err != nil {
					err = fmt.Errorf("%w: result of %q: %v", execkit.ErrPayload, f.Name(), err)
				}
			}
			if err != nil && chunkErr == nil {
				chunkErr = err
			}
			if err != nil && firstErr == nil {
				if ctx.Err() != nil {
					stop(ctx.Err())
				} else {
					stop(fmt.Errorf("subprocess: Map item %d: %w", lo+i, err))
				}
			}
		}
		p.finishChunk(chunkErr)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// MapUnordered calls f on every item of items in the workers and yields
// each result (or error) as soon as its chunk returns, in completion order:
// the counterpart of Pool.imap_unordered. Chunks hold 1 item unless
// [WithChunkSize] says otherwise. Unlike imap_unordered, which reads the
// whole input at once, it reads items only as fast as results are taken:
// at most 16 chunks per worker are outstanding, and a consumer that stops
// taking results stops the input too.
//
// An error (f's, a [*WorkerError], a payload that does not encode) is
// yielded in place of that item's result, naming the item, and the loop
// goes on. Breaking out of the loop cancels the chunks still outstanding
// and waits for them (at most the cancel grace). When ctx ends, the
// outstanding chunks are cancelled, ctx.Err() is yielded once, and the
// sequence ends. Refusals ([execkit.ErrClosed], ...) are yielded once. The
// sequence may be ranged over once per call; the items' iterator is
// called from the ranging goroutine.
func MapUnordered[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items iter.Seq[In], opts ...MapOption) iter.Seq2[Out, error] {
	return func(yield func(Out, error) bool) {
		var zero Out
		if f == nil {
			yield(zero, fmt.Errorf("subprocess: MapUnordered with a nil Func: %w", execkit.ErrNilTask))
			return
		}
		cfg := mapConfig{chunk: 1}
		for _, o := range opts {
			if o != nil {
				o.applyMap(&cfg)
			}
		}
		if err := p.admit(0); err != nil {
			yield(zero, err)
			return
		}
		defer p.inflight.Done()
		ctx, cancel := p.taskContext(ctx)
		defer cancel()

		codec := f.Codec()
		limit := p.n * perWorker
		notify := make(chan *call, limit)
		first := make(map[*call]int, limit)
		var chunk [][]byte // items read and not sent yet
		// At the end, cancel and wait for what is still outstanding.
		defer func() {
			for c := range first {
				p.cancelCall(c, context.Canceled)
			}
			for range first {
				<-notify
				p.finishChunk(context.Canceled)
			}
		}()

		// take waits for one chunk and yields its outcomes; false means stop.
		take := func() bool {
			var c *call
			select {
			case c = <-notify:
			case <-ctx.Done():
				yield(zero, ctx.Err())
				return false
			}
			lo := first[c]
			delete(first, c)
			var chunkErr error
			defer func() { p.finishChunk(chunkErr) }()
			for i := range c.req.args {
				var v Out
				err := c.outcomeErr(i, ctx.Err())
				if err == nil {
					if v, err = decodeValue[Out](codec, c.outs[i].data); err != nil {
						err = fmt.Errorf("%w: result of %q: %v", execkit.ErrPayload, f.Name(), err)
					}
				}
				if err != nil && chunkErr == nil {
					chunkErr = err
				}
				if err != nil {
					err = fmt.Errorf("subprocess: MapUnordered item %d: %w", lo+i, err)
				}
				if !yield(v, err) {
					return false
				}
			}
			return true
		}
		// flush sends a chunk once there is room; false means stop.
		next := 0 // index of the next item read
		flush := func() bool {
			if len(chunk) == 0 {
				return true
			}
			for len(first) >= limit {
				if !take() {
					return false
				}
			}
			lo := next - len(chunk)
			p.counters.Admit()
			c, err := p.newCall(f.Name(), chunk, notify)
			if err == nil {
				err = p.enqueue(ctx, c)
			}
			chunk = nil
			if err != nil {
				p.finishChunk(err)
				return yield(zero, fmt.Errorf("subprocess: MapUnordered items %d to %d: %w", lo, next-1, err))
			}
			first[c] = lo
			return true
		}

		for item := range items {
			b, err := encodeValue(codec, item)
			next++
			if err != nil {
				p.counters.Admit() // a task that fails at once
				p.finishChunk(err)
				if !yield(zero, fmt.Errorf("subprocess: MapUnordered item %d: %w: argument of %q: %v", next-1, execkit.ErrPayload, f.Name(), err)) {
					return
				}
				continue
			}
			chunk = append(chunk, b)
			if len(chunk) == cfg.chunk && !flush() {
				return
			}
		}
		if !flush() {
			return
		}
		for len(first) > 0 {
			if !take() {
				return
			}
		}
	}
}
