// Package execkit runs work in the background the way Python programs do
// (a thread per job, a thread pool, a process pool, a group that fails
// fast, a job queue), each with an idiomatic Go counterpart behind one
// [Executor] interface, so that a task written once moves between them
// unchanged.
//
// # What to import for which Python pattern
//
//   - concurrent.futures (submit, Future, as_completed, map): this package:
//     [Go] returns a [Future], [Map] keeps input order, [AsCompleted] yields
//     in completion order. They work on every executor.
//   - threading.Thread subclass, a @background decorator, web.py's
//     background/backgrounder: package fireforget (a goroutine per task,
//     Thread handles, a registry of jobs with an HTTP handler).
//   - threadpool, ThreadPoolExecutor: package pool (a bounded pool of
//     goroutines on ants).
//   - wait(FIRST_EXCEPTION), asyncio's TaskGroup: package errgroup (the
//     first failure cancels the rest, in x/sync's shape).
//   - multiprocessing.Pool: package subprocess (registered functions in
//     worker processes, for isolation rather than speed).
//   - Celery: module github.com/execkit/execkit/riverexec (durable jobs on
//     River, with SQLite or PostgreSQL).
//   - a stand-in in tests: [Inline] runs a task in the goroutine that
//     submits it.
//
// # The contract every executor keeps
//
// Submit admits a task or says why not ([ErrClosed], [ErrFull], ctx.Err(),
// [ErrNilTask], [ErrNotPortable]) and never panics. Every admitted task runs
// at most once, and its outcome is observable: through its [Future] when it
// was submitted with one ([Go], [Map], [Func.Go]), else through the
// executor's error handler (by default a log/slog record with the stack).
// A panic in a task becomes a [*PanicError] delivered to the same place.
// A task that ends its goroutine with runtime.Goexit (as t.FailNow does)
// leaves nothing held: in process it counts as returned, with a nil error
// and the zero value (as with x/sync's errgroup); across a process boundary
// (subprocess, riverexec) it fails, with an error that says so.
// A task that the executor gave up on before it started (a Shutdown
// deadline, a failed group, a cancelled Future) never starts. Shutdown
// stops admission, waits for admitted tasks and for every goroutine and
// process the executor started; when its ctx ends first it cancels the
// tasks' contexts and returns ctx.Err(). [Stats] counts what happened.
// On [Inline], Go plus Wait costs 4 allocations (BenchmarkGoWait,
// TestGoWaitAllocs).
//
// # How a task moves between executors
//
// Write the work as a function of a ctx, and hand it to [Go] (or [Map]) with
// the executor you want: the same call runs on [Inline] in a test, on a
// goroutine per task, on a bounded pool, in a fail-fast group. Only the
// executor's constructor changes. A task returns soon after its ctx is
// cancelled; that is how Shutdown, a failed group and [Future.Cancel]
// reach it.
//
// # Task policies
//
// [TimeLimit], [Retry] and [RateLimit], declared with [Register], hold on
// every executor, as strongly as its boundary allows:
//
//	policy      Inline, pool, errgroup, fireforget     subprocess.Pool                       error / Stats
//	TimeLimit   cooperative: the ctx is cancelled;    hard: ctx cancelled in the worker,    ErrTimeLimit (wraps
//	            the call returns when fn does          killed after CancelGrace, respawned;  DeadlineExceeded) / Timeouts
//	                                                   timed from when the worker starts it
//	Retry       in place, backoff with jitter          from the pool side, a new call each   last attempt's error / Retries
//	RateLimit   a bucket per executor and function     the same, in the pool's process       ctx.Err() if it ends / -
//	deadline    the caller's ctx deadline reaches the  carried in the CALL frame (Apply,     DeadlineExceeded / -
//	            task (Go, Func.Go, Map, Func.Map)       Func.Go, Func.Map, Map's chunks)
//
// subprocess.Map and MapUnordered send chunks: the policy applies to each
// item in the worker (its time limit cooperative there, its retries in
// place, its rate limit per worker process), not counted in the pool's
// Stats; Func.Map applies it as the table says. On riverexec the policy
// runs on the worker, mapped onto River's own attempts: a call is one job,
// the Func's Retry its attempts, each attempt under the time limit
// (cooperative: a task that ignores its ctx runs until
// riverexec.RescueAfter) and the rate limit of the worker process; a call's
// deadline is written into the job row. Jobs written with Enqueue get the
// policy too. Package executortest checks this table on every executor.
//
// # What crosses a process boundary
//
// A closure cannot leave its process. To run on a process pool or a job
// queue, register the function at package level with [Register]: the
// returned [Func] has Go, Map and Task methods that make tasks carrying the
// function's name and its encoded argument. In-process executors call the
// function directly and encode nothing; process-crossing executors send
// the name and the argument to a worker running the same binary, which
// calls the same registration. So the same registered function runs on
// every executor, and the Func is the unit to move between them.
//
// Arguments and results travel with a [Codec], [GobCodec] by default, which
// refuses at Register what gob would drop silently (chan and func fields,
// unexported fields) and documents what gob changes on the way (an empty
// slice arrives as nil). Choose another with [UseCodec].
//
// An error crosses as a [*RemoteError]: its text, its type's name, and the
// sentinels declared with [Errors] that it matched, so errors.Is holds for
// those on every executor (in-process executors return the function's own
// error, for which it holds anyway). A panic crosses as a [*PanicError]
// with the value's text and the worker's stack; when the value is an error,
// as a *RemoteError, so errors.Is holds through the panic alike.
//
// Writing an executor of your own? Package
// github.com/execkit/execkit/driver holds what it needs (running a task
// the way every executor does, invoking a registered function by name,
// carrying errors and batches across), and package executortest checks it
// against the contract above.
package execkit
