// Package riverexec is an [execkit.Executor] whose tasks are durable: each
// task is a job of River (github.com/riverqueue/river), a job queue in a
// database, so it survives the process that submitted it. It is execkit's
// counterpart of Celery, minus the broker and the result backend to
// deploy: the database is both. It is a module of its own, so that River,
// pgx and SQLite enter only the go.mod of programs that import it.
//
// # The ladder: one handle chooses the database
//
//   - One machine, nothing to install: [OpenSQLite] opens (or creates) an
//     embedded SQLite file, pure Go (modernc.org/sqlite, no cgo, no server),
//     and [NewSQLite] makes the executor on it. Jobs survive a crash or a
//     restart of the process.
//   - Many machines: [Migrate] and [New] on a PostgreSQL pool
//     (*pgxpool.Pool); workers on any machine that reaches the database.
//
// Everything else is the same on both: Register, Func.Go and Map,
// [Executor.Enqueue], Lookup, Cancel, the states, [Retries], [Permanent].
// [Executor.EnqueueTx] takes the database's own transaction (a pgx.Tx, or a
// *sql.Tx of the SQLite handle), so a job exists if and only if the
// transaction that wrote your row commits.
//
// # What SQLite allows
//
// SQLite lets one writer at a time hold the file; readers never wait (the
// handle of OpenSQLite uses write-ahead logging). OpenSQLite's handle waits
// for the lock (up to 10 seconds) rather than fail with SQLITE_BUSY, takes
// it when a transaction begins (BEGIN IMMEDIATE, so two writers never
// deadlock), and keeps one connection per process. Several processes on
// one machine may share the file (a web process with [SubmitOnly] and
// worker processes with [WorkOnly], say): the file's locks are the
// operating system's, released when a process dies, so a SIGKILLed worker
// loses nothing and its running jobs are rescued. Not across machines: a
// network file system's locks are not to be trusted with SQLite; that is
// PostgreSQL's rung. Without LISTEN/NOTIFY, workers look for new jobs every
// 5ms (an indexed query on an idle queue) and a revoked running job's
// worker hears of it within 2 seconds (River polls for cancellations).
// Every commit writes through to the disk (synchronous=FULL).
// # Shape
//
// Only registered functions cross machines ([execkit.Register]): a task made
// by a [execkit.Func] carries the function's name and its encoded argument,
// and becomes one job of the single kind [Kind]. Every process that shares
// the database and registered the same functions can work it. Submit (and
// so Func.Go and Func.Map) accepts only such tasks; a closure gets
// [execkit.ErrNotPortable].
//
//   - Submitting: Submit admits a task and returns; a goroutine inserts the
//     waiting calls in batches (one InsertMany per batch), and another polls
//     River's job list for the pending ids, one query per cycle: 2ms after
//     a poll that found results, twice as long after one that found none
//     (up to 100ms). The result (or error, or panic with its stack) reaches
//     the task's Future. Polling rather than LISTEN/NOTIFY: River notifies
//     nothing when a job completes (a trigger would add work to every
//     completion), and one query answers for thousands of pending jobs.
//   - Working: River's client fetches jobs of the executor's queue and runs
//     each registration with [driver.InvokeAttempt]; the worker records the
//     encoded result (or the error) on the job row with River's
//     river.RecordOutput. When the job came from the executor of the same
//     process, the worker also hands it the outcome at once.
//   - Modes: one executor does both (the default: a single machine that may
//     grow); [SubmitOnly] in web processes and [WorkOnly] in worker
//     processes split them over machines.
//
// Every function and method here that takes a ctx takes a nil one as
// context.Background().
//
// The result of every job stays on its row for River's retention period
// (a day for successes, a week for failures), so any process can follow a
// job by id: [Executor.Enqueue] inserts one and returns its id,
// [Executor.Lookup] reports its [State] in Celery's words (PENDING,
// STARTED, RETRY, SUCCESS, FAILURE, REVOKED, and UNKNOWN for an id that was
// never issued, where Celery says PENDING), [Executor.Cancel] revokes it.
//
// # Delivery is at least once
//
// A job is in the database once [Executor.Enqueue] returned (or
// EnqueueTx's transaction committed); a task of Submit (Func.Go, Func.Map)
// once the inserter's batch is in, moments after Submit returned: a crash
// in between loses the task, and its Future with it. From then on nothing
// is lost. A job is run again when its worker dies (or stops with its deadline
// passed) while running it: River's rescuer finds it after [RescueAfter]
// and it runs elsewhere, up to three times beyond its retries. So a task
// may run twice, and even partly twice: write tasks that are idempotent
// (upsert rather than insert, check before you charge a card, name output
// files after the job). RescueAfter is also a task's time limit: its
// context ends then, and it runs again as if its worker had died (River
// rescues only jobs that have a time limit). Set RescueAfter above your
// longest task. A Future gets exactly one outcome, the first the database
// reports; a job has exactly one final state.
//
// Failing tasks are not retried unless the Func's [execkit.Retry] or the
// executor's [Retries] says so (Celery's default too), and never when the
// error is marked [Permanent]; the error that
// comes back is a [*JobError] carrying the task's message, and a panic is
// a *execkit.PanicError with the worker's stack.
//
// # Task policies
//
// A registered function's [execkit.TimeLimit], [execkit.Retry] and
// [execkit.RateLimit] hold on the worker, for every job of the function:
// those of Func.Go, Func.Map and Submit, and those written by
// [Executor.Enqueue] and [Executor.EnqueueTx] (durable: if the submitter
// dies, the retries still happen).
//
//   - Retry: a call is one job, and the Func's Retry(n) is its budget of
//     River attempts (the job's MaxAttempts, with three more for rescues;
//     River counts attempts in a smallint, so n above 32763 retries 32763
//     times).
//     Before retry k the job waits a random time up to the declared
//     backoff doubled k-1 times and capped by its maximum (full jitter, as
//     on every executor). Not retried: an error wrapping
//     execkit.ErrPermanent or marked [Permanent], a panic, ErrNotRegistered,
//     ErrPayload, [ErrIncompatible], a call whose deadline passed. A Func
//     that declares no Retry gets the executor's [Retries] (by default
//     none); a Func's Retry, Retry(0) too, wins over Retries. An attempt cut
//     short by its worker's death (or by RescueAfter) does not spend the
//     budget.
//   - TimeLimit: each attempt runs with a ctx that ends at the limit (cause
//     execkit.ErrTimeLimit) and fails with an error wrapping
//     execkit.ErrTimeLimit and context.DeadlineExceeded, as on every
//     executor; a result that comes later is discarded. River records the
//     attempt's error ("execkit: time limit exceeded ..."), and the attempt
//     is retried if the budget allows. The limit is cooperative: a task that
//     ignores its ctx holds its worker until it returns, and runs on until
//     [RescueAfter] at most, when River takes its worker for dead.
//   - RateLimit: applied where the task runs, per worker executor and
//     function (River has no rate limit of its own); a retry takes a token
//     too. N worker processes start up to N times the rate. A job waiting
//     for its token holds one of the worker's [Workers].
//   - A call's deadline: Func.Go, Func.Map and Submit of a Func's task write
//     the deadline of the call's ctx into the job row. The worker runs the
//     task with a ctx that ends then; a job whose deadline passed before a
//     worker took it never runs and fails (FAILURE, no retry) with an error
//     matching context.DeadlineExceeded. When the deadline passes, the call
//     fails at once with context.DeadlineExceeded and the submitter leaves
//     the job to its worker, which ends it under the same deadline: no
//     revoke is needed. A cancelled call (Future.Cancel, a Shutdown that
//     gave up) still revokes its job. The worker reads the deadline on its
//     own clock: keep the machines' clocks in step. Enqueue's ctx bounds
//     the insert only; its deadline is not the job's.
//   - A revoked job (a cancelled call, Executor.Cancel): the task's ctx
//     ends with context.Canceled, as in process, once its worker hears
//     of the revoke (see What SQLite allows). A cancelled call's job on
//     the worker of the executor that submitted it (the default mode)
//     keeps the contract of every executor: once the Future's Cancel has
//     returned, the job never starts there, and a running one has had its
//     ctx cancelled (its ctx ends with the call's; its values are a job's,
//     the same on every worker). So does a job that [Executor.Cancel]
//     revokes, on the worker of the same executor (any mode but
//     SubmitOnly): once Cancel has returned, a job it runs has had its ctx
//     cancelled, and one it fetched but had not started never starts.
//     A worker in another process may still start the job until the
//     revoke, sent as Cancel returns, reaches the database. A cause does not cross:
//     context.Cause of that ctx is River's reason for the revoke (an error
//     matching river.ErrJobCancelledRemotely), not the one the caller gave,
//     as subprocess's worker reports its Err. A time limit's cause,
//     execkit.ErrTimeLimit, is the worker's own and holds.
//
// The retry budget and its backoff are written into the job when it is
// inserted (the submitter's declaration, so a job keeps its budget across
// deploys); the time limit and the rate limit are the worker's own
// registration's. [driver.RegistryHash] does not cover policies: two builds
// that differ only there share a queue.
//
// The executor that waits for a call counts the retries and timeouts of
// its job in its Stats when the job's outcome arrives (the worker records
// them on the row, each attempt adding its own to those the attempt before
// it recorded); a timeout is an attempt that passed the Func's own
// TimeLimit, not one whose error wraps execkit.ErrTimeLimit because the
// function returned a nested call's (as is or wrapped). The jobs of
// Enqueue, which no executor waits for, are counted nowhere. A retry runs
// once River has recorded the failed attempt (it records them in batches) and a worker fetches the job again: on
// PostgreSQL the executor whose worker ran the attempt notifies the queue's
// workers when River has made the job available again (River notifies new
// jobs, not retries, which would wait for the next fetch poll, a second);
// on SQLite the workers poll every 5ms. BenchmarkRetry (a function failing
// twice under Retry(2, time.Millisecond), one call at a time) measures
// about 500ms a call on either database, about 250ms per retry; 2 seconds
// on PostgreSQL without the notice.
//
// # Compatibility across builds
//
// A job carries its format version and the submitter's registry hash
// ([driver.RegistryHash]: every registered name with its types). A worker
// whose build differs refuses the job, which fails with an error wrapping
// [ErrIncompatible] that names both sides, rather than misreading its
// payload. While two builds are deployed, give each its own [Queue].
//
// # What crosses with an error
//
// The job row keeps, of a task's error, exactly: its text, the name of its
// type (%T), and which of the sentinels the function declared with
// [execkit.Errors] (or context.Canceled, context.DeadlineExceeded,
// execkit.ErrPayload, execkit.ErrNotRegistered) it matched; of a panic, the
// value's text and the stack, and, when the value is an error, the
// sentinels it matched, which errors.Is finds through the
// *execkit.PanicError. The [*JobError] of a Future, of Map, or of
// [Executor.Lookup] unwraps to an *execkit.RemoteError carrying these, so
// errors.Is(err, sentinel) holds for the declared sentinels as it does on
// an in-process executor; errors.As finds the RemoteError, never the
// original's type, and an undeclared sentinel does not match. The texts of
// a JobError (its Message, a panic's value and stack) are as the row's
// JSON holds them, the same whichever process reads them: cut to about
// 1 MiB, with NUL bytes and invalid UTF-8 replaced by U+FFFD (PostgreSQL
// stores no NUL in JSON).
//
// # Sizes
//
// A job's argument, as the Func's codec encodes it, is at most 1 MiB
// ([MaxArgSize] sets another limit, up to 16 MiB). A larger one is refused
// before anything is inserted, with an error wrapping execkit.ErrPayload
// that gives its size and the limit: Enqueue and EnqueueTx return it (the
// transaction is left as it was), a task of Submit or Func.Go fails with it
// (its Future, or OnError), and Func.Map returns it and cancels its other
// items as after any failed item: those not inserted yet never are, those
// inserted are revoked (they may have run meanwhile). Map is not checked
// as a whole before its first insert: each item is checked when its task
// encodes it, after Submit returned, so items before the refused one, and
// some after it, may have been inserted by then. Why a limit: the job row
// holds the argument in its JSON (base64, 4/3 of its size), and an insert holds the database while it writes, on
// SQLite its only write lock, about 0.3s per MiB, which every insert, fetch
// and completion of every process on the file waits for (a 32 MiB
// argument took 50s, while River's fetches and leader election timed
// out). The inserter also splits its batches at 4 MiB of arguments. Pass
// large data by reference: store it (a table of your own, a bucket) and
// give the job its key. A result is bounded by River: the output recorded
// on the row is at most 32 MiB of JSON (a result of about 24 MiB); a
// larger one fails the job for good (no retry) with an error wrapping
// execkit.ErrPayload that gives its size and River's limit.
//
// # Costs
//
// Measured by BenchmarkThroughput and BenchmarkRoundTrip on a 2-core
// machine shared with other work (load average 4 to 6), no-op tasks,
// Func.Go for every task of a batch then Wait for every Future.
//
// On SQLite (OpenSQLite's handle, a file on the local disk):
//
//   - one executor: 1,200 to 2,200 tasks a second in batches of 1,000
//     or 10,000; one task at a time makes the round trip in about 10ms
//     (the workers' 5ms poll, then the local hand-over);
//   - a SubmitOnly and a WorkOnly executor: 1,200 to 2,000 tasks a
//     second; one at a time about 210ms (River's completion batching and
//     the poll, as on PostgreSQL).
//
// River's SQLite driver inserts and completes one row per statement (a
// batch still shares one transaction), so SQLite is slower than PostgreSQL
// per task; the busy time is the single writer's.
//
// On PostgreSQL 15 on the same machine (fsync off):
//
//   - one executor (the default): 3,500 to 13,000 tasks a second, in batches
//     of 1,000 or 10,000, as the machine's other load varied; one task at a
//     time makes the round trip in 3 to 20ms, because the local worker hands
//     the result straight to the local Future;
//   - a SubmitOnly and a WorkOnly executor (as on two machines): 3,000 to
//     6,000 tasks a second; one task at a time takes 220 to 280ms, nearly
//     all of it River completing jobs in batches (every 250ms while fewer
//     than 100 wait) before the poll can see them.
//
// About 150 to 200 allocations (14 to 18 kB, most of them River's and
// pgx's) per task on PostgreSQL, 400 (25 kB) on SQLite. A pending task costs a goroutine in the submitter and a
// row in the database.
//
// # Shutdown
//
// Shutdown stops admission, waits for the outcome of every task the
// executor admitted, stops River's client and returns once every goroutine
// it started has exited. River keeps none after that. The pool (or the
// SQLite handle) is yours,
// and so are its goroutines, which end when you close it: its health check,
// and now and then a connection's background reader, which pgx starts
// after a write slower than 15ms and which waits for the connection's next
// message (goleak names it github.com/jackc/pgx/v5/pgconn/internal/bgreader).
package riverexec
