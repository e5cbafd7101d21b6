// Package pool runs tasks on a bounded set of reused worker goroutines: the
// Go counterpart of Python's threadpool.ThreadPool and of
// concurrent.futures.ThreadPoolExecutor. A [Pool] is an [execkit.Executor]
// built on github.com/panjf2000/ants/v2, which owns the goroutines; this
// package adds what ants leaves to its caller.
//
//	p, err := pool.New(3)              // threadpool.ThreadPool(3)
//	f := execkit.Go(ctx, p, download)  // putRequest(makeRequests(...)[0])
//	v, err := f.Wait(ctx)              // wait(), one request at a time
//	err = p.Shutdown(ctx)              // wait for the workers to exit
//
// # Admission
//
// At most size tasks run at once. When all workers are busy, Submit applies
// the pool's admission policy: by default it waits, in arrival order, until
// a worker is free or its ctx ends (ants' own blocking Submit takes no ctx
// and cannot be cancelled); [RejectWhenFull] returns [execkit.ErrFull] at
// once; [MaxWaiting] bounds the number of waiting submitters. The time
// submitters spent waiting is in [Stats] (Waited, WaitTime). The admission
// control is the pool's own semaphore in front of a non-blocking ants pool,
// so no goroutine ever waits inside ants. A waiting Submit first yields the
// processor a few times, since a worker is often free again within
// microseconds, and only then queues.
//
// Rarely, a Submit admitted by the semaphore finds no idle ants worker,
// because the worker that freed the slot has not yet gone back to ants'
// idle list (or is exiting after a Resize down); after a few yields the task
// then runs on a goroutine of its own, still counted against size
// (Stats.Spilled; from one task in 10^6 to one in 10^3 in the benchmarks).
//
// # A queue in front of the workers
//
// [Queue](n) gives the pool room for n admitted tasks beyond its running
// ones: Submit appends the task and returns without waiting for a worker,
// and each busy worker goes on taking the next queued task itself, so a
// stream of small tasks costs a short lock per task instead of a goroutine
// handoff (a wake-up) per task. When the queue is full the admission policy
// applies unchanged (wait honouring ctx, [RejectWhenFull], [MaxWaiting]); a
// blocked Submit is woken once the queue is half empty, not at every task
// that ends, for the same reason. Queued tasks start in submission order;
// one still queued when Shutdown's ctx ends, or whose Future was cancelled,
// never starts and is reported cancelled. Stats.Queued counts the queue.
//
// The default stays no queue (Queue(0)): Submit returns only once a worker
// has the task, which is the backpressure most callers of a thread pool
// expect (a producer cannot run ahead of the workers, and a task refused
// by ctx never sits in memory). Choose a queue for streams of small tasks,
// or for a burst of pending work whose size you know and can afford: each
// queued task costs its Task value (16 bytes in the ring plus what it
// points to) instead of a waiting goroutine.
//
// A task that submits to its own pool with a queue has its task queued like
// any other while there is room; it must not wait for that task's result
// while every worker may be doing the same (the queued task would need a
// worker that the waiting tasks hold). At capacity the caller-runs policy
// below applies as without a queue.
//
// # Tasks that submit tasks
//
// With ants, a task that submits to its own full pool waits for a worker
// that it is itself holding, and the pool deadlocks silently (ants issue
// 197). A Submit whose ctx is the running task's (or derived from it) never
// waits: when no worker is free it runs the task inline, in the calling
// goroutine, before it returns (the caller-runs policy); Stats counts these
// in Inline. Recursive fan-out therefore completes on a pool of any size.
// The pool recognises the nested call by the ctx only: a task that submits
// with context.Background() waits like any other caller and can deadlock a
// pool whose every worker does the same.
//
// # Errors and panics
//
// A task's error goes to its [execkit.Future], or else to the [OnError]
// handler (default: log/slog). A panic in a task is recovered where it
// happens, with the stack of the panicking goroutine, and delivered the same
// way as a *[execkit.PanicError]; ants' default of logging a panic and
// carrying on is never used.
//
// # Resizing and shutting down
//
// [Pool.Resize] changes size while the pool runs (ants' Tune behind it).
// [Pool.Shutdown] stops admission, waits for every admitted task, then
// releases the ants pool and waits until every goroutine it started (its
// workers and its two housekeeping goroutines) has exited: the tests check
// this with goleak after every Shutdown.
//
// # Goroutines at import time
//
// Importing this package imports ants, which starts a default pool of its
// own at init with two goroutines that never exit. Measured with a blank
// import (TestImportGoroutines keeps the measurement true), these are the
// only goroutines left running, and their top functions are
//
//	github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers
//	github.com/panjf2000/ants/v2.(*poolCommon).ticktock
//
// so a program that uses goleak must ignore exactly these, as this
// package's TestMain does:
//
//	goleak.VerifyTestMain(m,
//		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
//		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
//
// Each Pool starts the same pair for its own ants pool and stops it in
// Shutdown; the package's tests check each pool with goleak.IgnoreCurrent
// taken before New, so a pair left behind by a Pool would not be missed.
//
// # Cost
//
// BenchmarkPool runs the same task bodies on this pool and on ants used
// directly (its blocking Submit), 8 workers, on a shared 2-core machine.
// Without a queue the pool was never slower: about 0.5-0.9x ants' time per
// no-op task (ants parks the submitter when all workers are busy, the
// pool's semaphore first yields) and 0.85-0.95x on 1µs CPU tasks, with no
// allocation per task in the steady state, like ants (TestSubmitAllocs,
// TestQueueAllocs).
//
// Without a queue it loses to pond v2 on tiny tasks (about 1.1-4x on no-op
// and 1µs tasks), whose Submit appends to an unbounded queue and returns.
// With Queue(1024) the pool is at or below pond's time on the same tasks
// (bench's BenchmarkQueuedPool, one run of 8 samples each: 0.55x pond and
// 0.32x ants on no-op, 0.97x pond and 0.56x ants on 1µs tasks), with its
// memory bounded by the queue.
package pool
