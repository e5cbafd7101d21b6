package execkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// errNilCtx is what the functions below return when they are given a nil
// ctx.
var errNilCtx = errors.New("the function got a nil ctx")

func ctxCheck(ctx context.Context, _ struct{}) (bool, error) {
	if ctx == nil {
		return false, errNilCtx
	}
	return ctx.Err() == nil, nil
}

var (
	nilCtxPlain   = execkit.Register("execkit_test.nilctx.plain", ctxCheck)
	nilCtxPoliced = execkit.Register("execkit_test.nilctx.policed", ctxCheck,
		execkit.TimeLimit(time.Minute), execkit.Retry(1), execkit.RateLimit(1000))
)

// TestNilCtxReachesNoFunction: every way execkit calls a registered
// function or a Future's, handed a nil ctx, calls it with
// context.Background, as Submit and Shutdown take a nil ctx: Func.Call
// passed the nil on (the function panicked on it: a *PanicError), the Run
// of Func.Task with a policy panicked in the policy (ctx.Value), the Run of
// a Future's task (called by an executor of its own, as held does here)
// panicked making its context and its Future never completed, and
// driver.Invoke and driver.InvokeBatch passed it on or panicked.
func TestNilCtxReachesNoFunction(t *testing.T) {
	var nilCtx context.Context
	noPanic := func(what string, f func() error) {
		t.Helper()
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = errors.New("panicked")
					t.Errorf("%s with a nil ctx panicked: %v", what, r)
				}
			}()
			err = f()
		}()
		if err != nil && err.Error() != "panicked" {
			t.Errorf("%s with a nil ctx = %v; want nil (the function called with context.Background)", what, err)
		}
	}
	for _, f := range []*execkit.Func[struct{}, bool]{nilCtxPlain, nilCtxPoliced} {
		noPanic(f.Name()+": Func.Call", func() error { _, err := f.Call(nilCtx, struct{}{}); return err })
		noPanic(f.Name()+": Func.Task's Run", func() error { return f.Task(struct{}{}).Run(nilCtx) })
		noPanic(f.Name()+": driver.Invoke", func() error { _, err := driver.Invoke(nilCtx, f.Name(), nil); return err })
		noPanic(f.Name()+": driver.InvokeBatch", func() error {
			payload, err := driver.EncodeBatch(f, []struct{}{{}})
			if err != nil {
				return err
			}
			_, errs, err := driver.InvokeBatch(nilCtx, f.Name(), payload)
			return errors.Join(append(errs, err)...)
		})

		var h held
		futs := []*execkit.Future[bool]{
			f.Go(context.Background(), &h, struct{}{}),
			execkit.Go(context.Background(), &h, func(ctx context.Context) (bool, error) { return ctxCheck(ctx, struct{}{}) }),
		}
		for i, task := range h.tasks {
			noPanic(f.Name()+": the Run of a Future's task", func() error {
				if err := task.Run(nilCtx); err != nil {
					return err
				}
				select {
				case <-futs[i].Done():
				default:
					return errors.New("its Future is not done after Run returned")
				}
				_, err := futs[i].Wait(context.Background())
				return err
			})
		}
	}
}
