package riverexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Kind is the River job kind of every call a riverexec executor inserts: one
// kind whose arguments name the registered function, so that one River
// worker runs every registration.
const Kind = "execkit_call"

// callArgs are a job's arguments: a call of a registered function, and the
// retry policy of the executor that submitted it.
type callArgs struct {
	Func    string `json:"func"`
	Payload []byte `json:"payload,omitempty"` // the argument, encoded by the Func's codec
	Retries int    `json:"retries,omitempty"`
	Backoff int64  `json:"backoff_ms,omitempty"`
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
// varints), with Format and Registry.
const jobFormat = 1

func (callArgs) Kind() string { return Kind }

// output is what a worker records on the job row with river.RecordOutput.
type output struct {
	Result []byte `json:"result,omitempty"` // the encoded result, on success
	Error  string `json:"error,omitempty"`
	// Remote is the error as driver.EncodeError encodes it (its type
	// name and the sentinels it matches besides its text); not for a panic.
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
}

// River records these texts in a job's errors; they are not the task's.
const (
	rescuedText     = "Stuck job rescued by JobRescuer" // River's job rescuer
	interruptedText = "riverexec: interrupted: "        // a worker stopped under the task
	maxBackoff      = time.Hour
)

// worker is the River worker of Kind: it runs the named registration.
type worker struct {
	river.WorkerDefaults[callArgs]
	// local, when set, hands a final outcome straight to this process's
	// submitter, which may be waiting for the job: River records
	// completions in batches (every 250ms when few), and the submitter
	// would otherwise wait for that and for its next poll.
	local func(id int64, from string, res []byte, err error)
}

func (w *worker) Work(ctx context.Context, job *river.Job[callArgs]) error {
	if err := compatible(job.Args); err != nil {
		return w.fail(ctx, job, output{Error: err.Error(), Refused: true}, err)
	}
	res, err := driver.Invoke(ctx, job.Args.Func, job.Args.Payload)
	if err == nil {
		if err := river.RecordOutput(ctx, output{Result: res}); err != nil { // too large
			return w.fail(ctx, job, output{Error: fmt.Sprintf("riverexec: recording the result of %q: %v", job.Args.Func, err)}, err)
		}
		if w.local != nil {
			w.local(job.ID, job.Args.From, res, nil)
		}
		return nil
	}
	final := isPermanent(err)
	if p, ok := err.(*permanent); ok { // the task's own error goes to the submitter
		err = p.err
	}
	out := output{Error: err.Error()}
	var pe *execkit.PanicError
	if errors.As(err, &pe) {
		out.Panic, out.Stack = fmt.Sprint(pe.Value), string(pe.Stack)
	} else {
		out.Remote = driver.EncodeError(job.Args.Func, err)
	}
	switch {
	case errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
		// Revoked: River cancels the job whatever we return.
	case ctx.Err() != nil:
		// The worker is stopping (or a deadline passed): not the task's
		// failure, so River runs it again, here or elsewhere.
		_ = river.RecordOutput(ctx, out)
		return fmt.Errorf("%s%w", interruptedText, err)
	case errors.Is(err, execkit.ErrNotRegistered), errors.Is(err, execkit.ErrPayload), final,
		failures(job.Errors)+1 > job.Args.Retries:
		return w.fail(ctx, job, out, err)
	}
	_ = river.RecordOutput(ctx, out)
	return err
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

// Permanent marks err as final: a task that returns it (or an error
// wrapping it) fails at once, whatever [Retries] allows, as Celery's
// Reject(requeue=False) or an exception outside autoretry_for. Use it for
// errors that another attempt cannot fix: bad input, a missing record. The
// submitter's error is the task's err as it would be without the mark.
// Permanent(nil) is nil. An error wrapping [execkit.ErrPermanent] (the mark
// a registered function's Retry policy honours on every executor) is final
// too.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

func isPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p) || errors.Is(err, execkit.ErrPermanent)
}

// fail ends the job for good: River's way is to cancel it, so the output
// says Final to tell FAILURE from REVOKED.
func (w *worker) fail(ctx context.Context, job *river.Job[callArgs], out output, err error) error {
	out.Final = true
	_ = river.RecordOutput(ctx, out)
	if w.local != nil {
		w.local(job.ID, job.Args.From, nil, out.failure(job.ID, job.Args.Func, job.Attempt))
	}
	return river.JobCancel(err)
}

// NextRetry applies the submitter's backoff; River's rescuer uses it too.
func (w *worker) NextRetry(job *river.Job[callArgs]) time.Time {
	d := time.Duration(job.Args.Backoff) * time.Millisecond
	if d <= 0 {
		d = defaultBackoff
	}
	for range min(failures(job.Errors), 20) {
		d *= 2
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
// Value is the panic value's text and whose Stack is the worker's stack.
// Any other error is also an *execkit.RemoteError (through Unwrap) with the
// original's type name, so errors.Is matches the sentinels declared with
// [execkit.Errors] (and context.Canceled, context.DeadlineExceeded,
// execkit.ErrPayload and execkit.ErrNotRegistered) that the original
// matched on the worker.
type JobError struct {
	JobID    int64
	Func     string
	Attempts int    // attempts the job made
	Message  string // the task's error text
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
	} else if out.Refused {
		e.remote = fmt.Errorf("%w: %s", ErrIncompatible, strings.TrimPrefix(out.Error, ErrIncompatible.Error()+": "))
	} else if re, ok := driver.DecodeError(fn, out.Remote).(*execkit.RemoteError); ok {
		e.remote = re // not for a row without it (River's own failure)
	}
	return e
}

// jobOf reads a River row.
func jobOf(row *rivertype.JobRow) Job {
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
	return j
}
