package fireforget

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
)

var (
	// ErrStarted is returned by [Thread.Start] for a Thread that was started
	// before: like a threading.Thread, a Thread runs at most once.
	ErrStarted = errors.New("fireforget: thread already started")

	// ErrNotStarted is returned by [Thread.Join] for a Thread that was never
	// started, which would otherwise wait forever.
	ErrNotStarted = errors.New("fireforget: thread not started")
)

// lastThreadID numbers Threads in creation order; IDs are never reused
// within a process (a uint64 does not wrap in practice).
var lastThreadID atomic.Uint64

// A Thread is the handle of a task started in the background: the Go
// counterpart of a threading.Thread subclass. Any value with
// Run(ctx) error (an [execkit.Task]) becomes one with [NewThread]; [Start]
// hands it to an executor. Unlike Python's ident, its ID is never reused,
// and the task's error or panic reaches [Thread.Join] instead of a hook. All
// methods are safe for concurrent use.
type Thread struct {
	id       uint64
	name     string // "" for "thread-<ID>"
	numbered bool   // Name is name + "-<ID>" (Background's threads)
	task     execkit.Task
	begun    atomic.Bool   // Start was called
	finished atomic.Bool   // finish was called
	done     chan struct{} // closed when the task finished or could not start
	err      error         // written once before done is closed
	after    func()        // run after the task, before done closes (Background's slot)
}

// NewThread returns an unstarted Thread that will run t. name labels it in
// logs and listings; "" gives "thread-<ID>". A nil t is not refused here: the
// Thread's Start reports [execkit.ErrNilTask]. NewThread never blocks.
func NewThread(name string, t execkit.Task) *Thread {
	return &Thread{id: lastThreadID.Add(1), name: name, task: t, done: make(chan struct{})}
}

// Start submits the Thread's task to ex and returns Submit's error. It
// blocks only while ex waits to admit the task (a full [Limit]); ctx bounds
// that wait, and the task runs with the context ex gives it. After ex shut
// down it returns [execkit.ErrClosed]. When ex does not admit the task, the Thread finishes
// at once with that error, which Join and Err report too. Start returns
// [ErrStarted] when the Thread was started before, whatever came of it: a
// Thread runs at most once.
//
// ex may run tasks in another process (a subprocess.Pool, a riverexec
// executor) when the Thread's task was made by a registered function's
// Task method ([execkit.Func.Task]): the task runs there and the Thread,
// here, records its outcome for Join. Any other task gets
// [execkit.ErrNotPortable] from such an executor, as Start's error.
//
// A nil ctx is context.Background; a nil ex gets [execkit.ErrNilExecutor];
// a nil or zero Thread (not made by NewThread) gets [execkit.ErrNilTask].
// Start never panics: a panic in ex's Submit (a typed nil executor whose
// Submit dereferences it) is its error, a *[execkit.PanicError], and the
// Thread's, as for the Future of execkit.Go.
func (th *Thread) Start(ctx context.Context, ex execkit.Executor) error {
	if th == nil || th.done == nil { // not made by NewThread: nothing to run
		return execkit.ErrNilTask
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !th.begun.CompareAndSwap(false, true) {
		return ErrStarted
	}
	return th.submit(ctx, ex)
}

func (th *Thread) submit(ctx context.Context, ex execkit.Executor) error {
	if driver.IsNil(th.task) {
		th.finish(execkit.ErrNilTask)
		return execkit.ErrNilTask
	}
	if ex == nil {
		th.finish(execkit.ErrNilExecutor)
		return execkit.ErrNilExecutor
	}
	var t execkit.Task = (*threadTask)(th)
	if _, ok := th.task.(driver.Portable); ok {
		// The task can cross a process boundary: so can the Thread.
		t = (*portableThreadTask)(th)
	}
	if err := submitGuarded(ctx, ex, t); err != nil {
		th.finish(err)
		return err
	}
	return nil
}

// submitGuarded calls ex.Submit, turning a panic in it (a broken executor:
// a typed nil whose Submit dereferences it, say) into a
// *execkit.PanicError, as execkit.Go does, so that Start never panics and
// the Thread finishes with it rather than never.
func submitGuarded(ctx context.Context, ex execkit.Executor, t execkit.Task) (err error) {
	defer link.Recover(&err)
	return ex.Submit(ctx, t)
}

// finish records err and wakes the joiners, once: a later call (an
// executor whose Submit panicked after it ran the task) does nothing.
func (th *Thread) finish(err error) {
	if !th.finished.CompareAndSwap(false, true) {
		return
	}
	th.err = err
	if th.after != nil {
		th.after()
	}
	close(th.done)
}

// ID returns the Thread's number: unique in the process and increasing in
// creation order, never reused.
func (th *Thread) ID() uint64 {
	if th == nil {
		return 0
	}
	return th.id
}

// Name returns the name given to [NewThread] (or "thread-<ID>").
func (th *Thread) Name() string {
	if th == nil {
		return ""
	}
	switch {
	case th.name == "":
		return "thread-" + strconv.FormatUint(th.id, 10)
	case th.numbered:
		return th.name + "-" + strconv.FormatUint(th.id, 10)
	}
	return th.name
}

// Done returns a channel closed when the task has returned, or the Thread
// could not start. It never blocks.
func (th *Thread) Done() <-chan struct{} {
	if th == nil || th.done == nil { // no task: done already
		return closedDone
	}
	return th.done
}

// closedDone is the Done channel of a nil or zero Thread.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Alive reports whether the Thread was started and has not finished: true
// while it waits to run and while it runs. It never blocks.
func (th *Thread) Alive() bool {
	if th == nil {
		return false
	}
	if !th.begun.Load() {
		return false
	}
	select {
	case <-th.done:
		return false
	default:
		return true
	}
}

// Join blocks until the task has returned and returns its error: nil, the
// task's own error, a [*execkit.PanicError] with the stack when it panicked,
// or the error that kept it from starting (a task that ended its goroutine
// with runtime.Goexit, as t.FailNow does, returned nil, as for the function
// of execkit.Go). When ctx ends first Join returns
// ctx.Err() and the Thread goes on; Join may be called again, any number of
// times and concurrently. For a Thread never started it returns
// [ErrNotStarted] at once, and for a nil or zero Thread (not made by
// NewThread) [execkit.ErrNilTask], as Start does.
func (th *Thread) Join(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if th == nil || th.done == nil { // not made by NewThread, as Start says
		return execkit.ErrNilTask
	}
	if !th.begun.Load() {
		return ErrNotStarted
	}
	select {
	case <-th.done:
		return th.err
	default:
	}
	select {
	case <-th.done:
		return th.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns what Join would return once the Thread has finished, and nil
// while it has not (check Done first to tell the two apart). It never
// blocks.
func (th *Thread) Err() error {
	if th == nil || th.done == nil {
		return nil
	}
	select {
	case <-th.done:
		return th.err
	default:
		return nil
	}
}

// String returns "<name> (<ID>)".
func (th *Thread) String() string {
	return th.Name() + " (" + strconv.FormatUint(th.ID(), 10) + ")"
}

// threadTask is the Task a Thread submits: it runs the user's task,
// recovering a panic, and keeps the outcome in the Thread, where Join
// delivers it. It is driver.SelfReporting, so every executor counts the
// error it returns without reporting it again.
type threadTask Thread

func (t *threadTask) Run(ctx context.Context) error {
	th := (*Thread)(t)
	if ctx == nil {
		ctx = context.Background()
	}
	returned := false
	defer th.exited(&returned)
	// link.Run, not driver.Run: one frame fewer below a parked task; th.task
	// is not nil (Start refuses a nil one before submitting).
	started, err := link.Run(ctx, th.task)
	returned = true
	th.report(ctx, started, err)
	return err
}

// exited, deferred by a Thread's task with a flag set once the task
// returned, finishes the Thread with nil when the task ended its goroutine
// instead (runtime.Goexit, as t.FailNow does): that counts as returned, as
// for a Future's function, and Join must not wait for ever.
func (th *Thread) exited(returned *bool) {
	if !*returned {
		th.finish(nil)
	}
}

// report records the task's outcome for Join. A failure of a task that ran
// is told to a fail-fast executor (link.Failed) first, so that a Join that
// returns it finds the group failed.
func (th *Thread) report(ctx context.Context, started bool, err error) {
	defer th.finish(err) // whatever telling the failure does
	if started && err != nil {
		link.Failed(ctx, err)
	}
}

// ReportsOutcome marks threadTask as driver.SelfReporting.
func (t *threadTask) ReportsOutcome() {}

// TellsFailure marks threadTask as telling a fail-fast executor of its
// failure before Join reports it (link.Failed).
func (t *threadTask) TellsFailure() {}

// portableThreadTask is the Task a Thread submits when its own task is
// driver.Portable (made by a registered Func): it is Portable too, so an
// executor that runs tasks in another process sends the inner task there
// through RunVia, and the Thread, which stays in this process, records the
// outcome. Other executors call Run, as for any Thread.
type portableThreadTask Thread

func (t *portableThreadTask) Run(ctx context.Context) error { return (*threadTask)(t).Run(ctx) }

// RunVia runs the inner task through invoke, recovering a panic (of a
// codec, say), and keeps the outcome in the Thread.
func (t *portableThreadTask) RunVia(ctx context.Context, invoke driver.Invoker) error {
	th := (*Thread)(t)
	p := th.task.(driver.Portable)
	if ctx == nil {
		ctx = context.Background()
	}
	returned := false
	defer th.exited(&returned)
	started, err := link.Run(ctx, execkit.TaskFunc(func(ctx context.Context) error { return p.RunVia(ctx, invoke) }))
	returned = true
	th.report(ctx, started, err)
	return err
}

// ReportsOutcome marks portableThreadTask as driver.SelfReporting.
func (t *portableThreadTask) ReportsOutcome() {}

// TellsFailure marks portableThreadTask as telling a fail-fast executor of
// its failure before Join reports it (link.Failed).
func (t *portableThreadTask) TellsFailure() {}
