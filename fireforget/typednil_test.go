package fireforget

import (
	"context"
	"sync"
	"testing"

	"github.com/execkit/execkit"
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
	var mu sync.Mutex
	var handled []error
	handle := func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }
	ex, err := New(OnError(handle))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	isNil := func(err error) bool { e, ok := err.(*unwrapNil); return ok && e == nil }
	_, futureErr := execkit.Go(ctx, ex, func(context.Context) (int, error) { var e *unwrapNil; return 0, e }).Wait(ctx)
	if !isNil(futureErr) {
		t.Errorf("the Future got %#v; want the typed nil, as returned", futureErr)
	}
	if err := ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { var e *unwrapNil; return e })); err != nil {
		t.Fatal(err)
	}
	shutErr := ex.Shutdown(ctx)
	if shutErr != nil || len(handled) != 1 || !isNil(handled[0]) {
		t.Errorf("Shutdown = %v, the handler got %#v; want nil, and the typed nil", shutErr, handled)
	}
	if st := ex.Stats(); st.Failed != 2 || st.Panicked != 0 {
		t.Errorf("Stats = %+v; want 2 failed, none panicked", st)
	}
}
