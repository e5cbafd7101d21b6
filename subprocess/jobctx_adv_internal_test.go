package subprocess

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// children is the number of ctxs and AfterFuncs hanging on the cancelCtx
// of package context inside a jobCtx (its unexported children map).
func children(t *testing.T, ctx context.Context) int {
	t.Helper()
	f := reflect.ValueOf(ctx).Elem().FieldByName("children")
	if !f.IsValid() {
		t.Skip("context's cancelCtx has no children field in this Go version")
	}
	return f.Len()
}

// A ctx a function derives from its job ctx and ends itself lets go of
// its AfterFunc registration; and after EXPIRE every derived ctx says
// context.DeadlineExceeded, its cause too, and Err never changes after.
// advKey is the key of the value a function puts in a ctx it derives.
type advKey struct{}

func TestAdvJobCtxDerived(t *testing.T) {
	j := &job{}
	j.jc.Context, j.cancel = context.WithCancel(context.Background())
	j.ctx = &j.jc
	for range 100 {
		_, cancel := context.WithCancel(j.ctx)
		cancel()
		_, cancel = context.WithTimeout(j.ctx, time.Hour)
		cancel()
		stop := context.AfterFunc(j.ctx, func() {})
		stop()
		vc, cancel := context.WithCancel(context.WithValue(j.ctx, advKey{}, 1))
		cancel()
		_ = vc
	}
	if n := children(t, j.jc.Context); n != 0 {
		t.Errorf("%d registrations left on the job's ctx after the derived ctxs ended", n)
	}
	wc, wcancel := context.WithCancel(j.ctx)
	defer wcancel()
	tc, tcancel := context.WithTimeout(j.ctx, time.Hour)
	defer tcancel()
	dl, dcancel := context.WithDeadline(j.ctx, time.Now().Add(time.Hour))
	defer dcancel()
	vc, vcancel := context.WithCancel(context.WithValue(j.ctx, advKey{}, 1))
	defer vcancel()
	// EXPIRE, as workerSide.cancel does it.
	j.jc.expired.Store(true)
	j.cancel()
	for name, c := range map[string]context.Context{"job": j.ctx, "WithCancel": wc, "WithTimeout": tc, "WithDeadline": dl, "WithCancel(WithValue)": vc} {
		<-c.Done()
		if c.Err() != context.DeadlineExceeded || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
			t.Errorf("%s: Err %v, Cause %v; want context.DeadlineExceeded", name, c.Err(), context.Cause(c))
		}
	}
	if _, ok := j.ctx.Deadline(); ok {
		t.Error("a job without a deadline has one")
	}
}

// TestJobCtxDeadline: a job's ctx reports the earlier of its caller's
// deadline and the end of its TimeLimit, either alone, or none.
func TestJobCtxDeadline(t *testing.T) {
	now := time.Now()
	soon, late := now.Add(time.Second), now.Add(time.Hour)
	for _, c := range []struct {
		name            string
		caller, limitAt time.Time // zero: none
		want            time.Time
	}{
		{"neither", time.Time{}, time.Time{}, time.Time{}},
		{"caller only", late, time.Time{}, late},
		{"limit only", time.Time{}, soon, soon},
		{"limit first", late, soon, soon},
		{"caller first", soon, late, soon},
	} {
		var jc jobCtx
		var cancel context.CancelFunc
		if c.caller.IsZero() {
			jc.Context, cancel = context.WithCancel(context.Background())
		} else {
			jc.Context, cancel = context.WithDeadline(context.Background(), c.caller)
		}
		jc.limitAt = c.limitAt
		d, ok := jc.Deadline()
		if ok != !c.want.IsZero() || !d.Equal(c.want) {
			t.Errorf("%s: Deadline() = %v, %v; want %v, %v", c.name, d, ok, c.want, !c.want.IsZero())
		}
		cancel()
	}
}
