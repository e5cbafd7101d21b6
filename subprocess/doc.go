// Package subprocess runs registered functions in a pool of worker
// processes: the Go counterpart of Python's multiprocessing.Pool.
//
// # Isolation, not parallelism
//
// Python needs worker processes to use more than one core. Go does not:
// goroutines already run on every core, and an in-process executor
// (package pool, say) runs a small task in well under a microsecond. A
// worker process costs far more (see Costs below). Choose this package for
// what only a process boundary gives: code that may crash the process
// (a nil map write in a goroutine it starts, os.Exit, a segfault in cgo),
// leak memory or file descriptors ([MaxTasksPerChild] recycles it),
// ignore cancellation and need killing on a deadline, or call C libraries
// that are not safe to share.
//
// # Setup
//
// Workers are the running binary, started again (/proc/self/exe) with an
// environment marker. Call [Main] first thing in main, and in TestMain of
// any test binary that creates a pool: in a worker it serves the pool and
// never returns; elsewhere it returns at once. [New] fails with [ErrNoMain]
// if Main was never called, since a worker would otherwise run the whole
// program again. Functions are found by name: register them with
// [execkit.Register] at package level, so that every process registers the
// same ones. A worker whose registry differs (same names, same argument,
// result and codec types) is refused at its handshake with [ErrProtocol].
//
//	var square = execkit.Register("square", func(_ context.Context, x int) (int, error) {
//		return x * x, nil
//	})
//
//	func main() {
//		subprocess.Main()
//		pool, err := subprocess.New(4) // Pool(4)
//		...
//		v, err := subprocess.Apply(ctx, pool, square, 7)      // apply
//		f := square.Go(ctx, pool, 7)                          // apply_async
//		vs, err := subprocess.Map(ctx, pool, square, items)   // map
//		for v, err := range subprocess.MapUnordered(ctx, pool, square, seq) { ... } // imap_unordered
//		err = pool.Shutdown(ctx)                              // close + join
//	}
//
// A [Pool] is an [execkit.Executor] that accepts only [driver.Portable]
// tasks (made by a registered Func); anything else, a closure above all,
// gets [execkit.ErrNotPortable]. Arguments and results travel encoded by
// each Func's codec (gob by default).
//
// # Failures
//
// A worker that dies while it runs a call (killed by a signal, os.Exit, a
// panic in a goroutine the task started) fails that call only, with a
// [*WorkerError] giving its pid, exit status or signal, and the end of its
// stderr (a chunk of [Map] is one call: all its items fail, see there).
// The calls it held but had not started run on another worker, and
// the pool starts a replacement, after a growing delay if replacements keep
// dying before they answer anything. Python's pool, by contrast, waits
// forever for the lost result. Workers that fail to start five times in a
// row (the initializer fails or outlasts [StartTimeout], the binary is
// gone) make the pool give up: pending and later calls fail with
// [ErrBroken]. A worker still starting when the pool stops is killed.
//
// A task's context reaches the worker: when it ends, the pool sends a
// CANCEL, and if the function has not returned within the grace period
// ([CancelGrace], one second by default) it kills the worker's process
// group and starts a replacement. A call whose context ended before the
// pool sent it is never sent, even before its task hears of the end: a
// task whose Future.Cancel returned does not start afterwards, except a
// call the pool was sending as Cancel ran, or a call a busy worker already
// held (see [Prefetch]), which that worker may start before the CANCEL
// reaches it; its function's ctx then ends as the CANCEL arrives. With
// Prefetch(0) a worker is sent a call only when idle, and starts it at
// once, so only the first case remains.
// A registered function's [execkit.TimeLimit] is enforced the same way, from the pool's side: its
// clock starts when the worker starts the call (a worker runs its calls one
// at a time, in order, so not while the call waits for a free or respawned
// worker, or behind another call), and at the limit the pool cancels the
// call, then kills the worker [CancelGrace] later if it has not returned.
// The function's ctx ends as it would in process: with
// context.DeadlineExceeded when its TimeLimit or its caller's deadline
// passed, with context.Canceled when it was cancelled, and so does a ctx
// the function derives from it; its Deadline reports the earlier of its
// caller's deadline and the end of its TimeLimit. A cause does not cross
// the process boundary: there, context.Cause of the function's ctx is its
// Err (in process it is [execkit.ErrTimeLimit] at the limit, or the cause
// the caller gave).
// Each retry of [execkit.Retry] is a new call from the pool's side, timed
// from its own start. A panic in a function is recovered in the
// worker and arrives as a [*execkit.PanicError] carrying the worker's
// stack; the worker goes on. A frame that does not decode kills its worker
// (the call fails with a *WorkerError wrapping [ErrProtocol]); the pool
// goes on. [Pool.Terminate] kills every worker at once; unfinished calls
// fail with [ErrTerminated]. A function that calls runtime.Goexit (as
// t.FailNow does) ends its worker the same way: the worker says so on its
// stderr and exits, and the call fails with a *WorkerError carrying that
// line, rather than wait unanswered until its context ends.
//
// # What crosses with an error
//
// A function's error cannot travel as a value; what crosses is exactly:
//   - its text (Error returns it unchanged) and the name of its type (%T),
//     in an [*execkit.RemoteError];
//   - which of the sentinels the function declared with [execkit.Errors]
//     it matched, so errors.Is(err, sentinel) holds here as it did in the
//     worker; likewise for [execkit.ErrPayload] and
//     [execkit.ErrNotRegistered];
//   - context errors: a call whose own context ended gets that context's
//     error itself (as in-process); otherwise an error that matched
//     context.Canceled or context.DeadlineExceeded in the worker still
//     matches it here;
//   - a panic: a [*execkit.PanicError] whose Value is the panic value's
//     text (an *execkit.RemoteError, as above, when the value is an error,
//     so errors.Is finds its declared sentinels through the panic) and
//     whose Stack is the worker's.
//
// Nothing else does: errors.As finds the *execkit.RemoteError, never the
// original's type, and an undeclared sentinel does not match (on pool or
// fireforget it would: declare the ones callers test). [Map] and
// [MapUnordered] add the failed item's index to the text.
//
// # Processes
//
// Each worker has its own process group (Setpgid), so that killing it also
// kills whatever its tasks started, and is killed by the kernel when the
// pool's process dies (Pdeathsig, set from one goroutine locked to its
// thread for the pool's lifetime: the signal follows the thread that
// started the child, not the process). Every worker is waited for. Its
// stdin is /dev/null; its stdout is discarded and its stderr kept (the last
// 8 KiB) unless [Passthrough] copies them to the pool's own. Requests
// and results travel on extra pipes (and the bell on a third, see below),
// never on stdout, so tasks may print. The worker receives them as fds 3
// to 5 and, when this package is
// initialized (before the code of any package that imports it), moves them
// to close-on-exec fds at a random height and puts /dev/null in their
// place: a task that writes to fd 4 cannot break the protocol, and
// programs it starts do not hold the pipes. A worker whose frame stops
// coming part way (10 seconds without a byte) is killed: the call it ran
// fails with a [*WorkerError] wrapping [ErrProtocol].
//
// # Protocol and dispatch
//
// Frames carry a length, a type byte and a call id, at most 64 MiB: an
// argument or a result larger than that fails its call with [ErrTooLarge]
// (a chunk of [Map] is split to fit, and its results may take several
// frames, up to 64 MiB per item); the
// worker opens with a HELLO giving the protocol version, its pid and the
// registry hash. Inside frames the envelope (function name, arguments,
// outcomes) is a hand-rolled binary layout, not gob: a call's envelope
// both ways costs about 0.16 µs against 1.9 µs with a persistent gob
// encoder and decoder per direction (BenchmarkEnvelope), and the decoder,
// which reads bytes from another process, is fuzzed (FuzzReadFrames). A
// call runs in the worker goroutine that read it, so that a call costs no
// goroutine switch there; the other goroutine takes over reading while it
// runs only when the pool sends a CANCEL, EXPIRE or REVOKE frame, which it
// tells the worker of on a third pipe (the bell). So a call costs no timer
// either, unless its caller's ctx has a deadline (which the function's ctx
// gets): one armed per call woke the Go runtime's poller for every call
// in a program with any other timer pending (its calls took 3.8 more
// system calls each). A busy worker is sent no more calls ahead of its
// running one than half its pipe holds, so that the pool's writes to it
// never wait for the running call, a CANCEL with them.
//
// On the pool's side, a call made by [Apply] (or run by a task's
// goroutine) on an idle worker is written and then read back by the
// calling goroutine itself, the path of a raw pipe ping-pong: no goroutine
// of the pool is woken for it. The pool's own reader of each worker's
// pipe reads only while the worker holds calls that no caller reads for
// (Futures, Map, calls queued behind others); an idle worker's exit is
// seen by waitid(WNOWAIT), which leaves the process unreaped, so that its
// pid, and the process group a kill aims at, are not recycled before the
// pool waited for it.
//
// Calls go to idle workers first, the one used last before any other: a
// process that has slept longer takes longer to wake, and a round trip
// waits for its worker's wake-up (on the 2-core VM of the bench report,
// picking any idle worker made one call in a row cost about 2.3 times the
// raw pipe, median of 7 runs of the round-trip cell; the worker used last,
// 1.4 times). Calls go to the workers in the order the pool admitted
// their tasks (a task whose policy makes it wait first, for its
// [execkit.RateLimit] token or to retry a call that could not be sent,
// takes its place when it is done waiting). When every worker is busy,
// each holds up to 15 more (prefetched, sent in batches; no more of them
// than half its pipe holds: see [Prefetch]), so that it
// never waits for the pool between two calls; a worker that falls idle
// takes back the older
// half of the calls prefetched by the busiest one, and takes no other call
// until they are back, so a call does not wait behind a slow one while a
// worker is idle. While every worker is busy, though, a call held behind
// a long one waits for it, and tasks admitted later may start first on
// the other workers: [Prefetch](0) turns prefetching off, for tasks that
// run long or wait for one another. [Map] sends items in chunks, one frame each way per chunk, and
// each chunk as one batch ([driver.EncodeBatch], run in the worker by
// [driver.InvokeBatch]): one pass of the codec each way per chunk, not
// per item, with an error per item.
//
// # Costs
//
// Measured on a shared 2-core Linux VM under a load average of 6 to 7
// (go test -bench . in this package; medians of 6 runs, Python 3.11 run
// right after with the same work; figures move with the machine's load):
//
//   - Start: about 3.5 ms per worker (New and Shutdown of one worker; 11 ms
//     for four), and about 5 MB of resident memory per idle worker for a
//     small binary.
//   - Round trip (Apply of a no-op, one worker): about 20 µs, 1.8 times
//     (1.7 to 2.2) a raw 8-byte ping-pong over two pipes with a helper
//     process, measured alternately in the same run (about 11 µs). Python's
//     apply takes 130 to 150 µs. The bench report (make compare), whose pipe
//     floor echoes through stdin/stdout and is slower, measured 45 to 53 µs,
//     1.6 to 2.0 times its floor. Since the caller reads its own result
//     (see Protocol and dispatch), a trip costs, counted with perf stat over
//     the pool and its worker (BenchmarkRoundTrip/via=pool/arg=none, 25,000
//     trips less 5,000, three runs alternated with the previous code, load
//     average 9 to 14): 5.2 to 6.4 system calls (2 writes, 2.2 to 2.5
//     reads, 0.5 to 1 epoll waits) and 2.6 to 2.9 context switches, against
//     8.2 to 9.0 and 4.0 to 4.7 before, and 5.0 to 5.7 and 2.3 to 2.6 for
//     the raw pipe; the pool process's own CPU fell from about 40 to 17 µs
//     a trip. In the bench report's round-trip cell (the pool and the raw
//     pipe alone, 5 rounds, old and new binaries alternated twice), the
//     ratio to the pipe went from 4.4 and 4.5 to 1.9 and 2.6. What is left is user time (about 29 allocations, encoding,
//     contexts, the registry) on both sides: on this VM a context switch
//     costs more than all of it, and wall-clock ratios under that load
//     move from 0.4 to 3.5 from one run to the next.
//   - Pipelined no-op calls (futures, 2 workers): about 3.5 to 5.5 µs per
//     call with struct{} or int arguments (the default codec sends a plain
//     int as one varint; other types go as gob, 2.5 µs more per value);
//     Python's apply_async takes 30 to 40 µs, so about 8 times faster: the
//     project's target of 20 times is missed (see the bench report). A call
//     costs about 2.1 system calls (1.14 writes: each result is written
//     before the worker starts the next call, so that a crash loses no
//     finished result; CALL frames go 7 to a write) and 0.6 context
//     switches. Results cannot be written together without running several
//     calls at once in a worker, and each Future's call is carried by a
//     goroutine blocked in its invoker (driver.Invoker is synchronous), so
//     every result wakes one. Where the CPU goes (perf record over the
//     whole machine, 100,000 calls at about 17.6 µs of CPU each, quiet):
//     the pool about 5.6 µs user and 3.6 µs kernel per call, the workers
//     4.0 µs user and 4.2 µs kernel, nearly all of the latter in the one
//     write per result (on this VM the return from each system call is
//     the costliest kernel path). Python's apply_async measures 30 to 110
//     µs, so 20 times faster needs at most 1.5 to 5.5 µs of wall time, 3
//     to 11 µs of CPU on 2 cores: about the workers' share alone.
//   - Map of 200,000 ints on 2 workers, default codec and chunks: about
//     16 ms (10 to 18), 3.75 MB allocated in the pool; Python's pool.map,
//     run alternately, took 51 to 88 ms (median 71), so Map is 3 to 7
//     times faster. A custom codec ([execkit.UseCodec]) is called once per
//     item inside the batch: about 18 to 23 ms with a varint codec that
//     has the optional AppendMarshal method (no allocation per item). Where the function runs, a batch's slices of
//     arguments and results, and its encoded results, are reused from one
//     batch to the next. A new pool's first Maps are slower (on this VM 5
//     to 10 ms for 20,000 items, then near 1 ms after about 15): each
//     worker's heap starts empty, and until its first collection every
//     page it allocates is a fresh one, each a page fault.
//   - The envelope of a call, both ways: 0.16 µs (1.9 µs with gob).
//
// The package needs Linux (Pdeathsig, /proc/self/exe); elsewhere starting a
// worker fails.
package subprocess
