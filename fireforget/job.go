package fireforget

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/execkit/execkit"

	"github.com/execkit/execkit/internal/errtext"
)

// A State is where a job is in its life. The zero State is Unknown: what
// [Registry.Info] reports for an id it never issued (or has evicted), kept
// apart from Pending, which is a job that exists and has not started.
type State uint8

// The states of a job. Succeeded, Failed and Cancelled are final.
const (
	Unknown   State = iota // no such job (never issued, or evicted)
	Pending                // created, its function not started yet
	Running                // its function is running
	Succeeded              // its function returned nil
	Failed                 // it returned an error or panicked
	Cancelled              // it was cancelled before it started, or returned an error after its context was cancelled
)

var stateNames = [...]string{"unknown", "pending", "running", "succeeded", "failed", "cancelled"}

// String returns the state's lowercase name, "running" for Running.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String's text, for encoding/json.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Final reports whether s is Succeeded, Failed or Cancelled.
func (s State) Final() bool { return s >= Succeeded }

// A JobFunc is the background part of a job: it runs with a context that is
// cancelled by [Registry.Cancel] or by a Shutdown that gives up, and writes its
// output to out, which is safe for concurrent use and may be kept by
// goroutines the function starts (what they write after it returned is kept
// too).
type JobFunc func(ctx context.Context, out io.Writer) error

// A Job is one job of a [Registry]. Its methods are safe for concurrent use
// and keep working after the Registry evicted it. A nil or zero Job is no
// job: its ID is zero, Done is closed, Cancel reports false and Info's
// State is [Unknown].
type Job struct {
	id  ID
	seq uint64
	reg *Registry

	mu                      sync.Mutex
	state                   State
	out                     output
	created, started, ended time.Time
	err                     error
	cancel                  context.CancelFunc // while running
	done                    chan struct{}
}

// ID returns the job's id.
func (j *Job) ID() ID {
	if j == nil {
		return ID{}
	}
	return j.id
}

// Done returns a channel closed when the job reached a final state. It never
// blocks.
func (j *Job) Done() <-chan struct{} {
	if j == nil || j.done == nil {
		return closedChan
	}
	return j.done
}

// closedChan is the Done channel of a nil or zero Job.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Cancel cancels the job (see [Registry.Cancel]) and reports whether it was
// unfinished. It never blocks for long.
func (j *Job) Cancel() bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	switch j.state {
	case Pending:
		// Finished under the lock jobTask.Run takes to start it: let go in
		// between, and the job could start, and run on after it ended
		// Cancelled.
		now := j.finishLocked(context.Canceled, true)
		j.mu.Unlock()
		j.reg.markFinished(j.id, now)
		return true
	case Running:
		cancel := j.cancel
		j.mu.Unlock()
		cancel()
		return true
	default:
		j.mu.Unlock()
		return false
	}
}

// finish moves j to its final state unless it has one; cancelled says its
// context was cancelled. It reports whether it did.
func (j *Job) finish(err error, cancelled bool) bool {
	j.mu.Lock()
	if j.state.Final() {
		j.mu.Unlock()
		return false
	}
	now := j.finishLocked(err, cancelled)
	j.mu.Unlock()
	j.reg.markFinished(j.id, now)
	return true
}

// finishLocked moves j, not final, to its final state, with j.mu held, and
// returns when it ended. It cancels the job's context before anyone can
// see the job final: a Cancel that finds it so returns at once, and by
// then the context of a job that ran must have been cancelled (cancelling
// runs none of the job's code: context.AfterFunc callbacks run in
// goroutines of their own).
func (j *Job) finishLocked(err error, cancelled bool) time.Time {
	now := time.Now()
	switch {
	case err == nil:
		j.state = Succeeded
	case cancelled:
		j.state = Cancelled
	default:
		j.state = Failed
	}
	if j.cancel != nil {
		j.cancel()
	}
	j.err, j.ended, j.cancel = err, now, nil
	close(j.done)
	return now
}

// Info returns a snapshot of the job, output included. It never blocks for
// long, and keeps working after the Registry's Shutdown.
func (j *Job) Info() JobInfo {
	if j == nil {
		return JobInfo{}
	}
	return j.info(true)
}

func (j *Job) info(withOutput bool) JobInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	in := JobInfo{
		ID:      j.id,
		State:   j.state,
		Created: j.created,
		Started: j.started,
		Ended:   j.ended,
		Written: j.out.total,
		Cut:     j.out.cut(),
		Err:     j.err,
	}
	if withOutput {
		in.Output = j.out.String()
	}
	var pe *execkit.PanicError
	if errtext.As(j.err, &pe) {
		in.Stack = string(pe.Stack)
	}
	return in
}

// jobWriter is the io.Writer a job's output goes to.
type jobWriter Job

// Write appends p to the job's output, keeping only the head and tail of
// it beyond the Registry's MaxOutput. It never fails.
func (w *jobWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.out.write(p)
	w.mu.Unlock()
	return len(p), nil
}

// JobInfo is a snapshot of a job.
type JobInfo struct {
	ID      ID
	State   State
	Created time.Time // when the job was created
	Started time.Time // when its function started; zero if it did not
	Ended   time.Time // when it reached a final state; zero before
	Output  string    // head and tail of the output, with a marker line where bytes were cut (empty in List)
	Written int64     // output bytes written in all
	Cut     int64     // output bytes not retained
	Err     error     // the function's error, a *execkit.PanicError, or context.Canceled for a job cancelled before it started
	Stack   string    // the panic's stack when Err is a *execkit.PanicError
}
