package executortest

import (
	"context"
	"fmt"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/errtext"
)

// nilError's methods dereference their receiver, as most error types'
// do: a nil *nilError returned as an error (a typed nil, which is not ==
// nil) panics in Error and Unwrap.
type nilError struct{ err error }

func (e *nilError) Error() string { return e.err.Error() }
func (e *nilError) Unwrap() error { return e.err }

// nilRetried fails with a typed nil, under Retry(1): the policy looks at
// the error (is it permanent?) before it retries.
var nilRetried = execkit.Register("executortest.typednil", func(_ context.Context, j policyJob) (int, error) {
	if err := appendID(j.Dir, attempts, j.ID); err != nil {
		return 0, err
	}
	var e *nilError
	return 0, e
}, execkit.Retry(1, time.Millisecond))

// isTypedNil reports whether err is the typed nil the task returned.
func isTypedNil(err error) bool {
	e, ok := err.(*nilError)
	return ok && e == nil
}

// readable reports whether err is an error that can be read: its Error,
// Unwrap and Is methods return (errors.Is, errors.As and Error work on it).
func readable(err error) bool { return err != nil && errtext.Sound(err) }

// checkTypedNilError: a task whose error is a typed nil, whose Error and
// Unwrap panic, fails as any other (no executor's own look at the error,
// errors.Is or As or its text, panics where it runs, which would end the
// process or lose the outcome). In this process the Future, the error
// handler and a fail-fast group's Shutdown get it as returned; across a
// process boundary they get an error that can be read. A retry policy
// treats it as a failure that is not permanent, and a Stats method does
// not count it as a panic.
func checkTypedNilError(h *harness) {
	var want func(error) bool = isTypedNil
	what := "the typed nil, as returned"
	if h.cfg.portable {
		want, what = readable, "an error that can be read (its methods return)"
	}
	before, hasStats := h.stats()
	var err error
	if perr := within(h.t, "Func.Go of a Func failing with a typed nil", func() (err2 error) {
		defer func() {
			if r := recover(); r != nil {
				err2 = fmt.Errorf("executortest: panicked: %v", r)
			}
		}()
		_, err = nilRetried.Go(h.bg, h.ex, h.policyJob(1)).Wait(h.bg)
		return nil
	}); perr != nil {
		h.t.Fatal(perr)
	}
	if !want(err) {
		h.t.Errorf("the Future of a Func failing with a typed nil got %#v; want %s", err, what)
	}
	if n := h.lines(attempts)[1]; n != 2 {
		h.t.Errorf("a Func failing with a typed nil under Retry(1) ran %d times; want 2 (the typed nil is not a permanent error)", n)
	}
	if h.cfg.failFast {
		h.end(want)
		return
	}
	if err := h.submit(h.bg, nilRetried.Task(h.policyJob(2))); err != nil {
		h.t.Fatalf("Submit = %v; want nil", err)
	}
	if got := h.errs.await(h.t, 1)[0]; !want(got) {
		h.t.Errorf("onError got %#v for a task failing with a typed nil; want %s", got, what)
	}
	if !h.cfg.portable {
		if err := h.submit(h.bg, execkit.TaskFunc(func(context.Context) error { var e *nilError; return e })); err != nil {
			h.t.Fatalf("Submit(closure) = %v; want nil", err)
		}
		if got := h.errs.await(h.t, 2)[1]; !isTypedNil(got) {
			h.t.Errorf("onError got %#v for a closure failing with a typed nil; want the typed nil", got)
		}
		if _, err := wait(h, execkit.Go(h.bg, h.ex, func(context.Context) (int, error) { var e *nilError; return 0, e })); !isTypedNil(err) {
			h.t.Errorf("the Future of Go(closure) failing with a typed nil got %#v; want the typed nil", err)
		}
	}
	if got, err := wait(h, h.goJob(3, record)); err != nil || got != 3 {
		h.t.Errorf("after tasks failing with a typed nil, Wait = %d, %v; want 3, nil", got, err)
	}
	h.end(nil)
	if after, _ := h.stats(); hasStats && after.Panicked != before.Panicked {
		h.t.Errorf("Stats().Panicked grew by %d; want 0 (a typed nil error is a failure, not a panic)", after.Panicked-before.Panicked)
	}
}
