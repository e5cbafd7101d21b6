package gate

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
)

// closedBit marks a gate that admits nothing more; the bits below it count
// the slots in use.
const closedBit = 1 << 62

// A Gate is a counting semaphore for admission. Init it before use. Its
// methods are safe for concurrent use.
//
// The fast paths (a free slot, no waiters; a release with no waiters) are a
// CAS or an add on one word. Waiters queue in FIFO order under mu, in an
// intrusive list of pooled waiters, so that waiting allocates nothing.
type Gate struct {
	state atomic.Int64 // slots in use | closedBit
	limit atomic.Int64
	nwait atomic.Int64 // waiters queued, or about to queue

	maxWaiting int                  // < 0: unbounded
	slack      int64                // waiters are woken once no more than limit-slack slots are in use
	clock      func() time.Duration // nil: waits are not timed

	mu         sync.Mutex
	head, tail *waiter // FIFO
	queued     int

	waited   atomic.Int64 // admissions that had to wait
	waitTime atomic.Int64 // their total wait, in nanoseconds

	idle     chan struct{} // closed once the gate is closed and no slot is in use
	idleOnce sync.Once

	// waiters recycles this gate's waiters. One pool per gate, not one for
	// every gate: a waiter's channel made in a synctest bubble must not
	// reach a Wait outside it (the runtime kills the process), and a gate
	// made in a bubble is used in that bubble.
	waiters sync.Pool
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

// A Result is the outcome of a non-blocking attempt to take a slot.
type Result uint8

const (
	Acquired Result = iota // took a slot
	Full                   // no slot free (or others wait for one)
	Closed                 // the gate is closed
)

// Init sets the number of slots (limit >= 1) and how many callers may wait
// in Wait at once (maxWaiting < 0: any number; 0: Wait never waits). clock
// times the waits (see [Monotonic]); nil leaves them untimed, which saves
// two clock reads per wait.
func (g *Gate) Init(limit, maxWaiting int, clock func() time.Duration) {
	g.limit.Store(int64(limit))
	g.maxWaiting = maxWaiting
	g.clock = clock
	g.idle = make(chan struct{})
}

// Try is the fast path: it takes a free slot when nobody waits for one.
func (g *Gate) Try() Result {
	if g.nwait.Load() != 0 {
		return Full
	}
	return g.TryAcquire()
}

// TryAcquire takes a slot if one is free and the gate is open, ahead of
// any waiters.
func (g *Gate) TryAcquire() Result {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return Closed
		}
		if s >= g.limit.Load() {
			return Full
		}
		if g.state.CompareAndSwap(s, s+1) {
			return Acquired
		}
	}
}

// TryAcquireNested takes a slot for work that a holder of a slot adds (a
// running task's follow-up): a free one, or beyond the limit when beyond is
// set, and also when the gate is closed, as long as some slot is still in
// use. It returns Full when no slot is free (and beyond is not set), and
// Closed only once the gate is closed and every slot has been given back
// (Idle is closed or about to be): a closed gate admits work from its
// holders until it is idle, and nothing after.
func (g *Gate) TryAcquireNested(beyond bool) Result {
	for {
		s := g.state.Load()
		used := s &^ closedBit
		switch {
		case s&closedBit != 0 && used == 0:
			return Closed
		case !beyond && used >= g.limit.Load():
			return Full
		}
		if g.state.CompareAndSwap(s, s+1) {
			return Acquired
		}
	}
}

// Wait takes a slot, waiting for one until ctx ends. It first yields the
// processor a few times (a slot is often back within microseconds), then
// queues: queued callers get slots in FIFO order. It returns nil with a
// slot, else execkit.ErrClosed (the gate is or got closed),
// execkit.ErrFull (maxWaiting callers are queued already), or ctx.Err().
// Every Wait that returns nil adds its wait to Waited.
func (g *Gate) Wait(ctx context.Context) error {
	var start time.Duration
	if g.clock != nil {
		start = g.clock()
	}
	// A slot is often given back within a few hundred nanoseconds: yield a
	// few times before queueing, which is much cheaper than parking.
	for i := 0; i < spins && g.maxWaiting != 0; i++ {
		runtime.Gosched()
		if g.nwait.Load() == 0 && g.TryAcquire() == Acquired {
			g.timed(start)
			return nil
		}
	}
	g.mu.Lock()
	// Announce the waiter before the last look, so that a release that
	// frees a slot after this look sees nwait > 0 and wakes the queue.
	g.nwait.Add(1)
	if g.queued == 0 {
		switch g.TryAcquire() {
		case Acquired:
			g.nwait.Add(-1)
			g.mu.Unlock()
			g.timed(start)
			return nil
		case Closed:
			g.nwait.Add(-1)
			g.mu.Unlock()
			return execkit.ErrClosed
		}
	}
	if g.maxWaiting >= 0 && g.queued >= g.maxWaiting {
		g.nwait.Add(-1)
		g.mu.Unlock()
		return execkit.ErrFull
	}
	w, _ := g.waiters.Get().(*waiter)
	if w == nil {
		w = &waiter{ready: make(chan struct{}, 1)}
	}
	g.push(w)
	g.mu.Unlock()

	done := ctx.Done()
	if done == nil { // context.Background(): a plain receive is cheaper than a select
		<-w.ready
	} else {
		select {
		case <-w.ready:
		case <-done:
			g.mu.Lock()
			if w.inQueue {
				g.remove(w)
				g.nwait.Add(-1)
				g.mu.Unlock()
				g.waiters.Put(w)
				return ctx.Err()
			}
			g.mu.Unlock()
			<-w.ready // granted (or closed) as ctx ended: keep that outcome
		}
	}
	err := w.err
	w.err = nil
	g.waiters.Put(w)
	if err != nil {
		return err
	}
	g.timed(start)
	return nil
}

// timed counts a wait that started at start and got a slot.
func (g *Gate) timed(start time.Duration) {
	g.waited.Add(1)
	if g.clock != nil {
		g.waitTime.Add(int64(g.clock() - start))
	}
}

func (g *Gate) push(w *waiter) {
	w.inQueue, w.prev, w.next = true, g.tail, nil
	if g.tail == nil {
		g.head = w
	} else {
		g.tail.next = w
	}
	g.tail = w
	g.queued++
}

func (g *Gate) remove(w *waiter) {
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

// SetSlack makes Release wake the waiters only once at most limit-n slots
// are in use, rather than at every free slot, so that a submitter blocked
// on a full queue is woken once per n tasks instead of once per task (a
// goroutine handoff each). n must be below the limit, so that waiters are
// woken before every slot is free; call it before the gate is used.
func (g *Gate) SetSlack(n int) { g.slack = int64(n) }

// Release gives a slot back and hands free slots to the queue.
func (g *Gate) Release() {
	s := g.state.Add(-1)
	if g.nwait.Load() > 0 && s&^closedBit <= g.limit.Load()-g.slack {
		g.wake()
	}
	if s == closedBit {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// wake grants free slots to the waiters at the front of the queue.
func (g *Gate) wake() {
	g.mu.Lock()
	for w := g.head; w != nil; w = g.head {
		if g.TryAcquire() != Acquired {
			break
		}
		g.remove(w)
		g.nwait.Add(-1)
		w.ready <- struct{}{}
	}
	g.mu.Unlock()
}

// SetLimit changes the number of slots; a larger limit is handed to the
// waiters at once, a smaller one takes effect as slots are given back.
func (g *Gate) SetLimit(n int) {
	g.limit.Store(int64(n))
	if g.nwait.Load() > 0 {
		g.wake()
	}
}

// Close stops admission: every waiter gets execkit.ErrClosed, and Idle is
// closed once the slots in use are given back. It reports whether this call
// closed the gate.
func (g *Gate) Close() bool {
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

// spins is how often Wait yields before it queues.
const spins = 3

// epoch is the origin of Monotonic.
var epoch = time.Now()

// Monotonic is the clock that times waits: the monotonic time since the
// process started. It reads only the monotonic clock, which costs about
// half of time.Now.
func Monotonic() time.Duration { return time.Since(epoch) }

// Used returns the slots in use.
func (g *Gate) Used() int { return int(g.state.Load() &^ closedBit) }

// Limit returns the number of slots.
func (g *Gate) Limit() int { return int(g.limit.Load()) }

// Waiting returns the number of callers waiting in Wait now.
func (g *Gate) Waiting() int { return int(g.nwait.Load()) }

// Waited returns how many Wait calls waited before they got a slot, and
// their total time waiting.
func (g *Gate) Waited() (n int64, total time.Duration) {
	return g.waited.Load(), time.Duration(g.waitTime.Load())
}

// IsClosed reports whether Close was called.
func (g *Gate) IsClosed() bool { return g.state.Load()&closedBit != 0 }

// Idle returns a channel closed once the gate is closed and every slot has
// been given back.
func (g *Gate) Idle() <-chan struct{} { return g.idle }
