package executortest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// Run checks that the executors newExecutor makes keep the [execkit.Executor]
// contract, each check in its own subtest with a fresh executor: nil tasks
// are refused; every admitted task runs exactly once under concurrent
// submitters; Submit after (and racing with) Shutdown returns ErrClosed and
// loses nothing admitted; Shutdown waits for admitted tasks; Shutdown with
// an expired ctx cancels the tasks' contexts and returns the ctx error; a
// blocked Submit returns when its ctx ends (or a rejecting one returns
// ErrFull); a panic becomes a *execkit.PanicError with a stack, delivered to
// the Future or to onError; task errors are never swallowed; Future.Cancel
// and Future.Wait behave; Map and AsCompleted behave; Shutdown is
// idempotent and safe concurrently; no goroutine is left after Shutdown.
// Options declare the executor's semantics (bounded, fail-fast, portable).
//
// Run must not be called from parallel tests: the leak check looks at every
// goroutine of the process.
func Run(t *testing.T, newExecutor NewFunc, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	for _, c := range checks {
		if c.when != nil && !c.when(cfg) {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			c.run(cfg.start(t, newExecutor))
		})
	}
}

type check struct {
	name string
	when func(config) bool
	run  func(h *harness)
}

var checks = []check{
	{name: "NilTask", run: checkNilTask},
	{name: "NilArguments", run: checkNilArguments},
	{name: "Threads", run: checkThreads},
	{name: "ExactlyOnce", run: checkExactlyOnce},
	{name: "SubmitAfterShutdown", run: checkSubmitAfterShutdown},
	{name: "SubmitDuringShutdown", run: checkSubmitDuringShutdown},
	{name: "ShutdownWaits", run: checkShutdownWaits},
	{name: "ShutdownDeadline", run: checkShutdownDeadline},
	{name: "ShutdownConcurrent", run: checkShutdownConcurrent},
	{name: "BlockedSubmit", when: func(c config) bool { return c.capacity > 0 && !c.rejecting }, run: checkBlockedSubmit},
	{name: "RejectWhenFull", when: func(c config) bool { return c.capacity > 0 && c.rejecting }, run: checkRejectWhenFull},
	{name: "Panic", run: checkPanic},
	{name: "TaskError", when: func(c config) bool { return !c.failFast }, run: checkTaskError},
	{name: "FailFast", when: func(c config) bool { return c.failFast }, run: checkFailFast},
	{name: "FutureCancel", when: func(c config) bool { return !c.synchronous }, run: checkFutureCancel},
	{name: "FutureWaitExpired", when: func(c config) bool { return !c.synchronous }, run: checkFutureWaitExpired},
	{name: "Map", run: checkMap},
	{name: "CancelMap", run: checkCancelMap},
	{name: "CancelFuture", when: func(c config) bool { return !c.synchronous }, run: checkCancelFuture},
	{name: "CancelShutdown", run: checkCancelShutdown},
	{name: "AsCompleted", run: checkAsCompleted},
	{name: "Closures", when: func(c config) bool { return !c.portable }, run: checkClosures},
	{name: "NotPortable", when: func(c config) bool { return c.portable }, run: checkNotPortable},
	{name: "Errors", run: checkErrors},
	{name: "FollowUp", when: func(c config) bool { return !c.portable }, run: checkFollowUp},
}

// small returns n, or the capacity less one when that is smaller, so that
// a check's blocked tasks never fill a bounded executor.
func (h *harness) small(n int) int {
	if c := h.cfg.capacity; c > 0 && c-1 < n {
		return max(c-1, 1)
	}
	return n
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

func mentions(s string) func(error) bool {
	return func(err error) bool { return err != nil && strings.Contains(err.Error(), s) }
}

func checkNilTask(h *harness) {
	for _, task := range []execkit.Task{nil, execkit.TaskFunc(nil)} {
		if err := h.submit(h.bg, task); !errors.Is(err, execkit.ErrNilTask) {
			h.t.Errorf("Submit(%#v) = %v; want ErrNilTask", task, err)
		}
	}
	if _, err := wait(h, execkit.Go[int](h.bg, h.ex, nil)); !errors.Is(err, execkit.ErrNilTask) {
		h.t.Errorf("Go(nil).Wait = %v; want ErrNilTask", err)
	}
	h.end(nil)
}

// checkExactlyOnce: many submitters, half the tasks with Futures; after
// Shutdown every admitted task ran exactly once and no other did.
func checkExactlyOnce(h *harness) {
	const submitters, each = 8, 64
	var (
		mu       sync.Mutex
		admitted = make(map[int]bool)
		futures  = make(map[int]*execkit.Future[int])
		wg       sync.WaitGroup
	)
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := s*each + i
				if id%2 == 0 {
					for {
						f := jobFunc.Go(h.bg, h.ex, h.job(id, record))
						select {
						case <-f.Done():
							if _, err := f.Wait(h.bg); errors.Is(err, execkit.ErrFull) {
								time.Sleep(100 * time.Microsecond)
								continue
							}
						default:
						}
						mu.Lock()
						futures[id] = f
						mu.Unlock()
						break
					}
					continue
				}
				err := h.submitRetry(id, record)
				if err != nil {
					h.t.Errorf("Submit(task %d) = %v; want nil", id, err)
					continue
				}
				mu.Lock()
				admitted[id] = true
				mu.Unlock()
			}
		}()
	}
	if err := within(h.t, "the submitters", func() error { wg.Wait(); return nil }); err != nil {
		h.t.Fatal(err)
	}
	for id, f := range futures {
		got, err := wait(h, f)
		if err != nil || got != id {
			h.t.Errorf("future of task %d: Wait = %d, %v; want %d, nil", id, got, err, id)
		}
		admitted[id] = true
	}
	h.end(nil)
	ran := h.lines(finishedFile)
	wrong := 0
	for id := range submitters * each {
		if want := map[bool]int{true: 1}[admitted[id]]; ran[id] != want && wrong < 5 {
			wrong++
			h.t.Errorf("task %d ran %d times; want %d (admitted: %v)", id, ran[id], want, admitted[id])
		}
	}
	if errs := h.errs.all(); len(errs) > 0 {
		h.t.Errorf("onError received %v; want nothing", errs)
	}
}

func checkSubmitAfterShutdown(h *harness) {
	if err := h.submitRetry(1, record); err != nil {
		h.t.Fatalf("Submit = %v; want nil", err)
	}
	h.end(nil)
	if err := h.submitJob(h.bg, 2, record); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Submit after Shutdown = %v; want ErrClosed", err)
	}
	if _, err := wait(h, h.goJob(3, record)); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Go after Shutdown: Wait = %v; want ErrClosed", err)
	}
	if got := h.lines(finishedFile); got[1] != 1 || got[2] != 0 || got[3] != 0 {
		h.t.Errorf("tasks ran %v; want task 1 once, no other", got)
	}
}

// checkSubmitDuringShutdown races submitters with Shutdown: every Submit
// that returned nil ran; every one that returned ErrClosed did not.
func checkSubmitDuringShutdown(h *harness) {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		admitted = make(map[int]bool)
		wg       sync.WaitGroup
		some     = make(chan struct{})
		once     sync.Once
		returned atomic.Bool // Shutdown has returned
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id := int(next.Add(1))
				after := returned.Load()
				err := h.submitJob(h.bg, id, record)
				switch {
				case err == nil && after:
					h.t.Errorf("Submit after Shutdown returned = nil; want ErrClosed")
					return
				case err == nil:
					mu.Lock()
					admitted[id] = true
					n := len(admitted)
					mu.Unlock()
					if n >= 20 {
						once.Do(func() { close(some) })
					}
				case errors.Is(err, execkit.ErrFull):
					time.Sleep(100 * time.Microsecond)
				case errors.Is(err, execkit.ErrClosed):
					return
				default:
					h.t.Errorf("Submit during Shutdown = %v; want nil or ErrClosed", err)
					return
				}
			}
		}()
	}
	select {
	case <-some:
	case <-time.After(patience):
		h.t.Fatal("20 tasks were not admitted in time")
	}
	if err := h.shutdown(h.bg); err != nil {
		h.t.Errorf("Shutdown = %v; want nil", err)
	}
	returned.Store(true)
	ran := h.lines(finishedFile) // Shutdown returned: everything admitted has run
	_ = within(h.t, "Submit after Shutdown returned", func() error { wg.Wait(); return nil })
	mu.Lock()
	defer mu.Unlock()
	wrong := 0
	for id := range admitted {
		if ran[id] != 1 && wrong < 5 {
			wrong++
			h.t.Errorf("admitted task %d ran %d times by the time Shutdown returned; want 1", id, ran[id])
		}
	}
	for id, n := range ran {
		if !admitted[id] && wrong < 10 {
			wrong++
			h.t.Errorf("task %d ran %d times though Submit did not admit it", id, n)
		}
	}
	h.end(nil)
}

func checkShutdownWaits(h *harness) {
	k := h.small(4)
	submitted := make([]func() *execkit.Future[int], k)
	for id := range k {
		submitted[id] = h.spawn(id, waitRelease, id == 0)
	}
	h.awaitLines(startedFile, k)
	done := make(chan error, 1)
	go func() { done <- h.ex.Shutdown(h.bg) }()
	select {
	case err := <-done:
		h.t.Errorf("Shutdown returned %v while %d admitted tasks were still running; want it to wait", err, k)
	case <-time.After(50 * time.Millisecond): // a chance for a broken Shutdown to return early
	}
	if err := h.submitJob(h.bg, 99, record); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Submit while Shutdown waits = %v; want ErrClosed", err)
	}
	h.release()
	select {
	case err := <-done:
		if err != nil {
			h.t.Errorf("Shutdown = %v; want nil", err)
		}
	case <-time.After(patience):
		h.t.Fatalf("Shutdown did not return within %v after its tasks finished", patience)
	}
	if got := total(h.lines(finishedFile)); got != k {
		h.t.Errorf("when Shutdown returned, %d of %d admitted tasks had finished", got, k)
	}
	for _, s := range submitted[1:] {
		s()
	}
	if got, err := wait(h, submitted[0]()); err != nil || got != 0 {
		h.t.Errorf("Future of a task admitted before Shutdown: Wait = %d, %v; want 0, nil", got, err)
	}
	h.end(nil)
}

func checkShutdownDeadline(h *harness) {
	k := h.small(3)
	submitted := make([]func() *execkit.Future[int], k)
	for id := range k {
		submitted[id] = h.spawn(id, waitCtx, id == 0)
	}
	h.awaitLines(startedFile, k)
	expired, cancel := context.WithCancel(h.bg)
	cancel()
	if err := h.shutdown(expired); !errors.Is(err, context.Canceled) {
		h.t.Errorf("Shutdown(expired ctx) = %v; want context.Canceled", err)
	}
	h.awaitLines(cancelledFile, k) // the tasks' contexts were cancelled
	for _, s := range submitted[1:] {
		s()
	}
	if _, err := wait(h, submitted[0]()); err == nil {
		h.t.Error("Future of a task cancelled by Shutdown: Wait = nil error; want the task's error")
	}
	if h.cfg.failFast {
		h.end(isCanceled)
	} else {
		h.end(nil)
	}
	if n := len(h.errs.all()); n > k-1 && !h.cfg.failFast {
		h.t.Errorf("onError received %d errors for %d tasks", n, k-1)
	}
}

func checkShutdownConcurrent(h *harness) {
	for id := range 5 {
		if err := h.submitRetry(id, record); err != nil {
			h.t.Fatalf("Submit = %v; want nil", err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h.ex.Shutdown(h.bg) }()
	}
	_ = within(h.t, "8 concurrent Shutdown calls", func() error { wg.Wait(); return nil })
	for i, err := range errs {
		if err != nil {
			h.t.Errorf("concurrent Shutdown #%d = %v; want nil", i, err)
		}
	}
	h.end(nil) // and once more
	if got := total(h.lines(finishedFile)); got != 5 {
		h.t.Errorf("%d of 5 tasks ran", got)
	}
}

func checkBlockedSubmit(h *harness) {
	c := h.cfg.capacity
	for id := range c {
		if err := h.submitJob(h.bg, id, waitRelease); err != nil {
			h.t.Fatalf("Submit %d of capacity %d = %v; want nil", id+1, c, err)
		}
	}
	ctx, cancel := context.WithTimeout(h.bg, 50*time.Millisecond)
	defer cancel()
	if err := h.submitJob(ctx, c, record); !errors.Is(err, context.DeadlineExceeded) {
		h.t.Errorf("Submit at capacity = %v; want it to block until its ctx ends and return context.DeadlineExceeded", err)
	}
	h.release()
	h.end(nil)
	ran := h.lines(finishedFile)
	if ran[c] != 0 {
		h.t.Errorf("the task whose Submit returned an error ran %d times; want 0", ran[c])
	}
	if total(ran) != c {
		h.t.Errorf("%d tasks ran; want the %d admitted", total(ran), c)
	}
}

func checkRejectWhenFull(h *harness) {
	c := h.cfg.capacity
	for id := range c {
		if err := h.submitJob(h.bg, id, waitRelease); err != nil {
			h.t.Fatalf("Submit %d of capacity %d = %v; want nil", id+1, c, err)
		}
	}
	if err := h.submitJob(h.bg, c, record); !errors.Is(err, execkit.ErrFull) {
		h.t.Errorf("Submit at capacity = %v; want ErrFull", err)
	}
	h.release()
	h.end(nil)
	if ran := h.lines(finishedFile); ran[c] != 0 || total(ran) != c {
		h.t.Errorf("tasks ran %v; want the %d admitted, not the rejected one", ran, c)
	}
}

func checkPanic(h *harness) {
	_, err := wait(h, h.goJob(1, panics))
	checkPanicError(h.t, "Future of a panicking task", err, "job 1 panics")
	if h.cfg.failFast {
		h.end(func(err error) bool {
			var pe *execkit.PanicError
			return errors.As(err, &pe)
		})
		return
	}
	if err := h.submitRetry(2, panics); err != nil {
		h.t.Fatalf("Submit = %v; want nil", err)
	}
	checkPanicError(h.t, "onError after a panicking task", h.errs.await(h.t, 1)[0], "job 2 panics")
	if !h.cfg.portable { // a closure's panic reaches the executor's recover, not the Func's
		boom := errors.New("boom")
		if err := h.submit(h.bg, execkit.TaskFunc(func(context.Context) error { panic(boom) })); err != nil {
			h.t.Fatalf("Submit = %v; want nil", err)
		}
		err := h.errs.await(h.t, 2)[1]
		checkPanicError(h.t, "onError after a panicking closure", err, "boom")
		if !errors.Is(err, boom) {
			h.t.Errorf("errors.Is(%v, the panic value) = false; want true (PanicError.Unwrap)", err)
		}
	}
	if got, err := wait(h, h.goJob(3, record)); err != nil || got != 3 {
		h.t.Errorf("after panics, Wait = %d, %v; want 3, nil", got, err)
	}
	h.end(nil)
}

func checkPanicError(t *testing.T, what string, err error, value string) {
	t.Helper()
	var pe *execkit.PanicError
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v (%T); want a *execkit.PanicError", what, err, err)
		return
	}
	if !strings.Contains(fmt.Sprint(pe.Value), value) {
		t.Errorf("%s: panic value %q; want it to contain %q", what, pe.Value, value)
	}
	if !strings.Contains(string(pe.Stack), "executortest") {
		t.Errorf("%s: stack does not show the panicking code:\n%s", what, pe.Stack)
	}
}

func checkTaskError(h *harness) {
	if _, err := wait(h, h.goJob(1, fail)); !mentions("job 1 failed")(err) {
		h.t.Errorf("Future of a failing task: Wait = %v; want the task's error", err)
	}
	if err := h.submitRetry(2, fail); err != nil {
		h.t.Fatalf("Submit = %v; want nil", err)
	}
	if err := h.errs.await(h.t, 1)[0]; !mentions("job 2 failed")(err) {
		h.t.Errorf("onError received %v; want the task's error", err)
	}
	h.end(nil)
	if n := len(h.errs.all()); n != 1 {
		h.t.Errorf("onError received %d errors; want 1 (errors of tasks with a Future go to the Future only)", n)
	}
}

// checkFailFast: the first failure cancels the running tasks, Submit then
// admits nothing, and Shutdown returns the failure.
func checkFailFast(h *harness) {
	k := h.small(3)
	submitted := make([]func() *execkit.Future[int], k-1)
	for id := range k - 1 {
		submitted[id] = h.spawn(id, waitCtx, false)
	}
	h.awaitLines(startedFile, k-1)
	if _, err := wait(h, h.goJob(100, fail)); !mentions("job 100 failed")(err) {
		h.t.Errorf("Future of the failing task: Wait = %v; want its error", err)
	}
	h.awaitLines(cancelledFile, k-1)
	for _, s := range submitted {
		s()
	}
	if err := h.submitJob(h.bg, 200, record); err == nil {
		h.t.Error("Submit after the group failed = nil; want an error (tasks after a failure are not started)")
	}
	h.end(mentions("job 100 failed"))
	if ran := h.lines(startedFile); ran[200] != 0 {
		h.t.Errorf("a task submitted after the failure ran")
	}
	if errs := h.errs.all(); len(errs) > 0 {
		h.t.Errorf("onError received %v; want nothing in a fail-fast group", errs)
	}
}

func checkFutureCancel(h *harness) {
	f := h.goJob(1, waitCtx)
	h.awaitLines(startedFile, 1)
	f.Cancel()
	if _, err := wait(h, f); err == nil {
		h.t.Error("Wait after Cancel of a running task = nil error; want the task's error")
	}
	h.awaitLines(cancelledFile, 1)
	f.Cancel() // again: a no-op
	// Cancelling one Future stops that task only: even a fail-fast group
	// goes on, and its Shutdown returns nil.
	if got, err := wait(h, h.goJob(2, record)); err != nil || got != 2 {
		h.t.Errorf("after a Future was cancelled, Wait = %d, %v; want 2, nil (Cancel stops one task)", got, err)
	}
	h.end(nil)
}

func checkFutureWaitExpired(h *harness) {
	f := h.goJob(1, waitRelease)
	expired, cancel := context.WithCancel(h.bg)
	cancel()
	if _, err := f.Wait(expired); !isCanceled(err) {
		h.t.Errorf("Wait(expired ctx) = %v; want context.Canceled", err)
	}
	h.release()
	if got, err := wait(h, f); err != nil || got != 1 {
		h.t.Errorf("Wait after an expired Wait = %d, %v; want 1, nil (the Future stays usable)", got, err)
	}
	h.end(nil)
}

func checkMap(h *harness) {
	n := 30
	if h.cfg.rejecting { // Map submits every item at once: ErrFull past capacity
		n = min(n, h.cfg.capacity)
	}
	jobs := make([]job, n)
	for i := range jobs {
		jobs[i] = h.job(i, record)
	}
	var got []int
	err := within(h.t, "Map", func() (err error) {
		got, err = jobFunc.Map(h.bg, h.ex, jobs)
		return err
	})
	if err != nil || len(got) != len(jobs) {
		h.t.Fatalf("Map = %v, %v; want %d results", got, err, len(jobs))
	}
	for i, v := range got {
		if v != i {
			h.t.Errorf("Map result %d = %d; want %d (input order)", i, v, i)
		}
	}
	// A failure stops Map, cancels what runs, and is what Map returns.
	if h.cfg.rejecting && h.cfg.capacity < 20 {
		h.end(nil)
		return
	}
	jobs = make([]job, 20)
	for i := range jobs {
		jobs[i] = h.job(100+i, map[bool]mode{true: waitCtx, false: record}[i > 5])
	}
	jobs[5].Mode = fail
	err = within(h.t, "Map", func() error {
		_, err := jobFunc.Map(h.bg, h.ex, jobs)
		return err
	})
	if !mentions("job 105 failed")(err) {
		h.t.Errorf("Map with a failing item = %v; want that item's error", err)
	}
	started, cancelled := h.lines(startedFile), h.lines(cancelledFile)
	for id := 106; id < 120; id++ {
		if started[id] != cancelled[id] {
			h.t.Errorf("task %d started but was not cancelled by the time Map returned", id)
		}
	}
	if h.cfg.failFast {
		h.end(mentions("job 105 failed"))
	} else {
		h.end(nil)
	}
}

func checkAsCompleted(h *harness) {
	var futures []*execkit.Future[int]
	for id := range 10 {
		futures = append(futures, h.goJob(id, record))
	}
	if !h.cfg.failFast {
		futures = append(futures, h.goJob(10, fail))
	}
	seen := make(map[*execkit.Future[int]]int)
	_ = within(h.t, "AsCompleted", func() error {
		for f := range execkit.AsCompleted(futures) {
			select {
			case <-f.Done():
			default:
				h.t.Error("AsCompleted yielded a Future that is not done")
			}
			seen[f]++
		}
		for range execkit.AsCompleted(futures) {
			break // leaves nothing behind (the leak check at the end)
		}
		return nil
	})
	for i, f := range futures {
		if seen[f] != 1 {
			h.t.Errorf("AsCompleted yielded future %d %d times; want 1", i, seen[f])
		}
	}
	h.end(nil)
}

func checkClosures(h *harness) {
	ran := make(chan struct{}, 1)
	if err := h.submit(h.bg, execkit.TaskFunc(func(ctx context.Context) error {
		if ctx == nil {
			return errors.New("nil ctx")
		}
		ran <- struct{}{}
		return nil
	})); err != nil {
		h.t.Fatalf("Submit(closure) = %v; want nil", err)
	}
	select {
	case <-ran:
	case <-time.After(patience):
		h.t.Fatal("an admitted closure did not run")
	}
	if got, err := wait(h, execkit.Go(h.bg, h.ex, func(context.Context) (int, error) { return 42, nil })); err != nil || got != 42 {
		h.t.Errorf("Go(closure).Wait = %d, %v; want 42, nil", got, err)
	}
	var got []int
	err := within(h.t, "Map", func() (err error) {
		got, err = execkit.Map(h.bg, h.ex, []int{1, 2, 3}, func(_ context.Context, i int) (int, error) { return i * i, nil })
		return err
	})
	if err != nil || fmt.Sprint(got) != "[1 4 9]" {
		h.t.Errorf("Map(closure) = %v, %v; want [1 4 9], nil", got, err)
	}
	h.end(nil)
}

func checkNotPortable(h *harness) {
	if err := h.submit(h.bg, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrNotPortable) {
		h.t.Errorf("Submit(closure) = %v; want ErrNotPortable", err)
	}
	if _, err := wait(h, execkit.Go(h.bg, h.ex, func(context.Context) (int, error) { return 1, nil })); !errors.Is(err, execkit.ErrNotPortable) {
		h.t.Errorf("Go(closure).Wait = %v; want ErrNotPortable", err)
	}
	h.end(nil)
}
