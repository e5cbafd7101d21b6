package executortest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/execkit/execkit"
)

// The error check's tasks: a registered function that fails with a
// sentinel it declares with execkit.Errors, or with an error of its own
// type wrapping one it does not declare.
var (
	errDeclared   = errors.New("executortest: declared sentinel")
	errUndeclared = errors.New("executortest: undeclared sentinel")
)

// taskError is an error type of the task's own.
type taskError struct {
	ID  int
	Err error
}

func (e *taskError) Error() string { return fmt.Sprintf("executortest: task %d: %v", e.ID, e.Err) }
func (e *taskError) Unwrap() error { return e.Err }

// failure says how an errorFunc task ends.
type failure struct {
	ID       int
	Fail     bool // fail (else return ID)
	Declared bool // with errDeclared, wrapped; else a *taskError wrapping errUndeclared
	Panic    bool // panic with that error instead of returning it
}

var errorFunc = execkit.Register("executortest.error", runFailure, execkit.Errors(errDeclared))

func runFailure(_ context.Context, f failure) (int, error) {
	var err error
	switch {
	case !f.Fail:
		return f.ID, nil
	case f.Declared:
		err = fmt.Errorf("executortest: task %d: %w", f.ID, errDeclared)
	default:
		err = &taskError{ID: f.ID, Err: errUndeclared}
	}
	if f.Panic {
		panic(err)
	}
	return 0, err
}

// checkErrors: a task's error keeps its identity through a Future and
// through Map, as the executor declares it. In this process every error
// keeps it (errors.Is and errors.As see the task's own values); across a
// process boundary (Portable) the sentinels declared with execkit.Errors
// keep it, and any other error arrives as an *execkit.RemoteError carrying
// its text and the name of its type.
func checkErrors(h *harness) {
	type path struct {
		name string
		run  func(f failure) error
	}
	fut := path{"Func.Go", func(f failure) error {
		_, err := wait(h, errorFunc.Go(h.bg, h.ex, f))
		return err
	}}
	mapped := path{"Func.Map", func(f failure) error {
		items := []failure{{ID: f.ID + 100}, f}
		if h.cfg.rejecting && h.cfg.capacity < len(items) { // Map submits every item at once
			items = items[1:]
		}
		return within(h.t, "Map", func() error {
			_, err := errorFunc.Map(h.bg, h.ex, items)
			return err
		})
	}}
	paths := []path{fut, mapped}
	if !h.cfg.portable {
		paths = append(paths,
			path{"Go", func(f failure) error {
				_, err := wait(h, execkit.Go(h.bg, h.ex, func(ctx context.Context) (int, error) { return runFailure(ctx, f) }))
				return err
			}},
			path{"Map", func(f failure) error {
				return within(h.t, "Map", func() error {
					_, err := execkit.Map(h.bg, h.ex, []failure{f}, runFailure)
					return err
				})
			}})
	}
	for i, p := range paths {
		for j, declared := range []bool{false, true} {
			f := failure{ID: 10*i + j + 1, Fail: true, Declared: declared}
			checkIdentity(h, p.name, f, retryFull(func() error { return p.run(f) }))
			if h.cfg.failFast {
				// The group failed: nothing more runs. Its error is
				// the task's, with the same identity.
				h.end(func(err error) bool { return checkIdentity(h, "Shutdown", f, err) })
				return
			}
		}
	}
	h.end(nil)
}

// retryFull calls run again while a rejecting executor is full.
func retryFull(run func() error) error {
	for {
		err := run()
		if !errors.Is(err, execkit.ErrFull) {
			return err
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// checkIdentity checks the error err of task f that came back through
// path, and reports whether it passed.
func checkIdentity(h *harness, path string, f failure, err error) bool {
	h.t.Helper()
	_, wantErr := runFailure(context.Background(), f)
	want := wantErr.Error()
	if err == nil || !strings.Contains(err.Error(), want) {
		h.t.Errorf("%s of a task failing with %q: error %v; want the task's message", path, want, err)
		return false
	}
	ok := true
	fail := func(format string, args ...any) {
		h.t.Errorf("%s of a task failing with %q: "+format, append([]any{path, want}, args...)...)
		ok = false
	}
	switch {
	case f.Declared:
		if !errors.Is(err, errDeclared) {
			fail("errors.Is(err, the sentinel) = false for %#v; want true (the function declares it with execkit.Errors: its identity crosses every executor)", err)
		}
	case h.cfg.portable:
		var re *execkit.RemoteError
		if !errors.As(err, &re) || re.Type != "*executortest.taskError" || re.Message != want {
			fail("got %#v; want an *execkit.RemoteError with the original's type name (*executortest.taskError) and message", err)
		}
	default:
		var te *taskError
		if !errors.Is(err, errUndeclared) || !errors.As(err, &te) || te.ID != f.ID {
			fail("errors.Is(err, the sentinel) = %v, errors.As(err, *taskError) = %v for %#v; want both true (in this process an error keeps its identity)",
				errors.Is(err, errUndeclared), errors.As(err, &te), err)
		}
	}
	return ok
}
