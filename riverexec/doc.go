// Package riverexec is an [execkit.Executor] whose tasks run on any number
// of machines: each task is a job of River (github.com/riverqueue/river), a
// job queue in PostgreSQL. It is execkit's counterpart of Celery, minus the
// broker and the result backend to deploy: the database you already run is
// both. It is a module of its own, so that River and pgx enter only the
// go.mod of programs that import it.
//
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
//     each registration with [execkit.Invoke]; the worker records the
//     encoded result (or the error) on the job row with River's
//     river.RecordOutput. When the job came from the executor of the same
//     process, the worker also hands it the outcome at once.
//   - Modes: one executor does both (the default: a single machine that may
//     grow); [SubmitOnly] in web processes and [WorkOnly] in worker
//     processes split them over machines.
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
// A job is run again when its worker dies (or stops with its deadline
// passed) while running it: River's rescuer finds it after [RescueAfter]
// and it runs elsewhere, up to three times beyond its [Retries]. So a task
// may run twice, and even partly twice: write tasks that are idempotent
// (upsert rather than insert, check before you charge a card, name output
// files after the job). A task that runs longer than RescueAfter may be
// rescued while it still runs: set RescueAfter above your longest task.
// A Future gets exactly one outcome, the first the database reports.
//
// Failing tasks are not retried unless [Retries] says so (Celery's default
// too); the error that comes back is a [*JobError] carrying the task's
// message, and a panic is a *execkit.PanicError with the worker's stack.
//
// # What crosses with an error
//
// The job row keeps, of a task's error, exactly: its text, the name of its
// type (%T), and which of the sentinels the function declared with
// [execkit.Errors] (or context.Canceled, context.DeadlineExceeded,
// execkit.ErrPayload, execkit.ErrNotRegistered) it matched; of a panic, the
// value's text and the stack. The [*JobError] of a Future, of Map, or of
// [Executor.Lookup] unwraps to an *execkit.RemoteError carrying these, so
// errors.Is(err, sentinel) holds for the declared sentinels as it does on
// an in-process executor; errors.As finds the RemoteError, never the
// original's type, and an undeclared sentinel does not match.
//
// # Costs
//
// Measured by BenchmarkThroughput and BenchmarkRoundTrip on a 2-core
// machine shared with other work (load average 4 to 6) and PostgreSQL 15 on
// it (fsync off), no-op tasks, Func.Go for every task of a batch then Wait
// for every Future:
//
//   - one executor (the default): 5,000 to 13,000 tasks a second, in batches
//     of 1,000 or 10,000, as the machine's other load varied; one task at a
//     time makes the round trip in 3 to 6ms, because the local worker hands
//     the result straight to the local Future;
//   - a SubmitOnly and a WorkOnly executor (as on two machines): 4,000 to
//     6,000 tasks a second; one task at a time takes about 220ms, nearly all
//     of it River completing jobs in batches (every 250ms while fewer than
//     100 wait) before the poll can see them.
//
// About 130 to 170 allocations (11 to 14 kB, most of them River's and
// pgx's) per task. A pending task costs a goroutine in the submitter and a
// row in the database.
//
// # Shutdown
//
// Shutdown stops admission, waits for the outcome of every task the
// executor admitted, stops River's client and returns once every goroutine
// it started has exited. River keeps none after that. The pool is yours,
// and so are its goroutines, which end when you close it: its health check,
// and now and then a connection's background reader, which pgx starts
// after a write slower than 15ms and which waits for the connection's next
// message (goleak names it github.com/jackc/pgx/v5/pgconn/internal/bgreader).
package riverexec
