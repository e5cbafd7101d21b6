// Package fireforget runs each task in a goroutine of its own: the Go
// counterpart of Python's "start a thread and let it run" patterns, with the
// hazards of those patterns fixed.
//
// # Which piece for which Python pattern
//
//   - [Executor] (made by [New]) is the strategy itself: Submit starts a
//     goroutine per task, optionally at most [Limit] at once, and implements
//     [execkit.Executor], so [execkit.Go], [execkit.Map] and
//     [execkit.AsCompleted] work on it.
//   - [Thread] is a threading.Thread subclass: any [execkit.Task] (a value
//     with Run(ctx) error) wrapped by [NewThread] and started with
//     [Thread.Start]. Its ID is never reused, and the task's error or panic
//     reaches [Thread.Join] instead of threading.excepthook.
//   - [Background] is the @background decorator: it wraps a typed function so
//     that each call starts it and returns its Thread at once.
//   - [Registry] is web.py's background/threaddb, and [Registry.Handler] its
//     @backgrounder: jobs with random 128-bit ids, states, a capped output,
//     a cap on the unfinished jobs ([DefaultLimit] unless set), eviction of
//     finished ones by age and count, and the 303-to-?_t=<id> page flow.
//
// # Contract
//
// Every task runs with a context the executor cancels when Shutdown gives up
// waiting (and, for a Registry job, when it is cancelled). A panic in a task
// never crashes the process: it becomes a [*execkit.PanicError] with the
// stack, delivered where the task's error goes (the error handler set by
// [OnError], a Future, a Thread, or a job's state). Nothing starts a
// goroutine until work is submitted, and after Shutdown returned nil none is
// left. Options ([Option]) are shared by [New], [Background] and
// [NewRegistry]; each says which of them accept it.
//
// # Costs
//
// Measured with go test -bench on a 2-core AMD EPYC shared with other work
// (see bench_test.go). BenchmarkSubmitPaired alternates blocks of 256 no-op
// tasks started with bare go statements and through Submit, so both see the
// same load: Submit costs about 1.06x a bare go statement with a
// sync.WaitGroup (median ratio of 6 runs; 225 ns against 214 ns per task).
// Starting a Thread costs 3 allocations (about 350 ns on a quiet machine), a
// call of a Background function 4. A Registry job from Start to its end
// costs about 1 µs on a quiet machine (medians up to 2 µs under load), 6
// allocations and 500 bytes: the crypto/rand id, the job's context, its
// bookkeeping and eviction. A kept
// finished job holds about 650 bytes besides its output
// (TestRegistryMemoryBounded asserts under 16 MB for 1e4 kept jobs after 1e6
// have run).
package fireforget
