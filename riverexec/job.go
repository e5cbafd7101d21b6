package riverexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/xrun"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Kind is the River job kind of every call a riverexec executor inserts: one
// kind whose arguments name the registered function, so that one River
// worker runs every registration.
const Kind = "execkit_call"

// callArgs are a job's arguments: a call of a registered function, its
// retry budget, and the deadline of the call.
type callArgs struct {
	Func    string `json:"func"`
	Payload []byte `json:"payload,omitempty"` // the argument, encoded by the Func's codec
	// Retries is how many times a failed attempt runs again: the Func's
	// Retry when it declared one (FuncRetry), else the submitting
	// executor's Retries. Backoff is the first retry's wait (FuncRetry:
	// its ceiling, with full jitter up to MaxBackoff; else doubled for
	// each later retry up to maxBackoff).
	Retries    int           `json:"retries,omitempty"`
	Backoff    time.Duration `json:"backoff_ns,omitempty"`
	MaxBackoff time.Duration `json:"max_backoff_ns,omitempty"`
	FuncRetry  bool          `json:"func_retry,omitempty"`
	// Deadline is the deadline of the call's ctx, in Unix nanoseconds (0:
	// none): the worker runs the task under it, and a job that starts
	// after it fails without running.
	Deadline int64 `json:"deadline_ns,omitempty"`
	// From names the executor that submitted the call and waits for it
	// (empty for Enqueue), so that a worker in the same process can hand
	// it the outcome directly.
	From string `json:"from,omitempty"`
	// Format is the job format (jobFormat when submitted by this build; 0
	// for a job of a build before formats had a number), and Registry the
	// submitter's driver.RegistryHash: a worker refuses a job whose
	// format or registry differs from its own rather than misread it.
	Format   int    `json:"format,omitempty"`
	Registry string `json:"registry,omitempty"`
}

// jobFormat is the format of callArgs and of the payloads they carry.
// 1: arguments and results in execkit's codecs of 2026 (integers as
// varints), with Format and Registry. 2: the Func's policy applies on the
// worker (the retry budget and backoff in the args, in nanoseconds), and
// the call's deadline travels.
const jobFormat = 2

func (callArgs) Kind() string { return Kind }

// output is what a worker records on the job row with river.RecordOutput.
type output struct {
	Result []byte `json:"result,omitempty"` // the encoded result, on success
	Error  string `json:"error,omitempty"`
	// Remote is the error as driver.EncodeError encodes it (its type
	// name and the sentinels it matches besides its text); for a panic,
	// the panic value's, when that is an error.
	Remote []byte `json:"remote,omitempty"`
	Panic  string `json:"panic,omitempty"` // the panic value's text
	Stack  string `json:"stack,omitempty"` // the panicking goroutine's stack
	// Final marks a task error that ends the job: River's row is then
	// "cancelled" (the way a worker stops River from retrying), and its
	// state FAILURE, not REVOKED.
	Final bool `json:"final,omitempty"`
	// Refused marks a job the worker would not run: its format or
	// registry differs (ErrIncompatible).
	Refused bool `json:"refused,omitempty"`
	// Retried counts the job's attempts that failed and were retried
	// (not those its worker died under), TimedOut those that passed the
	// Func's own TimeLimit, so far: the submitter adds them to its Stats.
	// Each attempt that ends records TimedOut anew, that of the attempt
	// before it (read from the row) plus its own, if it timed out:
	// driver.InvokeAttempt says so, not the error, which may wrap
	// execkit.ErrTimeLimit for a nested call's limit.
	Retried  int `json:"retried,omitempty"`
	TimedOut int `json:"timed_out,omitempty"`
}

// River records these texts in a job's errors; they are not the task's.
const (
	rescuedText     = "Stuck job rescued by JobRescuer" // River's job rescuer
	interruptedText = "riverexec: interrupted: "        // a worker stopped under the task
	maxBackoff      = time.Hour
)

// worker is the River worker of Kind: it runs the named registration,
// one attempt per River attempt, under the Func's time limit and rate
// limit.
type worker struct {
	river.WorkerDefaults[callArgs]
	// scope holds the executor's rate limiters (one per function).
	scope *xrun.Scope
	// local, when set, hands a final outcome straight to this process's
	// submitter, which may be waiting for the job: River records
	// completions in batches (every 250ms when few), and the submitter
	// would otherwise wait for that and for its next poll.
	local func(id int64, from string, o outcome)
	// localCall, when set, returns the ctx of the task of this process's
	// submitter that waits for a job, or nil: the worker does not start
	// the job once that ctx was cancelled, and cancels the attempt's with
	// it.
	localCall func(id int64, from string) context.Context
	// jobs holds the jobs this worker is running, for Executor.Cancel to
	// cancel at once.
	jobs *localJobs
}

func (w *worker) Work(ctx context.Context, job *river.Job[callArgs]) error {
	a := job.Args
	if err := compatible(a); err != nil {
		return w.fail(ctx, job, output{Error: err.Error(), Refused: true}, err)
	}
	var task context.Context // the waiting call's, when it is this process's
	if w.localCall != nil {
		task = w.localCall(job.ID, a.From)
	}
	if task != nil && errors.Is(task.Err(), context.Canceled) {
		return river.JobCancel(fmt.Errorf("riverexec: job %d (%s) not started: its call was cancelled", job.ID, a.Func))
	}
	out := output{Retried: failures(job.Errors), TimedOut: timedOutBefore(job.JobRow)}
	run := ctx // the attempt's ctx: River's, under the call's deadline
	if task != nil {
		// Ended with the task's ctx, so that its Future's Cancel cancels
		// it before returning; River's ending (a revoke, a stop) ends it
		// too. Its values stay River's, as on any other worker.
		var cancel context.CancelFunc
		run, cancel = endedWith(ctx, task)
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
	}
	if a.Deadline != 0 {
		dl := time.Unix(0, a.Deadline)
		if !time.Now().Before(dl) {
			err := fmt.Errorf("riverexec: job %d (%s) attempt %d not started: the call's deadline %s passed: %w", job.ID, a.Func, job.Attempt, dl.UTC().Format(time.RFC3339Nano), context.DeadlineExceeded)
			out.Error, out.Remote = err.Error(), driver.EncodeError(a.Func, err)
			return w.fail(ctx, job, out, err)
		}
		var cancel context.CancelFunc
		run, cancel = context.WithDeadline(run, dl)
		defer cancel()
	}
	if w.scope != nil {
		run = xrun.WithScope(run, w.scope)
	}
	var revoked context.Context // ends when Executor.Cancel of this process revokes the job
	if w.jobs != nil {
		var revoke context.CancelCauseFunc
		revoked, revoke = context.WithCancelCause(run)
		defer revoke(nil)
		r := w.jobs.begin(job.ID, revoke)
		if r == nil {
			return river.JobCancel(fmt.Errorf("riverexec: job %d (%s) not started: revoked", job.ID, a.Func))
		}
		defer w.jobs.end(job.ID, r)
		run = revoked
	}
	res, timedOut, err := invokeGuarded(run, a.Func, a.Payload)
	// A method of err may panic (a typed nil's Error or Unwrap): River would
	// recover that panic as a failed attempt, and run the job again
	// whatever its retries.
	err = link.Readable(a.Func, err)
	if err == nil {
		out.Result = res
		if rerr := river.RecordOutput(ctx, out); rerr != nil { // too large
			// A result the row cannot hold is a value the codec's output
			// cannot carry: ErrPayload, as for an argument, and final.
			err := fmt.Errorf("riverexec: recording the result of %q (%d bytes encoded): %v: %w", a.Func, len(res), rerr, execkit.ErrPayload)
			out.Result = nil
			out.Error, out.Remote = err.Error(), driver.EncodeError(a.Func, err)
			return w.fail(ctx, job, out, err)
		}
		if w.local != nil {
			w.local(job.ID, a.From, outcome{res: res, retried: out.Retried, timedOut: out.TimedOut})
		}
		return nil
	}
	if task != nil && errors.Is(task.Err(), context.Canceled) && ctx.Err() == nil {
		// Its call was cancelled while it ran: revoked, as River makes
		// it once it hears of the call's revoke.
		return river.JobCancel(fmt.Errorf("riverexec: job %d (%s) revoked by its call: %w", job.ID, a.Func, err))
	}
	if revoked != nil && context.Cause(revoked) == errCancelled && ctx.Err() == nil {
		// Executor.Cancel revoked it while it ran: revoked, as River
		// makes it once it hears of it.
		return river.JobCancel(fmt.Errorf("riverexec: job %d (%s) revoked: %w", job.ID, a.Func, err))
	}
	if timedOut {
		out.TimedOut++
	}
	final := isPermanent(err)
	var pe *execkit.PanicError
	switch {
	case errors.As(err, &pe):
		out.Error, out.Panic, out.Stack = err.Error(), fmt.Sprint(pe.Value), string(pe.Stack) // made storable where recorded
		// A value that is an error keeps its sentinels, for errors.Is through the panic.
		if v, ok := pe.Value.(error); ok && v != nil {
			out.Remote = driver.EncodeError(a.Func, link.Readable(a.Func, v))
		}
	case ctx.Err() == nil && run.Err() != nil && !errors.Is(err, context.DeadlineExceeded):
		// The call's deadline passed: that is the error, whatever the
		// task made of it.
		err = fmt.Errorf("riverexec: job %d (%s): the call's deadline passed: %w (the task returned: %w)", job.ID, a.Func, context.DeadlineExceeded, err)
		out.Error, out.Remote = err.Error(), driver.EncodeError(a.Func, err)
	default:
		out.Error, out.Remote = encodeError(a.Func, err)
	}
	switch {
	case errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
		// Revoked: River cancels the job whatever we return.
	case ctx.Err() != nil:
		// The worker is stopping (or RescueAfter passed): not the task's
		// failure, so River runs it again, here or elsewhere.
		_ = record(ctx, out)
		return &rowError{fmt.Errorf("%s%w", interruptedText, err)}
	case run.Err() != nil, // the call's deadline passed (a cancelled call and a revoke returned above), timed out or not: no retry could start
		a.Deadline != 0 && time.Unix(0, a.Deadline).Before(w.NextRetry(job)), // or will before a retry could start
		errors.Is(err, execkit.ErrNotRegistered), errors.Is(err, execkit.ErrPayload), final,
		pe != nil && a.FuncRetry, // a panic is not retried by a Func's Retry, as on every executor
		failures(job.Errors)+1 > a.Retries:
		return w.fail(ctx, job, out, err)
	}
	_ = record(ctx, out)
	return &rowError{err}
}

// endedWith returns a ctx that ends when task does, at once (a child of
// it: a Future's Cancel has cancelled it, and every ctx derived from it,
// when it returns), or when cancel is called, and whose values are those
// of values (River's ctx for the job): the task's are the submitting
// side's own (its executor's scope, driver.RunViaOnce's mark, which would
// make a call the function sends to another executor skip its policy),
// and a job sees the same values on every worker.
func endedWith(values, task context.Context) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancel(task)
	return &taskEnded{Context: inner, values: values}, cancel
}

// taskEnded is endedWith's ctx.
type taskEnded struct {
	context.Context // the child of the task's ctx: Done, Err, Deadline
	values          context.Context
}

// Value answers from values, except the question package context asks to
// find the cancelCtx a derived ctx hangs on (its answer is that ctx
// itself): that answer keeps the derived ctxs' cancellation synchronous,
// as a child's.
func (c *taskEnded) Value(key any) any {
	if v := c.Context.Value(key); v == any(c.Context) {
		return v
	}
	return c.values.Value(key)
}

// invokeGuarded is driver.InvokeAttempt on a goroutine of its own, so that
// a function that ends its goroutine (runtime.Goexit, as t.FailNow does)
// fails its attempt with an error saying so instead of ending River's
// worker goroutine, which would leave the job running until RescueAfter,
// its slot taken and its caller waiting. A goroutine costs about a
// microsecond; a job, hundreds.
func invokeGuarded(ctx context.Context, name string, payload []byte) ([]byte, bool, error) {
	type result struct {
		res      []byte
		timedOut bool
		err      error
	}
	ch := make(chan result, 1)
	go func() {
		returned := false
		defer func() {
			if !returned { // InvokeAttempt recovers panics: this is Goexit
				ch <- result{err: fmt.Errorf("riverexec: function %q called runtime.Goexit", name)}
			}
		}()
		res, timedOut, err := driver.InvokeAttempt(ctx, name, payload)
		returned = true
		ch <- result{res, timedOut, err}
	}()
	r := <-ch
	return r.res, r.timedOut, r.err
}

// encodeError returns the text and the encoding (driver.EncodeError) of a
// task's error; an error marked Permanent keeps the text and type of the
// task's own error and matches execkit.ErrPermanent, so the submitter can
// tell the failure was final. The text is made storable (cut to
// errtext.MaxText, as the encoding's is) where it is recorded.
func encodeError(fn string, err error) (string, []byte) {
	p, ok := err.(*permanent)
	if !ok {
		return errtext.Of(err), driver.EncodeError(fn, err)
	}
	re, ok := driver.DecodeError(fn, driver.EncodeError(fn, p.err)).(*execkit.RemoteError)
	if !ok {
		return errtext.Of(p.err), driver.EncodeError(fn, p)
	}
	if !errors.Is(re, execkit.ErrPermanent) {
		re.Sentinels = append(re.Sentinels, execkit.ErrPermanent)
	}
	return re.Message, driver.EncodeError(fn, re)
}

// compatible returns an error wrapping ErrIncompatible when this worker
// must not run a job with args: another job format, or a submitter whose
// registry differs from this process's.
func compatible(args callArgs) error {
	reg := driver.RegistryHash()
	if args.Format == jobFormat && args.Registry == reg {
		return nil
	}
	return fmt.Errorf("%w: the job (%s) is in job format %d from a submitter with registry %s; this worker reads format %d and has registry %s",
		ErrIncompatible, args.Func, args.Format, orNone(args.Registry), jobFormat, reg)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// permanent is the error of Permanent.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Is makes a Permanent error match execkit.ErrPermanent, the mark every
// executor's retries honour.
func (p *permanent) Is(target error) bool { return target == execkit.ErrPermanent }

// Permanent marks err as final: a task that returns it (or an error
// wrapping it) fails at once, whatever the Func's Retry or [Retries]
// allows, as Celery's Reject(requeue=False) or an exception outside
// autoretry_for. Use it for errors that another attempt cannot fix: bad
// input, a missing record. The mark is [execkit.ErrPermanent]'s:
// errors.Is(Permanent(err), execkit.ErrPermanent) holds, so the retries of
// every executor honour it, and it travels back: the submitter's error (a
// Future's, Map's, or Lookup's Job.Err) has the text and type name of err
// and matches execkit.ErrPermanent, so the caller can tell the failure was
// final. Permanent(nil) is nil. An error wrapping execkit.ErrPermanent
// directly is final too.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

func isPermanent(err error) bool { return errors.Is(err, execkit.ErrPermanent) }

// fail ends the job for good: River's way is to cancel it, so the output
// says Final to tell FAILURE from REVOKED.
func (w *worker) fail(ctx context.Context, job *river.Job[callArgs], out output, err error) error {
	out.Final = true
	out = out.storable() // for the local Future too: the same texts as the row's
	_ = river.RecordOutput(ctx, out)
	if w.local != nil {
		w.local(job.ID, job.Args.From, outcome{err: out.failure(job.ID, job.Args.Func, job.Attempt), retried: out.Retried, timedOut: out.TimedOut})
	}
	return river.JobCancel(&rowError{err})
}

// record records out on the job row (river.RecordOutput), its texts made
// storable.
func record(ctx context.Context, out output) error {
	return river.RecordOutput(ctx, out.storable())
}

// storable returns out with its texts as a job row holds them (see
// storable).
func (out output) storable() output {
	out.Error, out.Panic, out.Stack = storable(out.Error), storable(out.Panic), storable(out.Stack)
	return out
}

// storable returns s as the JSON of a job row can hold it, the same on
// every database and whichever way the outcome travels: cut to
// errtext.MaxText, valid UTF-8 (JSON turns invalid bytes into U+FFFD) and
// without NUL (PostgreSQL's jsonb refuses \u0000, and River then fails to
// record the whole batch of completions it was in). Both become U+FFFD.
func storable(s string) string {
	s = errtext.Cap(s)
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// A rowError is an error returned to River, which records its text in the
// job's errors: that text made storable; Unwrap returns the task's error.
type rowError struct{ err error }

func (e *rowError) Error() string { return storable(errtext.Of(e.err)) }
func (e *rowError) Unwrap() error { return e.err }

// NextRetry is when a failed job runs again: under a Func's Retry, after a
// random wait up to its backoff doubled per retry (full jitter, as every
// executor waits); under the executor's Retries, after its backoff doubled
// per retry. River's rescuer uses it too.
func (w *worker) NextRetry(job *river.Job[callArgs]) time.Time {
	a := job.Args
	k := failures(job.Errors) + 1 // the retry to come
	if a.FuncRetry {
		return time.Now().Add(driver.Policy{Backoff: a.Backoff, MaxBackoff: a.MaxBackoff}.Delay(k))
	}
	d := a.Backoff
	if d <= 0 {
		d = defaultBackoff
	}
	for range min(k-1, 20) {
		d = min(2*d, maxBackoff) // never past maxBackoff, so never overflowing
	}
	return time.Now().Add(min(d, maxBackoff))
}

// failures counts the attempts that ended with the task's own error.
func failures(errs []rivertype.AttemptError) int {
	n := 0
	for _, e := range errs {
		if e.Error != rescuedText && !strings.HasPrefix(e.Error, interruptedText) {
			n++
		}
	}
	return n
}

// timedOutBefore returns the count of the job's attempts that passed the
// Func's own TimeLimit before this one: the TimedOut of the output the
// last attempt that ended recorded on the row (River keeps a failed
// attempt's output for the next), 0 when none did (the first attempt, or
// only attempts whose worker died). Not the attempts' errors: one that
// wraps execkit.ErrTimeLimit may be a nested call's limit, not the
// Func's.
func timedOutBefore(row *rivertype.JobRow) int {
	raw := row.Output()
	if raw == nil {
		return 0
	}
	var out output
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0
	}
	return out.TimedOut
}

// A State is a job's state in Celery's vocabulary.
type State string

// The states of a job. Celery reports PENDING for an id it never issued;
// riverexec says UNKNOWN, and PENDING only for a job that is waiting.
const (
	StateUnknown State = "UNKNOWN" // no such job: never issued, or deleted by River's cleaner
	StatePending State = "PENDING" // waiting for a worker
	StateStarted State = "STARTED" // a worker is running it
	StateRetry   State = "RETRY"   // an attempt failed (or its worker died); it will run again
	StateSuccess State = "SUCCESS" // returned a result
	StateFailure State = "FAILURE" // failed for good: its error is in Job.Err
	StateRevoked State = "REVOKED" // cancelled before it finished
)

// A Job is what [Executor.Lookup] knows of a job.
type Job struct {
	ID      int64
	Func    string // the registered function it calls
	State   State
	Attempt int // attempts begun so far
	// Result is the encoded result once State is SUCCESS: decode it with
	// the Func's Codec (nothing to decode for a struct{} result).
	Result []byte
	// Err is the job's error once State is FAILURE (a *JobError) or
	// REVOKED ([ErrRevoked]); nil otherwise.
	Err error
}

// A JobError is the error of a task that failed for good on a worker: its
// own error, or its panic, sent back across the process boundary. A panic
// is also a *execkit.PanicError (errors.As finds it through Unwrap), whose
// Value is the panic value's text (an *execkit.RemoteError when the value
// was an error, matching its declared sentinels) and whose Stack is the
// worker's stack.
// Any other error is also an *execkit.RemoteError (through Unwrap) with the
// original's type name, so errors.Is matches the sentinels declared with
// [execkit.Errors] (and context.Canceled, context.DeadlineExceeded,
// execkit.ErrPayload and execkit.ErrNotRegistered) that the original
// matched on the worker.
type JobError struct {
	JobID    int64
	Func     string
	Attempts int    // attempts the job made
	Message  string // the task's error text, as the row holds it (see the package documentation)
	Panic    *execkit.PanicError
	remote   error // the task's error rebuilt by driver.DecodeError; nil for a panic
}

// Error returns "riverexec: job ID (func) failed after N attempts: " and
// the task's message.
func (e *JobError) Error() string {
	return fmt.Sprintf("riverexec: job %d (%s) failed after %d attempt(s): %s", e.JobID, e.Func, e.Attempts, e.Message)
}

// Unwrap returns the panic, if the task panicked, or else the task's error
// as an *execkit.RemoteError (nil for a job River failed by itself).
func (e *JobError) Unwrap() error {
	if e.Panic == nil {
		return e.remote
	}
	return e.Panic
}

var (
	// ErrRevoked is the error of a job that was cancelled (by
	// [Executor.Cancel], or by a River client) before it finished. A
	// Future whose own Cancel revoked the job gets context.Canceled
	// instead.
	ErrRevoked = errors.New("riverexec: job revoked")

	// ErrWorkOnly is returned by Submit of an executor made with
	// [WorkOnly].
	ErrWorkOnly = errors.New("riverexec: executor only runs workers (WorkOnly); submit from another executor")

	// ErrIncompatible is wrapped by the error of a job that a worker
	// refused to run because it was submitted by an incompatible build:
	// another job format (a build of riverexec before or after this one's
	// format), or another set of registered functions
	// ([driver.RegistryHash]). The message says both. The job ends
	// FAILURE; run builds that differ on separate queues ([Queue]) while
	// both are deployed.
	ErrIncompatible = errors.New("riverexec: job from an incompatible build")

	// ErrTxType is wrapped by the error of [Executor.EnqueueTx] for a
	// transaction of the other database's type.
	ErrTxType = errors.New("riverexec: transaction of the wrong type")

	// ErrUnknownJob is returned by [Executor.Cancel] for an id with no job.
	ErrUnknownJob = errors.New("riverexec: no such job")
)

// failure is the error of a job that failed for good with out.
func (out output) failure(id int64, fn string, attempts int) *JobError {
	e := &JobError{JobID: id, Func: fn, Attempts: attempts, Message: out.Error}
	if out.Panic != "" {
		e.Panic = &execkit.PanicError{Value: out.Panic, Stack: []byte(out.Stack)}
		if re, ok := driver.DecodeError(fn, out.Remote).(*execkit.RemoteError); ok && len(out.Remote) > 0 {
			re.Message = out.Panic // the text as the row holds it
			e.Panic.Value = re
		}
	} else if out.Refused {
		e.remote = fmt.Errorf("%w: %s", ErrIncompatible, strings.TrimPrefix(out.Error, ErrIncompatible.Error()+": "))
	} else if re, ok := driver.DecodeError(fn, out.Remote).(*execkit.RemoteError); ok {
		e.remote = re // not for a row without it (River's own failure)
	}
	return e
}

// jobOf reads a River row.
func jobOf(row *rivertype.JobRow) Job {
	j, _ := readRow(row)
	return j
}

// readRow reads a River row, and the output its worker recorded.
func readRow(row *rivertype.JobRow) (Job, output) {
	var args callArgs
	_ = json.Unmarshal(row.EncodedArgs, &args)
	var out output
	if raw := row.Output(); raw != nil {
		_ = json.Unmarshal(raw, &out)
	}
	j := Job{ID: row.ID, Func: args.Func, Attempt: row.Attempt}
	failed := func() error {
		if out.Error == "" && len(row.Errors) > 0 { // River's own error: rescued too often
			out.Error = row.Errors[len(row.Errors)-1].Error
		}
		return out.failure(row.ID, args.Func, row.Attempt)
	}
	switch row.State {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending:
		j.State = StatePending
		if len(row.Errors) > 0 {
			j.State = StateRetry
		}
	case rivertype.JobStateRetryable:
		j.State = StateRetry
	case rivertype.JobStateRunning:
		j.State = StateStarted
	case rivertype.JobStateCompleted:
		j.State, j.Result = StateSuccess, out.Result
	case rivertype.JobStateDiscarded:
		j.State, j.Err = StateFailure, failed()
	case rivertype.JobStateCancelled:
		if out.Final {
			j.State, j.Err = StateFailure, failed()
		} else {
			j.State, j.Err = StateRevoked, fmt.Errorf("%w: job %d (%s)", ErrRevoked, row.ID, args.Func)
		}
	default:
		j.State = StateUnknown
	}
	return j, out
}
