package subprocess

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// TestAdvExpired checks which ended contexts make the pool send EXPIRE
// rather than CANCEL: those whose function's ctx says
// context.DeadlineExceeded in process. (A worker's ctx also carries the
// caller's deadline, so the first case only shows when CANCEL beats the
// worker's own timer; Shutdown and Map showed every time: see
// TestAdvCtxEndsAsInProcess and TestAdvMapStopIsACancel.)
func TestAdvExpired(t *testing.T) {
	ended := func(f func() (context.Context, func())) context.Context {
		ctx, end := f()
		end()
		<-ctx.Done()
		return ctx
	}
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"deadline", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
			return ctx, func() { <-ctx.Done(); cancel() }
		}), true},
		{"deadline with a cause of the caller's", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now(), errors.New("mine"))
			return ctx, func() { <-ctx.Done(); cancel() }
		}), true},
		{"TimeLimit's clock (the cause ErrTimeLimit)", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(execkit.ErrTimeLimit) }
		}), true},
		{"cancel", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel
		}), false},
		{"Shutdown's ctx passed its deadline (a cause wrapping DeadlineExceeded)", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() {
				cancel(fmt.Errorf("subprocess: Shutdown's context ended before the task finished: %w", context.DeadlineExceeded))
			}
		}), false},
		{"Map stopped by an item's TimeLimit (a cause wrapping ErrTimeLimit)", ended(func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(fmt.Errorf("%w: %q ran past its limit", execkit.ErrTimeLimit, "f")) }
		}), false},
	}
	for _, tt := range tests {
		if got := expired(tt.ctx); got != tt.want {
			t.Errorf("%s: expired = %v; want %v (Err %v, Cause %v)", tt.name, got, tt.want, tt.ctx.Err(), context.Cause(tt.ctx))
		}
	}
}
