package execkit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// nilAttempts counts the runs of retriedNil.
var nilAttempts atomic.Int64

// retriedNil fails with a typed nil error, under Retry(1).
var retriedNil = execkit.Register("test.retriednil", func(context.Context, int) (int, error) {
	nilAttempts.Add(1)
	var e *nilErr
	return 0, e
}, execkit.Retry(1, time.Millisecond))

// A task's error whose Unwrap panics (a typed nil) reaches its Future, or
// the error handler, as it is, and the executor's own look at it (is it a
// panic? a permanent error?) does not panic: Inline's Submit panicked
// (errors.As, for Stats.Panicked), and so did a Func's retry policy.
func TestTypedNilTaskError(t *testing.T) {
	var mu sync.Mutex
	var handled []error
	ex := &execkit.Inline{OnError: func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }}
	ctx := context.Background()
	var plainErr, futureErr, funcErr error
	before := nilAttempts.Load() // the count lives on between runs (-count)
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panicked: %v", r)
			}
		}()
		plainErr = ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { var e *nilErr; return e }))
		_, futureErr = execkit.Go(ctx, ex, func(context.Context) (int, error) { var e *nilErr; return 0, e }).Wait(ctx)
		_, funcErr = retriedNil.Go(ctx, ex, 1).Wait(ctx)
	}()
	isNilErr := func(err error) bool { e, ok := err.(*nilErr); return ok && e == nil }
	if plainErr != nil || len(handled) != 1 || !isNilErr(handled[0]) {
		t.Errorf("a plain task: Submit = %v, the handler got %#v; want nil, and the typed nil", plainErr, handled)
	}
	if !isNilErr(futureErr) || !isNilErr(funcErr) {
		t.Errorf("Futures got %#v and %#v; want the typed nil, as returned", futureErr, funcErr)
	}
	if n := nilAttempts.Load() - before; n != 2 {
		t.Errorf("the Func under Retry(1) ran %d times; want 2", n)
	}
	if st := ex.Stats(); st.Failed != 3 || st.Panicked != 0 {
		t.Errorf("Stats = %+v; want 3 failed, none panicked", st)
	}
}
