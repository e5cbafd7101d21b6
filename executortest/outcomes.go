package executortest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/execkit/execkit"
)

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

// checkPanicSentinel: a registered function that panics with an error
// wrapping a sentinel it declared with execkit.Errors fails with a
// *execkit.PanicError through which errors.Is finds that sentinel, on every
// executor: in process PanicError.Unwrap returns the panic value itself;
// across a process boundary the value must carry the declared sentinels
// as a returned error does, or a caller's errors.Is would change with the
// executor.
func checkPanicSentinel(h *harness) {
	f := failure{ID: 1, Fail: true, Declared: true, Panic: true}
	_, err := wait(h, errorFunc.Go(h.bg, h.ex, f))
	checkPanicError(h.t, "Future of a function panicking with a declared sentinel", err, "executortest: task 1: "+errDeclared.Error())
	if !errors.Is(err, errDeclared) {
		h.t.Errorf("errors.Is(%v, the declared sentinel the panic value wraps) = false; want true, as on an in-process executor", err)
	}
	var pe *execkit.PanicError
	if errors.As(err, &pe) {
		if _, ok := pe.Value.(error); !ok {
			h.t.Errorf("PanicError.Value = %#v (%T); want an error, as the function's panic value was", pe.Value, pe.Value)
		}
	}
	h.end(func(err error) bool { return err == nil || h.cfg.failFast && errors.Is(err, errDeclared) })
}

// checkGoexit: a task that ends its goroutine (runtime.Goexit, as
// t.FailNow does) does not stop the executor: its Future completes, a task
// submitted after it runs, and Shutdown returns. Its own outcome is not
// checked: in process it counts as returned (as with x/sync's errgroup);
// across a process boundary it fails. A synchronous executor runs it in
// the submitter's goroutine, which it ends, as a direct call would: the
// check submits it from a goroutine of its own there. Either way the task
// counts as ended in Stats (h.end).
func checkGoexit(h *harness) {
	if h.cfg.synchronous {
		for _, future := range []bool{false, true} {
			ended := make(chan struct{})
			go func() {
				defer close(ended) // also when the task ends this goroutine
				if future {
					jobFunc.Go(h.bg, h.ex, h.job(1, goexits))
				} else {
					_ = h.ex.Submit(h.bg, jobFunc.Task(h.job(1, goexits)))
				}
			}()
			select {
			case <-ended:
			case <-time.After(patience):
				h.t.Fatalf("a Submit of a task that called runtime.Goexit did not end within %v", patience)
			}
		}
	} else if err := within(h.t, "Wait of the Future of a task that called runtime.Goexit", func() error {
		_, err := h.goJob(1, goexits).Wait(h.bg)
		_ = err // either outcome: see above
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	if got, err := wait(h, h.goJob(2, record)); err != nil || got != 2 {
		h.t.Errorf("after a task that called runtime.Goexit, Wait = %d, %v; want 2, nil", got, err)
	}
	if h.cfg.failFast { // a Goexit across a process boundary is an error, which fails the batch
		h.end(func(error) bool { return true })
		return
	}
	h.end(nil)
}

func checkPanicError(t *checkT, what string, err error, value string) {
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
