package subprocess

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/shutdown"
	"github.com/execkit/execkit/internal/xrun"
)

const (
	// defaultPrefetch is how many calls a worker holds besides the one it
	// runs (see Prefetch), so that it never waits for the pool between two
	// calls, and so that calls travel in batches (one write for several
	// frames) when they are short. Calls spread over idle workers before
	// any is prefetched, and an idle worker takes back calls prefetched by
	// a busy one (see Pool.stealLocked).
	defaultPrefetch = 15
	maxPrefetch     = 1024
	// maxStartFailures in a row make the pool broken.
	maxStartFailures = 5
	// backoffBase and backoffMax bound the delay before a replacement
	// worker starts, after start failures or crashes in a row.
	backoffBase = 10 * time.Millisecond
	backoffMax  = time.Second
	// helloTimeout bounds the wait for a new worker's HELLO (and
	// StartTimeout its whole start, the initializer included).
	helloTimeout = 10 * time.Second
	// exitGrace is how long a worker let go may take to exit.
	exitGrace = 2 * time.Second
	// waitDelay bounds the wait for a dead worker's stderr to close.
	waitDelay = time.Second
	// tailSize is the size of the stderr tail kept per worker.
	tailSize = 8 << 10
)

// A Pool runs registered functions ([execkit.Func]) in worker processes:
// the counterpart of Python's multiprocessing.Pool. It is an
// [execkit.Executor] that accepts only [driver.Portable] tasks. Its
// methods are safe for concurrent use. Make one with [New]; the zero value
// is not usable.
type Pool struct {
	n         int
	perWorker int // the calls outstanding per worker: 1 + Prefetch
	refillAt  int // a worker holding this many calls or fewer is sent more; above it, the feeder waits, so that refills come in batches
	cfg       config
	hash      string
	counters  xrun.Counters

	base   context.Context // parent of the tasks' contexts; its cause says why the pool gave up on them
	cancel context.CancelCauseFunc

	spawnc      chan spawnRequest
	spawnerDone chan struct{}
	stopc       chan struct{} // closed when the workers must stop
	supervisors sync.WaitGroup
	inflight    sync.WaitGroup // admitted tasks, Apply, Map and MapUnordered calls not finished
	done        chan struct{}  // closed when everything the pool started has exited

	mu       sync.Mutex
	closed   bool         // Shutdown or Terminate began: admission stopped
	stopping bool         // the admitted work is done: workers exit when idle
	endErr   error        // ErrTerminated or a broken-pool error: every call fails with it
	stopOnce bool         // stopc was closed
	calls    queue[*call] // in dispatch order (call.seq)
	seq      uint64       // the last call.seq given
	tasks    queue[pendingTask]
	runners  int
	tickets  uint64          // the last ticket given to a task taken from tasks
	turns    queue[turnHold] // the tickets given, oldest first; see runner
	workers  map[*worker]struct{}
	warm     *worker // the worker dispatch's fast path used last (nil once it is gone)

	nextID atomic.Uint64 // the last call id given
}

type pendingTask struct {
	t      driver.Portable
	future bool
}

// maxWorkers bounds New's n: a count beyond it is a mistake (New of
// math.MaxInt panicked, sizing a channel by it; one of a million would
// start a million processes).
const maxWorkers = 1 << 16

// New starts a pool of n worker processes (n = 0 means runtime.NumCPU())
// and returns once all of them are ready: started, handshake done,
// initializer run. It blocks at most about the [StartTimeout] (one minute
// by default). It returns [ErrNoMain] when [Main] was never called, an
// error for an n below 0 or above 65536, or an invalid or nil option, and the first worker's
// start error (an [ErrProtocol] when a worker registered different
// functions, the initializer's error, an error wrapping
// context.DeadlineExceeded when a worker did not start within the
// StartTimeout) after stopping the others and waiting for them. Each
// worker costs a process start (a few milliseconds) and its memory; see the
// package documentation for figures.
//
// New seals the registry of [execkit.Register]: register functions at
// package level.
func New(n int, opts ...Option) (*Pool, error) {
	if !mainCalled.Load() {
		return nil, ErrNoMain
	}
	if n < 0 || n > maxWorkers {
		return nil, fmt.Errorf("subprocess: New(%d): want a worker count from 0 to %d", n, maxWorkers)
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	cfg := config{grace: defaultGrace, startTimeout: defaultStartTimeout, prefetch: defaultPrefetch}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("subprocess: New with a nil Option (option %d)", i+1)
		}
		o.apply(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if cfg.onError == nil {
		cfg.onError = xrun.LogError("subprocess.Pool")
	}
	p := &Pool{
		n:           n,
		perWorker:   1 + cfg.prefetch,
		refillAt:    (1 + cfg.prefetch) / 2,
		cfg:         cfg,
		hash:        driver.RegistryHash(),
		spawnc:      make(chan spawnRequest),
		spawnerDone: make(chan struct{}),
		stopc:       make(chan struct{}),
		done:        make(chan struct{}),
		workers:     make(map[*worker]struct{}),
	}
	p.counters.Scope.TimedFromStart = true // a call's TimeLimit runs from when its worker starts it (see worker.startedLocked)
	p.base, p.cancel = context.WithCancelCause(xrun.WithScope(context.Background(), &p.counters.Scope))
	go p.spawner()
	ready := make(chan error, n)
	p.supervisors.Add(n)
	for range n {
		go p.supervise(ready)
	}
	var first error
	for range n {
		if err := <-ready; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Terminate()
		return nil, first
	}
	return p, nil
}

// Workers returns the number of worker processes the pool keeps running
// (n given to New, or the number of CPUs). It never blocks, is safe for
// concurrent use, and after Shutdown still returns that number.
func (p *Pool) Workers() int { return p.n }

// Submit admits t, which must be [driver.Portable] (made by a registered
// Func), to run in a worker; its outcome goes to its Future, or else to the
// error handler ([OnError]). The queue is unbounded, as in Python:
// Submit never blocks and ignores ctx. It returns [execkit.ErrNilTask],
// [execkit.ErrNotPortable] for any other task (a closure cannot cross the
// process boundary), [execkit.ErrClosed] once Shutdown or Terminate began,
// and an error wrapping [ErrBroken] when the pool gave up starting workers.
func (p *Pool) Submit(ctx context.Context, t execkit.Task) error {
	if p == nil || p.done == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if driver.IsNil(t) { // (ctx, even nil, plays no part: Submit never waits)
		return execkit.ErrNilTask
	}
	pt, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	p.mu.Lock()
	if err := p.admitLocked(); err != nil {
		p.mu.Unlock()
		p.counters.Reject()
		return err
	}
	p.counters.Admit()
	p.tasks.push(pendingTask{t: pt, future: driver.HasFuture(t)})
	if p.runners < p.n*p.perWorker {
		p.runners++
		go p.runTasks()
	}
	p.mu.Unlock()
	return nil
}

// admitLocked counts one more unit of admitted work, or says why not.
func (p *Pool) admitLocked() error {
	if p.closed {
		return execkit.ErrClosed
	}
	if p.endErr != nil {
		return p.endErr
	}
	p.inflight.Add(1)
	return nil
}

// runTasks runs submitted tasks until the queue is empty. At most
// n*perWorker of these exist, one per call a worker can hold.
func (p *Pool) runTasks() {
	r := &runner{turn: make(chan struct{}, 1)}
	invoke := func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		return p.invoke(ctx, r, name, payload)
	}
	ctx := context.WithValue(p.base, link.YieldKey{}, func() { p.yieldTurn(r) })
	for {
		p.mu.Lock()
		pt, ok := p.tasks.pop()
		if !ok {
			p.runners--
			p.mu.Unlock()
			return
		}
		r.yielded = false
		p.takeTicketLocked(r)
		p.mu.Unlock()
		p.counters.Start()
		err := driver.RunVia(ctx, pt.t, invoke)
		if r.ticket != 0 { // it sent no call (failed before, cancelled first)
			p.mu.Lock()
			p.giveTurnLocked(r)
			p.mu.Unlock()
		}
		p.counters.Finish(err)
		if err != nil && !pt.future {
			p.cfg.onError(err)
		}
		p.inflight.Done()
	}
}

// A runner is a goroutine of runTasks. The tasks it takes from the queue
// send their first call to the workers in the order the runners took them,
// which is the order Submit admitted them: the runners prepare their calls
// at once (policy, encoding), but one whose turn has not come waits in
// dispatch. Otherwise a task admitted later could take the last free
// worker first, and one admitted earlier could wait behind calls that
// wait, in their turn, for it (a Map's failing item behind the items its
// failure would cancel): an in-process pool starts its tasks in order.
// A task's later calls (its retries) go at once, as a new submission does.
// A task whose policy waits before its first call (a rate limit's token,
// the backoff after a call that failed before it was sent) waits for no
// worker: it gives its turn up meanwhile (see link.YieldKey), and its
// first call then takes a new ticket, behind those given meanwhile.
type runner struct {
	ticket  uint64        // the task's place in admission order; 0 once its first call went (guarded by Pool.mu; written only by the runner)
	yielded bool          // its task gave its ticket up before its first call went (guarded by Pool.mu)
	waits   bool          // it waits for its turn (guarded by Pool.mu)
	turn    chan struct{} // told when its ticket became the oldest one held
}

// A turnHold is a ticket given to r; it is held while r.ticket is still it.
type turnHold struct {
	r      *runner
	ticket uint64
}

// takeTicketLocked gives r the next ticket, behind every one given so far.
// With p.mu held.
func (p *Pool) takeTicketLocked(r *runner) {
	p.tickets++
	r.ticket = p.tickets
	p.turns.push(turnHold{r: r, ticket: r.ticket})
}

// yieldTurn is r's task's yield hook (link.YieldKey): its policy waits
// before its first call, so it gives its ticket up; dispatch gives it a
// new one.
func (p *Pool) yieldTurn(r *runner) {
	p.mu.Lock()
	if r.ticket != 0 {
		p.giveTurnLocked(r)
		r.yielded = true
	}
	p.mu.Unlock()
}

// errNotYourTurn is dispatch's answer to a runner whose turn has not come.
var errNotYourTurn = errors.New("subprocess: not this call's turn")

// turnLocked reports whether r holds the oldest ticket still held: its
// call may go. With p.mu held.
func (p *Pool) turnLocked(r *runner) bool {
	h, ok := p.turns.peek()
	return ok && h.r == r && h.ticket == r.ticket
}

// giveTurnLocked gives back r's ticket, drops the given-back tickets at the
// front, and tells the runner whose ticket is now the oldest, if it waits.
// With p.mu held.
func (p *Pool) giveTurnLocked(r *runner) {
	r.ticket = 0
	for {
		h, ok := p.turns.peek()
		if !ok {
			return
		}
		if h.r.ticket == h.ticket {
			if h.r.waits {
				h.r.waits = false
				select {
				case h.r.turn <- struct{}{}:
				default: // told already
				}
			}
			return
		}
		p.turns.pop()
	}
}

// awaitTurn waits until r's turn may have come (dispatch checks again), or
// ctx ends: it then gives the turn back and returns ctx's error as the
// pool's other waits do (p.ctxErr: why the pool gave up on the task, if it
// did).
func (p *Pool) awaitTurn(ctx context.Context, r *runner) error {
	select {
	case <-r.turn:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	r.waits = false
	if r.ticket != 0 {
		p.giveTurnLocked(r)
	}
	p.mu.Unlock()
	return p.ctxErr(ctx)
}

// Stats returns the pool's counters. A chunk of Map or MapUnordered counts
// as one task, as in Python (an item, for a function with a RateLimit: see
// [Map]); the retries and timeouts of its items, which their policy runs
// in the worker, count as a task's do, and so do those of the registered
// functions a call's function calls in the worker, as in process. Queued counts submitted tasks not yet handed
// to a worker slot, and chunks until they return; Running counts tasks
// handed to one (sent to a worker, or waiting for a free worker) and Apply
// calls. It never blocks, and after Shutdown or Terminate it returns the
// final counts.
func (p *Pool) Stats() execkit.Stats {
	if p == nil {
		return execkit.Stats{}
	}
	return p.counters.Stats()
}

// Shutdown stops admission, lets every admitted task run, then lets the
// workers exit and waits for them: the counterpart of close followed by
// join. It returns nil once every process and goroutine the pool started
// has exited. If ctx ends first, it cancels the tasks' contexts (their
// workers are told to cancel them, and killed if they do not return within
// the grace of [CancelGrace]) and returns ctx.Err(); the calls in
// flight (Apply, Map, ...) fail with an error saying Shutdown's context
// ended, wrapping its error. A later call waits again. It is idempotent and safe to call concurrently; after Terminate it
// returns nil once Terminate's work is done.
func (p *Pool) Shutdown(ctx context.Context) error {
	if p == nil || p.done == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	p.beginClose()
	return shutdown.Wait(ctx, p.done, func() {
		p.cancel(fmt.Errorf("subprocess: Shutdown's context ended before the task finished: %w", ctx.Err()))
	})
}

// Terminate stops the pool now: the counterpart of terminate. Every worker
// process group is killed, every task not finished fails with
// [ErrTerminated] (tasks submitted without a Future report it to the error
// handler), and later calls are refused. It blocks until every process and
// goroutine the pool started has exited, which takes about as long as the
// kernel takes to reap them. It is idempotent and safe to call
// concurrently, also with Shutdown.
func (p *Pool) Terminate() {
	if p == nil || p.done == nil { // not made by New: nothing to stop
		return
	}
	p.mu.Lock()
	if p.endErr == nil {
		p.endErr = ErrTerminated
	}
	p.failAllLocked()
	why := p.endErr
	p.mu.Unlock()
	p.cancel(why)
	p.beginClose()
	<-p.done
}

// failAllLocked fails every queued call with endErr, kills every worker
// (their supervisors fail the calls they held) and stops the supervisors.
func (p *Pool) failAllLocked() {
	for {
		c, ok := p.calls.pop()
		if !ok {
			break
		}
		p.resolveLocked(c, nil, p.endErr)
	}
	for w := range p.workers {
		w.kill(p.endErr)
	}
	p.stopLocked()
}

func (p *Pool) stopLocked() {
	if !p.stopOnce {
		p.stopOnce = true
		close(p.stopc)
	}
	for w := range p.workers {
		w.signal()
	}
}

// beginClose stops admission and, the first time, starts the goroutine
// that winds the pool down once the admitted work is done.
func (p *Pool) beginClose() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	go func() {
		p.inflight.Wait()
		p.mu.Lock()
		p.stopping = true
		p.stopLocked()
		p.mu.Unlock()
		p.supervisors.Wait()
		close(p.spawnc)
		<-p.spawnerDone
		p.cancel(nil)
		close(p.done)
	}()
}

// breakPool gives up after repeated start failures.
func (p *Pool) breakPool(cause error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endErr == nil {
		p.endErr = fmt.Errorf("%w: %v", ErrBroken, cause)
	}
	p.failAllLocked()
}

// taskContext returns the context of an Apply or Map call: ctx, cancelled
// too when the pool gives up on its tasks, with the pool's cause.
func (p *Pool) taskContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(p.base, func() { cancel(context.Cause(p.base)) })
	return ctx, func() { stop(); cancel(nil) }
}

// ctxErr returns the error of a call whose context ctx ended (nil while it
// has not): ctx.Err() when the caller's context ended, or why the pool gave
// up on the call: [ErrTerminated], [ErrBroken], Shutdown's context ended.
func (p *Pool) ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if err == nil || p.base.Err() == nil {
		return err
	}
	if why := context.Cause(p.base); context.Cause(ctx) == why {
		return why
	}
	return err
}

// ended reports whether err is the pool's end (terminated or broken), which
// fails every call alike and names no item.
func ended(err error) bool {
	return errors.Is(err, ErrTerminated) || errors.Is(err, ErrBroken)
}

var errStopped = fmt.Errorf("subprocess: the pool is stopping")

// stoppedLocked reports whether workers must not be (re)started.
func (p *Pool) stoppedLocked() bool { return p.stopping || p.endErr != nil }

func (p *Pool) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stoppedLocked()
}
