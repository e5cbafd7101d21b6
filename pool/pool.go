package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/gate"
	"github.com/execkit/execkit/internal/shutdown"
	"github.com/execkit/execkit/internal/xrun"
)

// ErrSize is wrapped by the error of [New] and [Pool.Resize] for a size
// below 1 or above math.MaxInt/2.
var ErrSize = errors.New("pool: size must be from 1 to math.MaxInt/2")

// A Pool runs tasks on at most size worker goroutines, which it keeps for
// reuse: the counterpart of Python's threadpool.ThreadPool and of
// concurrent.futures.ThreadPoolExecutor. Make one with [New]; the zero value
// is not usable. All methods are safe for concurrent use.
type Pool struct {
	workers *ants.PoolWithFunc // never waits: the gate admits no more than it has workers for
	gate    gate.Gate
	q       *queue // nil without the Queue option: each task is handed to a worker
	qcap    int    // the Queue option's n
	reject  bool   // RejectWhenFull (MaxWaiting(0))
	onError func(error)

	base   context.Context // the tasks' context; carries the pool, to recognise nested Submits
	cancel context.CancelFunc

	counters xrun.Counters
	inline   atomic.Int64
	spilled  atomic.Int64   // tasks run on a goroutine of their own (see Submit)
	spill    sync.WaitGroup // those goroutines

	resizeMu sync.Mutex
	shutOnce sync.Once
	done     chan struct{} // closed when every goroutine the pool started has exited
}

// poolKey is the context key under which a task's context carries its pool.
type poolKey struct{}

// New returns a pool of size workers. Goroutines start as tasks arrive (one
// per task until size are running, then reused) and an idle one exits after
// a second; the pool also runs the two housekeeping goroutines of every ants
// pool until [Pool.Shutdown]. New returns an error wrapping [ErrSize] for a
// size below 1 or above math.MaxInt/2, or the error of an invalid option. It does not block.
func New(size int, opts ...Option) (*Pool, error) {
	if size < 1 || size > math.MaxInt/2 {
		return nil, fmt.Errorf("%w (got %d)", ErrSize, size)
	}
	cfg := config{maxWaiting: -1}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("pool: nil Option")
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	p := &Pool{done: make(chan struct{})}
	if cfg.onError != nil {
		p.onError = xrun.Guard("pool", cfg.onError)
	} else {
		p.onError = xrun.LogError("pool")
	}
	p.gate.Init(size+cfg.queue, cfg.maxWaiting, gate.Monotonic)
	if cfg.queue > 0 {
		p.q, p.qcap = &queue{workers: size}, cfg.queue
		if cfg.maxWaiting < 0 {
			// Wake a blocked Submit once the queue is half empty. Not with
			// MaxWaiting: a waiter kept asleep while a slot is free would
			// count against the bound and make a later Submit ErrFull.
			p.gate.SetSlack(cfg.queue / 2)
		}
	}
	p.reject = cfg.maxWaiting == 0
	// The cancelCtx outermost: every task's start asks p.base.Err(), which
	// it answers without going through the values.
	values := context.WithValue(xrun.WithScope(context.Background(), &p.counters.Scope), poolKey{}, p)
	var cancel context.CancelFunc
	p.base, cancel = context.WithCancel(values)
	p.cancel = cancel
	workers, err := ants.NewPoolWithFunc(size, p.invoke,
		ants.WithNonblocking(true),
		ants.WithPanicHandler(workerPanic),
	)
	if err != nil { // not reached: the options are valid
		cancel()
		return nil, fmt.Errorf("pool: %w", err)
	}
	p.workers = workers
	return p, nil
}

// Submit runs t on a worker of the pool. With [Queue](n), it admits t while
// fewer than size+n tasks are unfinished, appends it to the queue and
// returns at once; only a full queue applies the admission policy below.
// Without a queue, when all size workers are busy it applies the pool's
// admission policy: by default it blocks until a worker
// is free or ctx ends (then it returns ctx.Err() and t never runs); with
// [RejectWhenFull] it returns [execkit.ErrFull] at once; with [MaxWaiting] it
// waits only while fewer than that many Submit calls already wait, and
// returns ErrFull otherwise. Waiters are admitted in arrival order. ctx
// bounds only this wait: it is not t's context.
//
// A ctx that has already ended does not refuse a free worker: Submit admits
// t when a worker is free and otherwise returns ctx.Err() without waiting,
// which is x/sync's errgroup TryGo (false: ctx.Err()).
//
// A Submit from inside one of the pool's own tasks, with the task's context
// or one derived from it, never waits: if no worker is free it runs t at
// once in the calling goroutine (the caller-runs policy) and returns after
// t has finished. This is what keeps a task that submits more work to its
// own full pool from deadlocking (as it would with ants, whose nested Submit
// waits for a worker that the waiting task itself holds). With
// RejectWhenFull such a Submit returns ErrFull like any other. A nested
// Submit with an unrelated context (context.Background()) cannot be told
// apart and waits like any other: pass the task's ctx.
//
// Such a nested Submit is also admitted after Shutdown began, as long as
// the pool has not finished (the submitting task itself keeps it from
// finishing): a task that adds follow-up work to its pool (a tree walk, a
// crawler) may do so while the caller waits in Shutdown, which waits for
// that work too. The same rules apply (a free worker, else caller-runs, or
// ErrFull with RejectWhenFull).
//
// The task's error goes to the [OnError] handler unless t delivers it to a
// Future (see [driver.HasFuture]); a panic in t becomes a
// *[execkit.PanicError]. Submit returns [execkit.ErrNilTask] for a nil task
// and [execkit.ErrClosed] once Shutdown has begun, including to callers
// waiting at that moment, except to a running task's follow-up as above.
func (p *Pool) Submit(ctx context.Context, t execkit.Task) error {
	if p == nil || p.base == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	if err := p.admit(ctx); err != nil {
		if err == errRunInline && p.gate.TryAcquireNested(true) == gate.Acquired {
			p.admitted()
			p.inline.Add(1)
			p.run(t)
			return nil
		}
		if err == errRunInline { // the pool finished meanwhile: not reached from a running task
			err = execkit.ErrClosed
		}
		p.counters.Reject()
		return err
	}
	if p.q != nil {
		p.counters.Admit()
		if p.q.push(t) {
			p.startDrainer()
		}
		return nil
	}
	p.admitted()
	p.dispatch(t)
	return nil
}

// drainSignal is the argument of the ants function that starts a drainer
// (ants stops a worker on a nil argument).
type drainSignal struct{}

// startDrainer starts a drainer of the queue on an ants worker, with the
// same yields and spill as dispatch.
func (p *Pool) startDrainer() {
	for range handoffTries {
		if p.workers.Invoke(drainSignal{}) == nil {
			return
		}
		runtime.Gosched()
	}
	if p.workers.Invoke(drainSignal{}) == nil {
		return
	}
	p.spilled.Add(1)
	p.spill.Add(1)
	go func() {
		defer p.spill.Done()
		p.drain()
	}()
}

// drain runs queued tasks until the queue is empty. A task is begun only
// once taken: when the pool's context ended before (Shutdown's ctx), run
// reports it cancelled without starting it.
func (p *Pool) drain() {
	ran, finished := false, false
	defer func() {
		// A task ended this goroutine (runtime.Goexit, as t.FailNow
		// does): its own bookkeeping was deferred, the queue's is done
		// here, and another drainer takes over what is still queued.
		if !finished && p.q.exited() {
			p.startDrainer()
		}
	}()
	for {
		t, ok := p.q.next(ran)
		if !ok {
			finished = true
			return
		}
		p.counters.Start()
		p.run(t)
		ran = true
	}
}

// admitted counts a task that holds a slot of the gate: it runs from now on
// (a worker, or the caller, takes it up without waiting), so it is counted
// running at once and Stats never shows it queued.
func (p *Pool) admitted() {
	p.counters.Admit()
	p.counters.Start()
}

// handoffTries bounds how often dispatch yields to let a worker go back to
// ants' idle list before it gives up and spills the task.
const handoffTries = 4

// dispatch hands an admitted task to an ants worker. ants may have no idle
// worker although the gate had a slot: the worker that freed the slot has
// not yet gone back to ants' idle list (a window of a few hundred
// nanoseconds), or is exiting after a Resize down. dispatch yields a few
// times for that, then runs t on a goroutine of its own rather than wait
// longer; t still holds the gate's slot, so no more than size tasks run at
// once.
func (p *Pool) dispatch(t execkit.Task) {
	for range handoffTries {
		if p.workers.Invoke(t) == nil {
			return
		}
		runtime.Gosched()
	}
	if p.workers.Invoke(t) == nil {
		return
	}
	p.spilled.Add(1)
	p.spill.Add(1)
	go func() {
		defer p.spill.Done()
		p.run(t)
	}()
}

// errRunInline is admit's answer to a nested Submit into the full pool.
var errRunInline = errors.New("pool: run inline")

// admit takes a slot of the gate, applying the admission policy.
func (p *Pool) admit(ctx context.Context) error {
	switch p.gate.Try() {
	case gate.Acquired:
		return nil
	case gate.Closed:
		if p.nested(ctx) {
			return p.followUp()
		}
		return execkit.ErrClosed
	}
	if p.reject {
		return execkit.ErrFull
	}
	if p.nested(ctx) {
		// Never wait for a worker that the caller itself may be holding:
		// take a free slot ahead of any waiters, else run inline.
		switch p.gate.TryAcquire() {
		case gate.Acquired:
			return nil
		case gate.Closed:
			return p.followUp()
		}
		return errRunInline
	}
	return p.gate.Wait(ctx)
}

// followUp admits a nested Submit after Shutdown began: a free slot, else
// inline (or ErrFull with RejectWhenFull). The closed gate gives slots to
// such work until no slot is in use, when the pool is finishing and no task
// of it can be the caller any more (only a ctx that outlived its task).
func (p *Pool) followUp() error {
	switch p.gate.TryAcquireNested(false) {
	case gate.Acquired:
		return nil
	case gate.Full:
		if p.reject {
			return execkit.ErrFull
		}
		return errRunInline
	}
	return execkit.ErrClosed
}

// nested reports whether ctx is (derived from) the context of a task of p.
func (p *Pool) nested(ctx context.Context) bool {
	q, _ := ctx.Value(poolKey{}).(*Pool)
	return q == p
}

// invoke is the function of the ants pool: it runs one admitted task, or
// drains the queue.
func (p *Pool) invoke(arg any) {
	if t, ok := arg.(execkit.Task); ok {
		p.run(t)
		return
	}
	p.drain()
}

func (p *Pool) run(t execkit.Task) {
	defer p.gate.Release()
	xrun.ExecStarted(p.base, &p.counters, t, p.onError)
}

// Resize changes the number of workers to n while the pool runs. A larger
// size admits waiting submitters at once; a smaller one takes effect as
// running tasks finish (none is interrupted), and the extra workers then
// exit. It returns an error wrapping [ErrSize] for n below 1 or above
// math.MaxInt/2, [execkit.ErrClosed] once Shutdown has begun, and
// [execkit.ErrNilExecutor] for a nil or zero Pool (not made by New), as
// Submit and Shutdown do. It does not block, and is safe to call
// concurrently (the last call wins).
func (p *Pool) Resize(n int) error {
	if p == nil || p.base == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if n < 1 || n > math.MaxInt/2 {
		return fmt.Errorf("%w (got %d)", ErrSize, n)
	}
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	if p.gate.IsClosed() {
		return execkit.ErrClosed
	}
	if n > p.workers.Cap() {
		p.workers.Tune(n) // room in ants before the gate lets more in
		p.gate.SetLimit(n + p.qcap)
	} else {
		p.gate.SetLimit(n + p.qcap)
		p.workers.Tune(n)
	}
	if p.q != nil {
		for range p.q.setWorkers(n) {
			p.startDrainer()
		}
	}
	return nil
}

// Shutdown stops admission (waiting and later Submit calls return
// [execkit.ErrClosed]), waits for every admitted task to finish, including
// the follow-up work that running tasks submit meanwhile (see Submit), then
// releases the ants pool and waits until all its goroutines (workers and
// housekeeping) have exited, and returns nil. If ctx ends first it cancels
// the tasks' contexts and returns ctx.Err(); the pool goes on shutting down
// in the background, and a later Shutdown waits for it again. It is
// idempotent and safe to call concurrently.
func (p *Pool) Shutdown(ctx context.Context) error {
	if p == nil || p.base == nil { // not made by New
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	p.shutOnce.Do(func() {
		p.resizeMu.Lock() // no Tune racing with the release below
		p.gate.Close()
		p.resizeMu.Unlock()
		go func() { // ends once the pool has released everything
			<-p.gate.Idle()
			p.spill.Wait()
			_ = p.workers.ReleaseContext(context.Background()) // waits for every ants goroutine
			p.cancel()
			close(p.done)
		}()
	})
	return shutdown.Wait(ctx, p.done, p.giveUp)
}

// giveUp is what a Shutdown whose ctx ended does: it cancels the tasks'
// contexts and reports every queued task cancelled at once (a Future gets
// the cause; none of them starts), rather than when a worker frees, which
// may be never when every running task ignores its ctx.
func (p *Pool) giveUp() {
	p.cancel()
	if p.q == nil {
		return
	}
	for _, t := range p.q.takeAll() {
		p.counters.Start()
		p.run(t) // p.base has ended: run reports t cancelled without starting it
	}
}

// Stats is a snapshot of a pool: the execkit counters and the pool's own.
// Queued counts the tasks in the pool's queue ([Queue]): admitted, not yet
// begun by a worker. Without a queue it is always zero: a task waits for a
// free worker before Submit admits it (Waiting counts those calls), never
// after; an admitted task holds its worker and counts in Running from then
// on, also in the moment before that worker's goroutine begins it.
type Stats struct {
	execkit.Stats
	Size    int // workers allowed now (New's size, or the last Resize)
	Free    int // workers free now: Size less the tasks admitted and unfinished
	Waiting int // Submit calls waiting for a free worker now
	Workers int // worker goroutines alive now, busy or idle

	Waited   int64         // Submit calls that found no free worker and waited (briefly or not) before they were admitted
	WaitTime time.Duration // their total time waiting (WaitTime/Waited is the mean)
	Inline   int64         // nested Submits run inline because the pool was full
	Spilled  int64         // tasks run on a goroutine of their own while ants caught up (see Submit)
}

// Stats returns a snapshot of the pool's counters. It never blocks and is
// safe to call concurrently, also after Shutdown.
func (p *Pool) Stats() Stats {
	if p == nil || p.base == nil {
		return Stats{}
	}
	size := p.gate.Limit() - p.qcap
	waited, waitTime := p.gate.Waited()
	st := p.counters.Stats()
	free := size - p.gate.Used() // every admitted task holds a worker
	if p.q != nil {
		free = size - int(st.Running)
	}
	return Stats{
		Stats:    st,
		Size:     size,
		Free:     max(free, 0),
		Waiting:  p.gate.Waiting(),
		Workers:  p.workers.Running(),
		Waited:   waited,
		WaitTime: waitTime,
		Inline:   p.inline.Load(),
		Spilled:  p.spilled.Load(),
	}
}

// workerPanic replaces ants' default panic handler (log and carry on). Tasks
// never get here, since run recovers their panics into *execkit.PanicError;
// it would take a panic in the pool's own code, and logs it with the stack,
// which the deferred call still sees.
func workerPanic(v any) {
	slog.Error("pool: worker panicked", "panic", &execkit.PanicError{Value: v, Stack: debug.Stack()})
}
