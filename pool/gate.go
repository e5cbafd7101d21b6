package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
)

// closedBit marks a gate that admits nothing more; the bits below it count
// the slots in use.
const closedBit = 1 << 62

// A gate is the admission control in front of the ants pool: a counting
// semaphore whose limit can change, whose waiters honour their ctx and can
// be bounded in number, and which tells when the last slot of a closed gate
// is given back. ants' own Submit waits without a ctx; the gate is what
// makes waiting cancellable, so the ants pool behind it never waits.
//
// The fast paths (a free slot, no waiters; a release with no waiters) are a
// CAS or an add on one word. Waiters queue in FIFO order under mu, in an
// intrusive list of pooled waiters, so that waiting allocates nothing.
type gate struct {
	state atomic.Int64 // slots in use | closedBit
	limit atomic.Int64
	nwait atomic.Int64 // waiters queued, or about to queue

	maxWaiting int // < 0: unbounded
	now        func() time.Time

	mu         sync.Mutex
	head, tail *waiter // FIFO
	queued     int

	waited   atomic.Int64 // admissions that had to wait
	waitTime atomic.Int64 // their total wait, in nanoseconds

	idle     chan struct{} // closed once the gate is closed and no slot is in use
	idleOnce sync.Once
}

// A waiter is one Submit waiting for a slot. It gets exactly one token on
// ready per wait: when it is granted a slot, or (with err set) when the gate
// closes. Both happen under the gate's mu, as it leaves the queue.
type waiter struct {
	ready      chan struct{} // capacity 1
	err        error
	prev, next *waiter
	inQueue    bool
}

var waiters = sync.Pool{New: func() any { return &waiter{ready: make(chan struct{}, 1)} }}

type tryResult uint8

const (
	acquired tryResult = iota
	full
	closed
)

func (g *gate) init(limit, maxWaiting int, now func() time.Time) {
	g.limit.Store(int64(limit))
	g.maxWaiting = maxWaiting
	g.now = now
	g.idle = make(chan struct{})
}

// try is the fast path: a free slot when nobody waits for one.
func (g *gate) try() tryResult {
	if g.nwait.Load() != 0 {
		return full
	}
	return g.tryAcquire()
}

// tryAcquire takes a slot if one is free and the gate is open.
func (g *gate) tryAcquire() tryResult {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return closed
		}
		if s >= g.limit.Load() {
			return full
		}
		if g.state.CompareAndSwap(s, s+1) {
			return acquired
		}
	}
}

// overAcquire takes a slot beyond the limit (for a task run inline); it
// fails only when the gate is closed.
func (g *gate) overAcquire() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// wait takes a slot, waiting for one in FIFO order until ctx ends. It
// returns nil with a slot, else execkit.ErrClosed, execkit.ErrFull (too many
// waiters already), or ctx.Err().
func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	// Announce the waiter before the last look, so that a release that
	// frees a slot after this look sees nwait > 0 and wakes the queue.
	g.nwait.Add(1)
	if g.queued == 0 {
		switch g.tryAcquire() {
		case acquired:
			g.nwait.Add(-1)
			g.mu.Unlock()
			return nil
		case closed:
			g.nwait.Add(-1)
			g.mu.Unlock()
			return execkit.ErrClosed
		}
	}
	if g.maxWaiting > 0 && g.queued >= g.maxWaiting {
		g.nwait.Add(-1)
		g.mu.Unlock()
		return execkit.ErrFull
	}
	w := waiters.Get().(*waiter)
	g.push(w)
	g.mu.Unlock()

	start := g.now()
	select {
	case <-w.ready:
	case <-ctx.Done():
		g.mu.Lock()
		if w.inQueue {
			g.remove(w)
			g.nwait.Add(-1)
			g.mu.Unlock()
			waiters.Put(w)
			return ctx.Err()
		}
		g.mu.Unlock()
		<-w.ready // granted (or closed) as ctx ended: keep that outcome
	}
	err := w.err
	w.err = nil
	waiters.Put(w)
	if err != nil {
		return err
	}
	g.waited.Add(1)
	g.waitTime.Add(int64(g.now().Sub(start)))
	return nil
}

func (g *gate) push(w *waiter) {
	w.inQueue, w.prev, w.next = true, g.tail, nil
	if g.tail == nil {
		g.head = w
	} else {
		g.tail.next = w
	}
	g.tail = w
	g.queued++
}

func (g *gate) remove(w *waiter) {
	if w.prev == nil {
		g.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		g.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.inQueue, w.prev, w.next = false, nil, nil
	g.queued--
}

// release gives a slot back and hands free slots to the queue.
func (g *gate) release() {
	s := g.state.Add(-1)
	if g.nwait.Load() > 0 {
		g.wake()
	}
	if s == closedBit {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// wake grants free slots to the waiters at the front of the queue.
func (g *gate) wake() {
	g.mu.Lock()
	for w := g.head; w != nil; w = g.head {
		if g.tryAcquire() != acquired {
			break
		}
		g.remove(w)
		g.nwait.Add(-1)
		w.ready <- struct{}{}
	}
	g.mu.Unlock()
}

// setLimit changes the number of slots; a larger limit is handed to the
// waiters at once, a smaller one takes effect as slots are given back.
func (g *gate) setLimit(n int) {
	g.limit.Store(int64(n))
	if g.nwait.Load() > 0 {
		g.wake()
	}
}

// close stops admission: every waiter gets execkit.ErrClosed, and idle is
// closed once the slots in use are given back. It reports whether this call
// closed the gate.
func (g *gate) close() bool {
	g.mu.Lock()
	old := g.state.Or(closedBit)
	if old&closedBit != 0 {
		g.mu.Unlock()
		return false
	}
	for w := g.head; w != nil; w = g.head {
		g.remove(w)
		w.err = execkit.ErrClosed
		w.ready <- struct{}{}
	}
	g.nwait.Store(0)
	g.mu.Unlock()
	if old == 0 {
		g.idleOnce.Do(func() { close(g.idle) })
	}
	return true
}

// used returns the slots in use.
func (g *gate) used() int { return int(g.state.Load() &^ closedBit) }
