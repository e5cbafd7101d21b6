// Package driver is for people who write an execkit executor; people who
// run tasks import package execkit alone. It is the split of database/sql
// and database/sql/driver: the root package holds the user's vocabulary
// (Executor, Task, Future, Register and Func), this one the few mechanisms
// an executor needs to honour the contract the same way execkit's own
// executors do.
//
// # Writing an executor
//
// An executor implements [execkit.Executor]. In Submit it refuses a nil
// task first ([IsNil], then [execkit.ErrNilTask]); where the task runs it
// calls [Run], which recovers a panic into an [*execkit.PanicError] and
// never starts a task whose context has ended; and it passes the error Run
// returns to its error handler unless [HasFuture] says the task delivers
// its outcome itself (to a Future, or a handle of [SelfReporting] kind),
// which would report it twice. Shutdown stops admission, waits, and
// cancels the tasks' contexts when its own ctx ends first.
//
// # Crossing a process boundary
//
// A closure cannot leave its process; a call of a registered
// [execkit.Func] can. An executor that runs tasks elsewhere (a worker
// process, a job queue, another machine) accepts only [Portable] tasks
// (others get [execkit.ErrNotPortable]) and runs them with [RunVia], giving
// an [Invoker] that carries the function's name and encoded argument to the
// other side. There, in a binary that registered the same functions, the
// executor calls [Invoke] and sends back the encoded result, or the error
// encoded with [EncodeError]; the caller's side decodes that error with
// [DecodeError], so errors.Is holds for the sentinels the function
// declared. Both sides compare [RegistryHash] when they meet, and refuse
// each other when it differs. Many calls of one function travel as one
// batch: [EncodeBatch] on the caller's side, [InvokeBatch] on the other,
// [DecodeBatch] for the results.
//
// # Task policies
//
// A registered function's policy ([execkit.TimeLimit], [execkit.Retry],
// [execkit.RateLimit]) applies, under RunVia, on the side that sends the
// call: each attempt is a call of the invoker. An executor whose calls
// outlive their sender (a durable job queue, whose retries must happen
// even if the submitter died) applies it where the call runs instead: it
// submits with [RunViaOnce] (the invoker is called once, and its ctx carries
// the call's deadline), writes the retry budget of [PolicyOf] into the job,
// runs each attempt with [InvokeAttempt] (time limit and rate limit) and
// waits [Policy.Delay] between attempts. It counts a timeout for each
// attempt that InvokeAttempt reports timed out, not for each error wrapping
// [execkit.ErrTimeLimit]: the function may return a nested call's.
//
// # Testing an executor
//
// Package executortest is this package's test kit: its Run checks an
// executor against the whole contract (admission, at-most-once, panics,
// cancellation, Shutdown, Futures, portable functions), the way
// testing/fstest checks a file system. Every execkit executor passes it.
package driver
