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
// left. Each constructor takes its own kind of option ([Option] for New,
// [BackgroundOption] for Background, [RegistryOption] for NewRegistry), so
// one that does not apply does not compile; [Limit] configures all three.
//
// # Costs
//
// Measured with go test -bench on a 2-core AMD EPYC shared with other work
// (see bench_test.go). BenchmarkSubmitPaired alternates blocks of 256 no-op
// tasks started with bare go statements and through Submit, so both see the
// same load: Submit costs about 1.11x a bare go statement with a
// sync.WaitGroup (ratios of 6 runs 1.09x to 1.13x, about 300 to 500 ns per
// task, 2026-11-27, quiet machine; both allocate only the goroutine's
// closure there, the task value being shared). What it adds: the checks
// of Submit, a counter each for Submit and the task's end (on cache lines
// of their own, so a task ending on another core does not take the
// submitter's line), the deferred recover and the interface call. In make
// compare, where each task is a value of its own (a second allocation) and
// signals its batch, fireforget was 0.78x to 1.01x raw go on no-op tasks
// and 0.97x to 1.07x on 1 µs tasks in six runs on a quiet machine, two
// sets of three in a row (bench/RESULTS.md, README). Since a task's goroutine holds one frame of the Executor's below the
// task's own (it held five: a go statement's wrapper, run, exec, and
// execkit's run behind two calls), the median ratio of 8 runs is 1.02x (1.37x for the code
// before, in the same interleaved session under a load average of 11: the
// spread of both is wide, ±20% and ±52%), and a Submit costs 1 allocation
// and 32 bytes, a bare go statement's closure (TestAllocs).
//
// A task waiting for something keeps its goroutine's stack: 2 KB as long
// as its deepest call fits, else 4 KB (or more). The Executor's frames take
// 144 bytes of it more than a bare go statement's (336 before the change
// above; TestStackPerParkedTask measures it in a child process whose
// goroutines all start on 2 KB), so only a task already within 144 bytes
// of the 2 KB limit pays a 4 KB stack for running here. In the bench
// module's pending1e6 workload (1e6 parked tasks, in a child process; the
// compare command with -full -rounds 1 and -run
// 'workload=pending1e6/strategy=(raw-go|execkit-fireforget)$') the
// Executor holds 3035 bytes per pending task against 2943 for bare go
// statements (1.03x; 5006 before, 1.70x).
//
// Starting a Thread costs 3 allocations (about 350 ns on a quiet machine), a
// call of a Background function 4. A Registry job from Start to its end
// costs about 1 µs on a quiet machine (medians up to 2 µs under load), 6
// allocations and 500 bytes: the crypto/rand id, the job's context, its
// bookkeeping and eviction. A kept
// finished job holds about 650 bytes besides its output
// (TestRegistryMemoryBounded asserts under 16 MB for 1e4 kept jobs after 1e6
// have run).
package fireforget
