// Package execkit is the vocabulary shared by execkit's executors: one
// [Executor] interface behind which Python's ways of running work "in the
// background" each get an idiomatic Go counterpart, so that tasks move from
// one strategy to another unchanged.
//
// # Which executor
//
//   - [Inline] runs a task in the goroutine that submits it: the reference
//     implementation of the contract, and a stand-in in tests.
//   - package fireforget starts a goroutine per task: the counterpart of a
//     threading.Thread subclass, of a @background decorator, and of web.py's
//     background/backgrounder (with a registry of jobs and an HTTP handler).
//   - package pool runs tasks on a bounded pool of goroutines (on ants): the
//     counterpart of the threadpool package and of ThreadPoolExecutor.
//   - package errgroup runs a group where the first failure cancels the rest
//     (on x/sync): Python's wait(FIRST_EXCEPTION), asyncio's TaskGroup.
//   - package subprocess runs registered functions in worker processes: the
//     counterpart of multiprocessing.Pool, for isolation rather than speed.
//
// # The contract
//
// Submit admits a task or says why not ([ErrClosed], [ErrFull], ctx.Err(),
// [ErrNilTask], [ErrNotPortable]) and never panics. Every admitted task runs
// at most once, and its outcome is observable: through its [Future] when it
// was submitted with one ([Go], [Map], [Func.Go]), else through the
// executor's error handler (by default a log/slog record with the stack).
// A panic in a task becomes a [*PanicError] delivered to the same place.
// Shutdown stops admission, waits for admitted tasks and for every goroutine
// and process the executor started; when its ctx ends first it cancels the
// tasks' contexts and returns ctx.Err(). Package executortest checks all of
// this against any Executor, and every execkit executor passes it.
//
// # Results
//
// [Go] wraps a typed function and returns a [Future]: Wait with a ctx, Done
// for select, Cancel (a task that has not started never will). [Map] keeps
// input order and stops at the first error; [AsCompleted] is an iterator in
// completion order. They work on every executor. On [Inline], Go plus Wait
// costs 4 allocations (BenchmarkGoWait, TestGoWaitAllocs).
//
// # Portable functions
//
// A closure cannot cross a process boundary. [Register] names a typed
// function at package level and returns a [Func]; its Go, Map and Task
// methods make tasks that carry the name and the encoded argument. In-process
// executors call the function directly and encode nothing; process-crossing
// executors run the task through [Portable.RunVia], sending name and payload
// to a worker that calls [Invoke] on the same registration; many items go
// as one batch ([Func.EncodeBatch], [InvokeBatch], [Func.DecodeBatch]), one
// payload each way. [RegistryHash]
// lets both sides check they registered the same functions. Arguments and
// results travel with a [Codec], [GobCodec] by default, which refuses what
// gob would drop silently (chan and func fields, unexported fields) and
// lists what gob changes on the way (an empty slice arrives as nil).
//
// An error crosses as a [*RemoteError]: its text, its type's name, and the
// sentinels declared with [Errors] that it matched, so errors.Is holds for
// those on every executor (in-process executors return the function's own
// error, for which it holds anyway). A panic crosses as a [*PanicError]
// with the value's text and the worker's stack. Executors carry errors with
// [EncodeError] and [DecodeError].
package execkit
