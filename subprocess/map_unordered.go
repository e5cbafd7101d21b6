package subprocess

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// MapUnordered calls f on every item of items in the workers and yields
// each result (or error) as soon as its chunk returns, in completion order:
// the counterpart of Pool.imap_unordered. Chunks hold 1 item unless
// [ChunkSize] says otherwise. Unlike imap_unordered, which reads the
// whole input at once, it reads items only as fast as results are taken:
// at most 16 chunks per worker are outstanding, and a consumer that stops
// taking results stops the input too. MapUnordered returns at once and
// starts nothing; each step of the range blocks until the next result (or
// error) is in.
//
// An error (f's, a [*WorkerError], a payload that does not encode) is
// yielded in place of that item's result, naming the item, and the loop
// goes on. A chunk that fails as a whole (its worker died while it ran
// it: see [Map]) yields every one of its items with its error, each
// saying so and naming the chunk's items. Breaking out of the loop cancels the chunks still outstanding
// and waits for them (at most the cancel grace). When ctx ends, the
// outstanding chunks are cancelled, ctx.Err() is yielded once, and the
// sequence ends; so it does when the pool gives up on the call, yielding
// why, as [Map] returns it. Refusals ([execkit.ErrClosed] once Shutdown
// or Terminate has begun, ...) are
// yielded once, and so is an error wrapping [execkit.ErrNotRegistered]
// for a nil f. ctx's deadline and the function's policy reach each item
// in the worker, as in [Map], and a function with an [execkit.RateLimit]
// is mapped item by item, as in [Map]. The sequence may be ranged over once per
// call; the items' iterator is called from the ranging goroutine.
func MapUnordered[In, Out any](ctx context.Context, p *Pool, f *execkit.Func[In, Out], items iter.Seq[In], opts ...MapOption) iter.Seq2[Out, error] {
	return func(yield func(Out, error) bool) {
		var zero Out
		if f.Name() == "" { // nil, or a zero Func: not made by Register
			yield(zero, fmt.Errorf("subprocess: MapUnordered with a nil Func: %w", execkit.ErrNotRegistered))
			return
		}
		if p == nil || p.done == nil {
			yield(zero, fmt.Errorf("subprocess: MapUnordered with a Pool not made by New: %w", execkit.ErrNilExecutor))
			return
		}
		if ctx == nil {
			ctx = context.Background()
		}
		if items == nil { // no items
			items = func(func(In) bool) {}
		}
		cfg := mapConfig{chunk: 1}
		for i, o := range opts {
			if o == nil {
				yield(zero, fmt.Errorf("subprocess: MapUnordered with a nil MapOption (option %d)", i+1))
				return
			}
			o.applyMap(&cfg)
		}
		if err := p.admit(0); err != nil {
			yield(zero, err)
			return
		}
		defer p.inflight.Done()
		ctx, cancel := p.taskContext(ctx)
		defer cancel()
		if paced(f) {
			mapUnorderedPaced(ctx, p, f, items, yield)
			return
		}

		limit := p.n * p.perWorker
		notify := newMailbox()
		first := make(map[*call]int, limit) // the chunks outstanding; written under firstMu
		var firstMu sync.Mutex
		var chunk []In // items read and not sent yet
		// At the end, cancel and wait for what is still outstanding.
		defer func() {
			firstMu.Lock()
			left := slices.Collect(maps.Keys(first))
			firstMu.Unlock()
			for _, c := range left {
				p.cancelCall(c, context.Canceled, expired(ctx))
			}
			for range left {
				notify.take(nil)
				p.finishChunk(context.Canceled)
			}
		}()
		// When ctx ends, the chunks outstanding are cancelled at once, as
		// Map's are, not when the range asks for the next value: a chunk
		// a worker held would start meanwhile, its ctx alive there, and a
		// running one would go on, while the consumer's loop body runs.
		// (Stopped before the deferred cancel above, which is not ctx's
		// end.)
		defer context.AfterFunc(ctx, func() {
			err, exp := p.ctxErr(ctx), expired(ctx)
			firstMu.Lock()
			defer firstMu.Unlock()
			for c := range first {
				p.cancelCall(c, err, exp)
			}
		})()

		// take waits for one chunk and yields its outcomes; false means stop.
		take := func() bool {
			c := notify.take(ctx.Done())
			if c == nil {
				yield(zero, p.ctxErr(ctx))
				return false
			}
			lo := first[c]
			firstMu.Lock()
			delete(first, c)
			firstMu.Unlock()
			// The pool's end, or the ctx's: a chunk queued when ctx
			// ended is not sent (see feed), and fails with ctx's error,
			// not an item's. Said once, the sequence ends.
			if c.err != nil && (ended(c.err) || ctx.Err() != nil && c.err == p.ctxErr(ctx)) {
				p.finishChunk(c.err)
				yield(zero, c.err)
				return false
			}
			out := make([]Out, c.items)
			awaitDeadline(ctx, c)
			ctxErr := p.ctxErr(ctx)
			itemErr, whole := batchResults(c, f, out, ctxErr)
			var chunkErr error
			defer func() { p.finishChunk(chunkErr) }()
			for i, v := range out {
				err := itemErr(i)
				if err != nil && chunkErr == nil {
					chunkErr = err
				}
				if err != nil && err == ctxErr {
					// Cancelled by ctx's end (or stopped by it): not an
					// item's failure. Said once, the sequence ends.
					yield(zero, err)
					return false
				}
				switch {
				case err != nil && whole != nil && c.items > 1:
					err = fmt.Errorf("subprocess: MapUnordered item %d (of the chunk of items %d to %d, which failed as a whole): %w", lo+i, lo, lo+c.items-1, err)
				case err != nil:
					err = fmt.Errorf("subprocess: MapUnordered item %d: %w", lo+i, err)
				}
				if !yield(v, err) {
					return false
				}
			}
			return true
		}
		// send sends items, from index lo of the input, as a chunk once
		// there is room; false means stop. When an item does not encode,
		// the items go one by one, so that only that one fails.
		var send func(items []In, lo int) bool
		send = func(items []In, lo int) bool {
			payload, err := driver.EncodeBatch(f, items)
			if err != nil && len(items) > 1 {
				for i := range items {
					if !send(items[i:i+1], lo+i) {
						return false
					}
				}
				return true
			}
			req := request{name: f.Name(), args: [][]byte{payload}, deadline: deadlineOf(ctx)} // the deadline counts in the frame's size too
			if n := req.frameSize(); err == nil && n > maxFrame {
				// Too large for a frame together: in halves, whatever
				// the chunk size says.
				if len(items) > 1 {
					payload, req = nil, request{} // free them before the halves are encoded
					half := len(items) / 2
					return send(items[:half], lo) && send(items[half:], lo+half)
				}
				err = tooLarge("its argument makes a frame of %d bytes, over the %s frame limit even alone in its chunk", n, limitText())
			}
			for len(first) >= limit {
				if !take() {
					return false
				}
			}
			p.counters.Admit()
			var c *call
			if err != nil {
				err = fmt.Errorf("subprocess: MapUnordered item %d: %w", lo, err)
			} else {
				c, err = p.newCall(frameBatch, req, len(items), notify)
				if err == nil {
					err = p.enqueue(ctx, c)
				}
				if err != nil && (ended(err) || ctx.Err() != nil) {
					// The pool ended, or the call: said once, the sequence ends.
					p.finishChunk(err)
					yield(zero, cmp.Or(p.ctxErr(ctx), err))
					return false
				}
				if err != nil {
					err = fmt.Errorf("subprocess: MapUnordered items %d to %d: %w", lo, lo+len(items)-1, err)
				}
			}
			if err != nil {
				p.finishChunk(err)
				return yield(zero, err)
			}
			firstMu.Lock()
			first[c] = lo
			firstMu.Unlock()
			if ctx.Err() != nil { // ended before c was in first: the AfterFunc missed it
				p.cancelCall(c, p.ctxErr(ctx), expired(ctx))
			}
			return true
		}
		next := 0 // index of the next item read
		flush := func() bool {
			if len(chunk) == 0 {
				return true
			}
			items := chunk
			chunk = nil
			return send(items, next-len(items))
		}

		for item := range items {
			chunk = append(chunk, item)
			next++
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
