package execkit

// Stats is a snapshot of an executor's counters. Executors report the ones
// their strategy can know; the rest stay zero, as each executor's Stats
// method documents. Counts are cumulative since the executor was created,
// except Queued and Running, which are current. A task's outcome reaches
// its Future (or the error handler) a moment before its executor counts it
// finished, so right after Wait returns, Stats may still show it Running.
type Stats struct {
	Submitted int64 // tasks admitted by Submit
	Queued    int64 // admitted, not started yet
	Running   int64 // running now
	Succeeded int64 // returned nil
	Failed    int64 // returned an error, or were given up before they started (panics not included)
	Panicked  int64 // panicked (delivered as *PanicError)
	Rejected  int64 // Submit calls refused by admission (ErrFull, ErrClosed, ctx ended, a failed group); bad input (ErrNilTask, ErrNotPortable) is not counted
	Retries   int64 // runs of a registered function repeated by its Retry policy (a task retried twice counts 2, and once in Succeeded or Failed)
	Timeouts  int64 // runs of a registered function that passed its own TimeLimit (each attempt counts; not one that returned the error of a nested call's limit, which wraps ErrTimeLimit too)
}
