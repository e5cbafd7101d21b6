package errgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// unwrapNil's methods dereference their receiver: a nil *unwrapNil
// returned as an error (the typed nil that is not == nil) panics in Error
// and Unwrap.
type unwrapNil struct{ err error }

func (e *unwrapNil) Error() string { return e.err.Error() }
func (e *unwrapNil) Unwrap() error { return e.err }

// A task's error whose Unwrap panics (a typed nil) reaches its Future, or
// the error handler, as it is, and the executor's own look at it (for
// Stats.Panicked: errors.As) does not panic in its goroutine, which ended
// the process.
func TestTypedNilTaskError(t *testing.T) {
	ex, err := errgroup.New(errgroup.AllErrors())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	isNil := func(err error) bool { e, ok := err.(*unwrapNil); return ok && e == nil }
	_, futureErr := execkit.Go(ctx, ex, func(context.Context) (int, error) { var e *unwrapNil; return 0, e }).Wait(ctx)
	if !isNil(futureErr) {
		t.Errorf("the Future got %#v; want the typed nil, as returned", futureErr)
	}
	if err := ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { var e *unwrapNil; return e })); !errors.Is(err, errgroup.ErrGroupFailed) {
		t.Errorf("Submit after the failure = %v; want ErrGroupFailed", err)
	}
	shutErr := ex.Shutdown(ctx)
	if !isNil(shutErr) {
		t.Errorf("Shutdown = %#v; want the typed nil", shutErr)
	}
	if st := ex.Stats(); st.Failed < 1 || st.Panicked != 0 {
		t.Errorf("Stats = %+v; want a failed task, none panicked", st)
	}
}
