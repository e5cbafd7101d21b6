package executortest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/xrun"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// goExec is a goroutine-per-task executor, correct unless broken names a
// defect; the suite's own tests run it both ways. With follow set it admits
// a running task's follow-up during Shutdown (AdmitsFollowUp).
type goExec struct {
	onError func(error)
	broken  string
	follow  bool
	sem     chan struct{} // nil: unbounded

	base    context.Context
	cancel  context.CancelFunc
	closing chan struct{} // closed when Shutdown begins: wakes the Submits waiting for a slot
	mu      sync.Mutex
	closed  bool
	live    int // admitted tasks not finished, under mu
	wg      sync.WaitGroup
	n       atomic.Int64
	scope   xrun.Scope // the tasks' policies: rate limiters, retries, timeouts

	// "goexitstats" counts its tasks in Stats as Inline once did: a task
	// that ends its goroutine (runtime.Goexit) stays Running for ever.
	nSubmitted, nRunning, nSucceeded, nFailed, nPanicked atomic.Int64

	// "overtakes": at most overtakeSlots tasks run, the others wait in
	// stack, under mu, and a freed slot goes to the newest of them.
	running int
	stack   []execkit.Task
}

const overtakeSlots = 4

// goExecKey marks the tasks' context of a goExec.
type goExecKey struct{}

var leakOnce sync.Once

func newGoExec(onError func(error), broken string, capacity int, follow bool) *goExec {
	e := &goExec{onError: onError, broken: broken, follow: follow, closing: make(chan struct{})}
	if capacity > 0 {
		e.sem = make(chan struct{}, capacity)
	}
	base, cancel := context.WithCancel(context.Background())
	e.base, e.cancel = context.WithValue(xrun.WithScope(base, &e.scope), goExecKey{}, e), cancel
	return e
}

// Stats reports the policies' counters, and for "goexitstats" the tasks'
// (it counts no other).
func (e *goExec) Stats() execkit.Stats {
	return execkit.Stats{
		Submitted: e.nSubmitted.Load(), Running: e.nRunning.Load(),
		Succeeded: e.nSucceeded.Load(), Failed: e.nFailed.Load(), Panicked: e.nPanicked.Load(),
		Retries: e.scope.Retries(), Timeouts: e.scope.Timeouts(),
	}
}

// count counts t's outcome after the fact ("goexitstats"): not when t
// ends the goroutine instead.
func (e *goExec) count(run func() error) error {
	e.nSubmitted.Add(1)
	e.nRunning.Add(1)
	err := run()
	e.nRunning.Add(-1)
	switch {
	case err == nil:
		e.nSucceeded.Add(1)
	case errtext.As(err, new(*execkit.PanicError)):
		e.nPanicked.Add(1)
	default:
		e.nFailed.Add(1)
	}
	return err
}

// taskCtx is the ctx e runs a task with: its base, or for "scopepertask"
// a ctx carrying a scope of the task's own, so that each task gets a rate
// limiter of its own and its retries are counted nowhere.
func (e *goExec) taskCtx() context.Context {
	if e.broken == "scopepertask" {
		return xrun.WithScope(e.base, new(xrun.Scope))
	}
	return e.base
}

func (e *goExec) Submit(ctx context.Context, t execkit.Task) error {
	if e == nil || e.base == nil { // (a typed nil or zero goExec: "nilrecv" forgets this)
		if broken := os.Getenv(brokenEnv); broken != "nilrecv" {
			return execkit.ErrNilExecutor
		}
	}
	if ctx == nil && e.broken != "nilctx" { // "nilctx" calls ctx.Value on it below
		ctx = context.Background()
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	if e.failFast() && e.base.Err() != nil { // a failed group
		return errors.New("executortest: the group failed")
	}
	if _, ok := t.(driver.Portable); !ok && e.crosses() {
		return execkit.ErrNotPortable
	}
	if (e.follow || e.broken == "nilctx") && ctx.Value(goExecKey{}) == e {
		if done, err := e.followUp(t); done {
			return err
		}
	}
	if e.sem != nil {
		if e.broken == "ignorectx" {
			e.sem <- struct{}{}
		} else {
			closing := e.closing
			if e.broken == "wakeless" { // waits for a slot through Shutdown
				closing = nil
			}
			select {
			case e.sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			case <-closing:
				return execkit.ErrClosed
			}
		}
	}
	release := func() {
		if e.sem != nil {
			<-e.sem
		}
	}
	e.mu.Lock()
	if e.closed && e.broken != "afterclose" {
		e.mu.Unlock()
		release()
		return execkit.ErrClosed
	}
	e.wg.Add(1)
	e.live++
	e.mu.Unlock()
	n := e.n.Add(1)
	switch {
	case e.broken == "drop" && n%10 == 0:
		e.finish()
		release()
		return nil
	case e.broken == "leak":
		leakOnce.Do(func() { go func() { select {} }() })
	case e.broken == "overtakes":
		e.mu.Lock()
		if e.running == overtakeSlots {
			e.stack = append(e.stack, t)
			e.mu.Unlock()
			return nil
		}
		e.running++
		e.mu.Unlock()
		go e.runNewestFirst(t)
		return nil
	case e.broken == "panic": // runs inline, without recover
		defer e.finish()
		defer release()
		if err := t.Run(e.base); err != nil && !driver.HasFuture(t) {
			e.onError(err)
		}
		return nil
	}
	go func() {
		defer e.finish()
		defer release()
		var err error
		if e.broken == "goexitstats" {
			err = e.count(func() error { return e.run(t) })
		} else {
			err = e.run(t)
		}
		if e.broken == "twice" && n%10 == 0 {
			err = driver.Run(e.base, t)
		}
		for i := 0; e.broken == "ownretry" && err != nil && i < 2; i++ { // retries on top of the policy's
			err = e.run(t)
		}
		if e.broken == "unwraps" && err != nil {
			// Counts panics as pool once did: errors.As calls the
			// error's Unwrap, which a typed nil's may panic in, here,
			// in the task's goroutine, where nothing recovers it.
			var pe *execkit.PanicError
			_ = errors.As(err, &pe)
		}
		if e.failFast() && err != nil {
			if e.broken == "failafter" {
				// Too late by a margin the check sees in every round: a
				// group that fails a moment after, on a loaded machine,
				// sometimes won every race of the check's 100 rounds.
				time.Sleep(20 * time.Millisecond)
			}
			e.cancel() // fails the group once the task has reported its error: too late
			return
		}
		if err != nil && (!driver.HasFuture(t) || e.broken == "reporttwice") {
			e.onError(err) // "reporttwice": also the error a Thread or Future reported
		}
	}()
	return nil
}

// failFast reports whether e stands for a group, which fails once a
// task's error has been reported (too late: "failafter"), and does not
// refuse the Submits waiting for a slot when it fails ("failwaiters").
func (e *goExec) failFast() bool { return e.broken == "failafter" || e.broken == "failwaiters" }

// crosses reports whether e stands for an executor that runs tasks in
// another process: it accepts only portable tasks and runs them through
// their encoded form (driver.Invoke in this process).
func (e *goExec) crosses() bool {
	switch e.broken {
	case "crossing", "remotetext", "permtext", "dropctx", "plaincancel", "timeoutbyerror":
		return true
	}
	return false
}

// run runs t as e does: in this process, or through its encoded form, its
// error as driver.EncodeError and DecodeError carry it ("crossing"). The
// broken ones replace the error by its text: "errtext" (declared to run
// tasks in this process), "remotetext" and "permtext" (declared
// Portable). "dropctx" does not carry the cancellation of the call's ctx
// to where the function runs (a worker that gets no CANCEL frame);
// "plaincancel" carries it as a plain cancel, so the function's ctx says
// context.Canceled where a deadline passed (a worker told only CANCEL).
// "timeoutbyerror" carries errors as "crossing" does, and counts a
// timeout for every error wrapping execkit.ErrTimeLimit that comes back
// from where the function ran, as subprocess and riverexec once did: a
// nested call's limit too, which the function returned.
func (e *goExec) run(t execkit.Task) error {
	p, ok := t.(driver.Portable)
	if !ok || !e.crosses() && e.broken != "errtext" {
		return driver.Run(e.taskCtx(), t)
	}
	// driver.RunVia, not driver.Run of a wrapping TaskFunc: a wrapper would
	// hide that p reports its own outcome, and a Future whose task was
	// given up on before it started would never complete.
	return driver.RunVia(e.base, p, func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		if e.broken == "dropctx" {
			ctx = context.WithoutCancel(ctx)
		}
		if e.broken == "plaincancel" {
			plain, cancel := context.WithCancel(context.WithoutCancel(ctx))
			defer context.AfterFunc(ctx, cancel)()
			defer cancel()
			ctx = plain
		}
		res, err := driver.Invoke(ctx, name, payload)
		if e.broken == "timeoutbyerror" && errtext.Is(err, execkit.ErrTimeLimit) {
			e.scope.CountTimeout()
		}
		var pe *execkit.PanicError
		switch {
		case err == nil || errtext.As(err, &pe): // (errors.As panics on an error whose Unwrap does: a typed nil)
		case e.broken == "crossing" || e.broken == "dropctx" || e.broken == "plaincancel" || e.broken == "timeoutbyerror":
			err = driver.DecodeError(name, driver.EncodeError(name, err))
		default:
			err = errors.New(err.Error())
		}
		return res, err
	})
}

// runNewestFirst runs t, then hands its slot to the newest waiting task
// ("overtakes"), also when t called runtime.Goexit.
func (e *goExec) runNewestFirst(t execkit.Task) {
	defer func() {
		e.mu.Lock()
		if n := len(e.stack); n > 0 {
			go e.runNewestFirst(e.stack[n-1])
			e.stack = e.stack[:n-1]
		} else {
			e.running--
		}
		e.mu.Unlock()
		if e.sem != nil { // "overtakesbounded": its admission is bounded too
			<-e.sem
		}
		e.finish()
	}()
	if err := e.run(t); err != nil && !driver.HasFuture(t) {
		e.onError(err)
	}
}

func (e *goExec) finish() {
	e.mu.Lock()
	e.live--
	e.mu.Unlock()
	e.wg.Done()
}

// followUp handles a running task's Submit once Shutdown began: it admits
// the task, beyond the limit, while a task is live (the WaitGroup's count
// is above zero then), unless broken says to drop it or not to wait for
// it. It reports whether it handled the call.
func (e *goExec) followUp(t execkit.Task) (bool, error) {
	e.mu.Lock()
	if !e.closed {
		e.mu.Unlock()
		return false, nil
	}
	if e.live == 0 {
		e.mu.Unlock()
		return true, execkit.ErrClosed
	}
	switch e.broken {
	case "dropfollowup":
		e.mu.Unlock()
		return true, nil
	case "followupearly": // runs it, but Shutdown does not wait for it
		e.mu.Unlock()
		go func() { _ = driver.Run(e.base, t) }()
		return true, nil
	}
	e.live++
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.finish()
		if err := driver.Run(e.base, t); err != nil && !driver.HasFuture(t) {
			e.onError(err)
		}
	}()
	return true, nil
}

func (e *goExec) Shutdown(ctx context.Context) error {
	if e == nil || e.base == nil { // (a typed nil or zero goExec: "nilrecv" forgets this)
		if broken := os.Getenv(brokenEnv); broken != "nilrecv" {
			return execkit.ErrNilExecutor
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	e.mu.Lock()
	again := e.closed
	if !again {
		close(e.closing)
	}
	e.closed = true
	e.mu.Unlock()
	if again && e.broken == "shutdownonce" { // waits in the first call only
		return nil
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	if e.broken == "ignorectx" {
		<-done
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		if e.broken == "cancellate" { // tells the tasks after it returned
			go e.cancel()
			return ctx.Err()
		}
		e.cancel()
		return ctx.Err()
	}
}

func factory(broken string, capacity int, follow bool) NewFunc {
	return func(t *testing.T, onError func(error)) execkit.Executor {
		return newGoExec(onError, broken, capacity, follow)
	}
}

func TestCorrectExecutorPasses(t *testing.T) {
	t.Run("unbounded", func(t *testing.T) { Run(t, factory("", 0, false)) })
	t.Run("bounded", func(t *testing.T) { Run(t, factory("", 4, false), Blocking(4)) })
	t.Run("follow-ups", func(t *testing.T) { Run(t, factory("", 0, true), AdmitsFollowUp()) })
	t.Run("bounded follow-ups", func(t *testing.T) { Run(t, factory("", 4, true), Blocking(4), AdmitsFollowUp()) })
	t.Run("crossing", func(t *testing.T) { Run(t, factory("crossing", 0, false), Portable()) })
}

func TestInlinePasses(t *testing.T) {
	Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
		return &execkit.Inline{OnError: onError}
	}, Synchronous(), AdmitsFollowUp())
}

const brokenEnv = "EXECKIT_BROKEN_EXECUTOR"

// TestSuiteCatchesBrokenExecutors runs the suite against deliberately
// broken executors, each in a child process, and asserts that it fails each
// of them for the right reason.
func TestSuiteCatchesBrokenExecutors(t *testing.T) {
	cases := []struct {
		broken string
		want   string // in the child's output
	}{
		{"drop", "ran 0 times"},
		{"twice", "ran 2 times"},
		{"leak", "goroutines left after Shutdown returned"},
		{"panic", "Submit panicked"},
		{"ignorectx", "did not return within"},
		{"afterclose", "Submit after Shutdown = <nil>; want ErrClosed"},
		{"cancellate", "tasks still had a live ctx"},
		{"nilctx", "Submit(nil ctx) panicked"},
		{"nilrecv", "Submit on (*executortest.goExec)(nil) panicked"},
		{"reporttwice", "want nothing (a Thread reports its own outcome)"},
		{"errtext", "Func.Go of a task failing with \"executortest: task 1: executortest: undeclared sentinel\": errors.Is(err, the sentinel) = false"},
		{"remotetext", "errors.Is(err, the sentinel) = false for &errors.errorString"},
		{"dropfollowup", "but the task had run 0 times when Shutdown returned"},
		{"followupearly", "want it to wait for the follow-ups"},
		{"refusesundeclared", "Submit from a running task during Shutdown = ErrClosed; want it admitted"},
		{"dropctx", "had not returned after"},
		{"plaincancel", "saw its ctx end as [ctx-canceled]; want once, as ctx-deadline-exceeded"},
		{"overtakes", "an executor must give its slots to tasks in the order it admitted them"},
		{"overtakesbounded", "an executor must give its slots to tasks in the order it admitted them"},
		{"failafter", "the group must fail before its failure can be seen"},
		{"failwaiters", "a Submit waiting for a slot when the group failed = <nil>"},
		{"nokill", "was not stopped within"},
		{"ownretry", "ran 9 times; want 3"},
		{"unwraps", "executortest.(*nilError).Unwrap"},
		{"permtext", "failing with ErrPermanent ran 3 times; want 1"},
		{"scopepertask", "5 calls of a function limited to 10/s took"},
		{"timeoutbyerror", "returning the nested error as is: Stats().Timeouts grew by 2; want 0"},
		{"shutdownonce", "admitted tasks were still running; want every call to wait for them"},
		{"wakeless", "a Submit blocked at capacity did not return within 2s after Shutdown began"},
		{"goexitstats", "Stats after Shutdown returned = {Submitted:2 Queued:0 Running:1"},
		{"niloption", "executortest: Run with a nil Option (option 2)"},
		{"nilnewfunc", "executortest: Run with a nil NewFunc"},
		{"zerocapacity", "executortest: Run with an invalid option: RejectWhenFull(0): the capacity must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.broken, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenChild$", "-test.v", "-test.count=1", "-test.timeout=90s")
			// The child fails its checks, some while tasks still write
			// to its temporary directories, which it then cannot remove:
			// they go in one of the parent's, which is.
			cmd.Env = append(os.Environ(), brokenEnv+"="+c.broken, "TMPDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an executor that is broken (%s); output:\n%s", c.broken, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("the suite failed the %q executor without saying %q; output:\n%s", c.broken, c.want, out)
			}
		})
	}
}

// TestBrokenChild is the child process of TestSuiteCatchesBrokenExecutors.
func TestBrokenChild(t *testing.T) {
	broken := os.Getenv(brokenEnv)
	if broken == "" {
		t.Skip("runs only as the child process of TestSuiteCatchesBrokenExecutors")
	}
	patience = 2 * time.Second
	switch broken {
	case "ignorectx", "wakeless":
		Run(t, factory(broken, 2, false), Blocking(2))
	case "dropfollowup", "followupearly":
		Run(t, factory(broken, 0, true), AdmitsFollowUp())
	case "refusesundeclared": // refuses follow-ups, but declares that it admits them
		Run(t, factory("", 0, false), AdmitsFollowUp())
	case "remotetext", "permtext", "dropctx", "plaincancel", "timeoutbyerror":
		Run(t, factory(broken, 0, false), Portable())
	case "nokill": // runs tasks as "crossing" does, cooperatively, but declares a hard limit
		Run(t, factory("crossing", 0, false), Portable(), HardTimeLimit(100*time.Millisecond))
	case "nilnewfunc": // no executor at all
		Run(t, nil)
	case "niloption": // a correct executor, a nil declaration
		Run(t, factory("", 0, false), Portable(), nil)
	case "overtakesbounded": // 4 slots, newest first, and Submit blocks at 8 unfinished
		Run(t, factory("overtakes", 2*overtakeSlots, false), Blocking(2*overtakeSlots))
	case "zerocapacity":
		Run(t, factory("", 0, false), RejectWhenFull(0))
	case "failafter": // a group that fails once the failing task's Future has its error
		Run(t, factory(broken, 0, false), FailFast())
	case "failwaiters": // a bounded group that admits its waiters once it failed
		Run(t, factory(broken, 2, false), FailFast(), Blocking(2))
	default:
		Run(t, factory(broken, 0, false))
	}
}
