package subprocess

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// A call is one CALL or BATCH frame: a function name with one argument (a
// task, an Apply) or a batch of them (a chunk of a Map), on its way to a
// worker and back.
type call struct {
	id     uint64
	req    request
	items  int             // a BATCH: the number of items in its one argument; 0 for a CALL
	frame  []byte          // the encoded CALL frame
	done   chan struct{}   // closed when resolved
	notify *mailbox        // if set, receives the call once resolved
	start  link.Starter    // if set, called (under Pool.mu) when a worker starts it: its TimeLimit runs from then
	ctx    context.Context // the context it was dispatched with: once it ended, the call is not sent (see feed)

	// Set before done is closed.
	outs []outcome // one per argument, unless err is set
	err  error     // the call failed as a whole (worker died, pool ended, cancelled)

	// Guarded by Pool.mu.
	state    callState
	seq      uint64      // its place in the order dispatch placed calls in, which p.calls keeps (see requeueLocked)
	w        *worker     // while sent
	revoking bool        // asked back from w, to run on an idle worker
	thief    *worker     // while revoking: the idle worker it is asked back for
	ctxErr   error       // the error of its context, once it ended
	timer    *time.Timer // kills the worker if a cancelled call does not return
}

type callState uint8

const (
	queued callState = iota
	sent
	resolved
)

// invoke is the pool's driver.Invoker: it runs one call of name in a
// worker and returns the encoded result, or the function's error rebuilt on
// this side. r is the runner of a submitted task, whose first call goes in
// its turn (see runner), or nil.
func (p *Pool) invoke(ctx context.Context, r *runner, name string, payload []byte) ([]byte, error) {
	start := link.StartHook(ctx) // the attempt's TimeLimit, if it has one
	req := request{name: name, args: [][]byte{payload}, deadline: deadlineOf(ctx)}
	if start != nil {
		req.limit = int64(start.Limit())
	}
	c, err := p.newCall(frameCall, req, 0, nil)
	if err != nil {
		return nil, err
	}
	c.start = start
	w, err := p.dispatch(ctx, true, r, c)
	for err == errNotYourTurn {
		if err = p.awaitTurn(ctx, r); err == nil {
			w, err = p.dispatch(ctx, true, r, c)
		}
	}
	if err != nil {
		return nil, err
	}
	if w != nil {
		p.readFor(ctx, w, c)
	} else {
		p.await(ctx, c)
	}
	if c.err != nil {
		return nil, c.err
	}
	awaitDeadline(ctx, c)
	o := c.outs[0]
	if o.kind != kindOK {
		return nil, errorOf(name, o, p.ctxErr(ctx))
	}
	return o.data, nil
}

// invokeDirect is invoke for a call that waits for no turn: one made in
// its caller's goroutine (Apply).
func (p *Pool) invokeDirect(ctx context.Context, name string, payload []byte) ([]byte, error) {
	return p.invoke(ctx, nil, name, payload)
}

// newCall encodes a call: a CALL frame, or a BATCH frame of items items
// (args then holds the one batch). It fails, wrapping ErrTooLarge and
// execkit.ErrPayload, when the frame would be too large.
func (p *Pool) newCall(typ byte, req request, items int, notify *mailbox) (*call, error) {
	if n := req.frameSize(); n > maxFrame {
		return nil, tooLarge("subprocess: the argument of %q makes a frame of %d bytes, over the %s frame limit", req.name, n, limitText())
	}
	id := p.nextID.Add(1)
	frame, err := appendFrame(make([]byte, 0, frameHeader+req.size()), typ, id, req.append)
	if err != nil {
		return nil, fmt.Errorf("subprocess: call of %q: %w", req.name, err)
	}
	return &call{id: id, req: req, items: items, frame: frame, done: make(chan struct{}), notify: notify}, nil
}

// wantOutcomes says whether n outcomes answer c: one per argument of a
// CALL; for a BATCH, one (its results, or its error) and maybe one per item.
func (c *call) wantOutcomes(n int) bool {
	if c.items > 0 {
		return n == 1 || n == 1+c.items
	}
	return n == len(c.req.args)
}

// enqueue queues calls for the workers, in order. It fails when ctx has
// ended or the pool ended (terminated, broken).
func (p *Pool) enqueue(ctx context.Context, cs ...*call) error {
	_, err := p.dispatch(ctx, false, nil, cs...)
	return err
}

// dispatch is enqueue. With read, when it sent the one call itself to an
// idle worker, it returns that worker, whose reading role (w.rmu) the
// caller then holds: the caller must call readFor. A runner r whose turn
// has not come gets errNotYourTurn (and is told when it comes, see
// awaitTurn); a nil r goes at once.
func (p *Pool) dispatch(ctx context.Context, read bool, r *runner, cs ...*call) (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endErr != nil {
		return nil, p.endErr
	}
	if err := p.ctxErr(ctx); err != nil {
		return nil, err
	}
	if r != nil && r.yielded {
		r.yielded = false
		p.takeTicketLocked(r)
	}
	if r != nil && r.ticket != 0 {
		if !p.turnLocked(r) {
			r.waits = true
			return nil, errNotYourTurn
		}
		// p.mu is held until the calls are in their place (sent, or in
		// p.calls; sendFast lets go of it only once c is w's), so the
		// next runner cannot go before them.
		p.giveTurnLocked(r)
	}
	for _, c := range cs {
		p.seq++
		c.seq, c.ctx = p.seq, ctx
	}
	if len(cs) == 1 && p.calls.len() == 0 && len(cs[0].frame) <= fastFrame {
		// The fast path: an idle worker whose feeder is not writing gets
		// the call from this goroutine, without waking the feeder. The
		// write does not block: the worker holds nothing, so it read
		// everything it was sent, and a small frame fits in the pipe's
		// buffer even if the worker stalled. (A larger one goes through
		// the feeder, whose write a kill ends: so the caller's ctx still
		// bounds the call.) With read, the caller also reads the result
		// itself, when no one else reads the worker's pipe: so a call
		// wakes no other goroutine in this process.
		// The worker used last first: the one least likely to have gone
		// to sleep (a process that has slept longer takes longer to wake,
		// and a round trip waits for that twice), then any other.
		if w := p.warm; w != nil && p.fastLocked(w, read) {
			return p.sendFast(w, cs[0])
		}
		for w := range p.workers {
			if w != p.warm && p.fastLocked(w, read) {
				return p.sendFast(w, cs[0])
			}
		}
	}
	for _, c := range cs {
		p.calls.push(c)
	}
	for w := range p.workers {
		// Only a feeder that refills now: one holding more is signalled
		// once its worker's answers bring it down to refillAt (see
		// feederHasWorkLocked), so that it is not woken for nothing on
		// every call.
		if len(w.sent) <= p.refillAt {
			w.signal()
		}
	}
	return nil, nil
}

// fastLocked reports whether w can take a call on dispatch's fast path: it
// is idle, its feeder is not writing, and (with read) no one reads its
// pipe. On true it holds w.wmu, and with read w.rmu too.
func (p *Pool) fastLocked(w *worker, read bool) bool {
	if len(w.sent) != 0 || w.awaiting != 0 || !p.hasRoomLocked(w) || w.readErr != nil {
		return false
	}
	reads := read && w.rmu.TryLock()
	if !w.wmu.TryLock() {
		if reads {
			w.rmu.Unlock()
		}
		return false
	}
	w.callerReading = reads
	return true
}

// sendFast sends c to w, which fastLocked took, from the calling goroutine:
// p.mu is held on entry and on return, but not during the write. It
// returns w when the caller reads c's result itself.
func (p *Pool) sendFast(w *worker, c *call) (*worker, error) {
	reads := w.callerReading
	p.warm = w
	p.sendLocked(w, c)
	p.mu.Unlock()
	_, err := w.reqW.Write(c.frame) // on error it died: its supervisor retires the call
	w.wmu.Unlock()
	_ = err
	p.mu.Lock() // for dispatch's deferred Unlock
	if reads {
		return w, nil
	}
	return nil, nil
}

// readFor reads w's results until c, which the caller sent to w, is
// resolved: the caller holds w.rmu (see dispatch). It then hands reading
// back to serve if w holds more calls, or reading ended, and waits for c
// as await does. When ctx ends meanwhile, c is cancelled as await does.
func (p *Pool) readFor(ctx context.Context, w *worker, c *call) {
	stop := context.AfterFunc(ctx, func() { p.cancelCall(c, p.ctxErr(ctx), expired(ctx)) })
	var err error
	for err == nil && !c.resolved() {
		err = p.readFrame(w)
	}
	p.mu.Lock()
	if err != nil && w.readErr == nil {
		w.readErr = err
	}
	w.callerReading = false
	wake := len(w.sent) > 0 || w.readErr != nil
	p.mu.Unlock()
	w.rmu.Unlock()
	if wake {
		w.wakeServe()
	}
	stop()
	p.await(ctx, c)
}

// expired reports whether ctx ended because a deadline passed: its own
// or its caller's (Err says context.DeadlineExceeded, whatever the
// cause), or its attempt's TimeLimit (whose clock cancels the ctx with
// the cause execkit.ErrTimeLimit itself, while its Err says
// context.Canceled). Not a plain cancel whose cause merely wraps
// context.DeadlineExceeded: Shutdown's ctx that passed its deadline, or a
// Map stopped by an item that failed so (in process, the functions' ctxs
// end with context.Canceled then).
func expired(ctx context.Context) bool {
	return ctx.Err() == context.DeadlineExceeded || context.Cause(ctx) == execkit.ErrTimeLimit
}

// resolved reports whether c is resolved; it never blocks.
func (c *call) resolved() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// deadlineOf returns ctx's deadline as a request carries it: Unix
// nanoseconds, 0 for none.
func deadlineOf(ctx context.Context) int64 {
	dl, ok := ctx.Deadline()
	switch {
	case !ok:
		return 0
	case dl.After(latestDeadline):
		// Past what Unix nanoseconds hold (2262): UnixNano would wrap
		// into the past, and the call would fail at once.
		return math.MaxInt64
	}
	return max(dl.UnixNano(), 1)
}

// latestDeadline is the latest deadline a frame carries as it is.
var latestDeadline = time.Unix(0, math.MaxInt64)

// deadlineSkew bounds how long invoke waits for a call's ctx to pass the
// deadline its worker says it passed.
const deadlineSkew = 50 * time.Millisecond

// fastFrame is the largest frame that enqueue writes from the caller's
// goroutine: PIPE_BUF, written at once into the pipe's buffer.
const fastFrame = 4 << 10

// await blocks until c is resolved. When ctx ends first it cancels c (see
// cancelCall) and still waits: a call resolves within the cancel grace.
func (p *Pool) await(ctx context.Context, c *call) {
	select {
	case <-c.done:
		return
	case <-ctx.Done():
	}
	p.cancelCall(c, p.ctxErr(ctx), expired(ctx))
	<-c.done
}

// cancelCall gives up on c because its context ended with err. A queued
// call resolves at once with err. A sent one is cancelled in its worker; if
// it has not returned after the grace period, the worker is killed (and c
// fails with err). expired says that a deadline ended the context: the
// worker is sent EXPIRE instead of CANCEL (see jobCtx).
func (p *Pool) cancelCall(c *call, err error, expired bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch c.state {
	case queued:
		p.resolveLocked(c, nil, err) // the feeder skips it
	case sent:
		if c.ctxErr != nil {
			return
		}
		w := c.w
		c.ctxErr = err
		typ := frameCancel
		if expired {
			typ = frameExpire // the function's ctx ends with context.DeadlineExceeded
		}
		w.ctrl = append(w.ctrl, ctrl{typ, c.id})
		w.signal()
		grace := p.cfg.grace
		c.timer = time.AfterFunc(grace, func() {
			p.mu.Lock()
			stuck := c.state == sent && c.w == w
			p.mu.Unlock()
			if stuck {
				w.kill(fmt.Errorf("subprocess: a cancelled task did not return within %v", grace))
			}
		})
	}
}

// resolveLocked records c's outcome, once.
func (p *Pool) resolveLocked(c *call, outs []outcome, err error) {
	if c.state == resolved {
		return
	}
	c.state = resolved
	c.w = nil
	if c.thief != nil {
		p.unrevokeLocked(c)
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.outs, c.err = outs, err
	close(c.done)
	if c.notify != nil {
		c.notify.put(c)
	}
}

// A mailbox receives the calls of one Map or MapUnordered as they resolve.
// Unlike a channel, it needs no capacity decided in advance: a chunk too
// large for a frame is split into more calls.
type mailbox struct {
	mu    sync.Mutex
	calls []*call
	ready chan struct{} // capacity 1: calls may not be empty
}

func newMailbox() *mailbox { return &mailbox{ready: make(chan struct{}, 1)} }

// put adds c; it never blocks (resolveLocked calls it under Pool.mu).
func (m *mailbox) put(c *call) {
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// take returns a resolved call, in the order they resolved, waiting for
// one; it returns nil if stop is closed first.
func (m *mailbox) take(stop <-chan struct{}) *call {
	for {
		m.mu.Lock()
		if len(m.calls) > 0 {
			c := m.calls[0]
			m.calls[0] = nil
			m.calls = m.calls[1:]
			m.mu.Unlock()
			return c
		}
		m.mu.Unlock()
		select {
		case <-m.ready:
		case <-stop:
			return nil
		}
	}
}

// batchErr returns the error of a resolved BATCH call as a whole (the
// worker died, the batch was cancelled, did not decode, ...), or nil.
func (c *call) batchErr(ctxErr error) error {
	if c.err != nil {
		return c.err
	}
	return errorOf(c.req.name, c.outs[0], ctxErr)
}

// itemErr returns the error of item i of a resolved BATCH call whose
// batchErr is nil.
func (c *call) itemErr(i int, ctxErr error) error {
	if len(c.outs) == 1 {
		return nil
	}
	return errorOf(c.req.name, c.outs[1+i], ctxErr)
}

// queue is a FIFO of values, with insert for calls taken back from a
// worker (see Pool.requeueLocked).
type queue[T any] struct {
	items []T
	head  int
}

func (q *queue[T]) len() int { return len(q.items) - q.head }

func (q *queue[T]) push(v T) { q.items = append(q.items, v) }

// peek returns the front item without taking it.
func (q *queue[T]) peek() (T, bool) {
	if q.head == len(q.items) {
		var zero T
		return zero, false
	}
	return q.items[q.head], true
}

func (q *queue[T]) pop() (T, bool) {
	var zero T
	if q.head == len(q.items) {
		return zero, false
	}
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v, true
}

// insert puts v at index i from the front.
func (q *queue[T]) insert(i int, v T) {
	if i == 0 && q.head > 0 {
		q.head--
		q.items[q.head] = v
		return
	}
	q.items = slices.Insert(q.items, q.head+i, v)
}

// requeueLocked puts calls taken back from a worker (given back unstarted,
// or held by one that died) back in p.calls, each in its place in the
// order dispatch placed them (seq), which p.calls keeps: so none waits
// behind calls placed after it, whatever order they come back in. With
// p.mu held.
func (p *Pool) requeueLocked(cs ...*call) {
	for _, c := range cs {
		c.state, c.w = queued, nil
		i, _ := slices.BinarySearchFunc(p.calls.items[p.calls.head:], c.seq, func(q *call, seq uint64) int {
			return cmp.Compare(q.seq, seq)
		})
		p.calls.insert(i, c)
	}
}
