package compare

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
)

var (
	directCalls atomic.Int64
	// countsCalls ignores its ctx, as a short function does.
	countsCalls = execkit.Register("compare.countsCalls", func(_ context.Context, x int) (int, error) {
		directCalls.Add(1)
		return x, nil
	})
	// endsCtx ends its caller's ctx (as a deadline would in the middle of
	// the calls) and returns ctx's error, as a function that respects its
	// ctx does.
	endCtx  atomic.Pointer[context.CancelCauseFunc]
	endsCtx = execkit.Register("compare.endsCtx", func(ctx context.Context, x int) (int, error) {
		if c := endCtx.Load(); c != nil {
			(*c)(errors.New("deadline"))
		}
		return x, ctx.Err()
	})
)

// TestDirectStopsWhenCtxEnds: the direct calls, timed after inline's
// rounds, started every one of their calls after Run's ctx had ended (run
// checks ctx before each batch, direct never did), and a call returning
// ctx's error read as the function failing.
func TestDirectStopsWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("the caller gave up")
	cancel(cause)

	directCalls.Store(0)
	d := &driver[int, int]{f: countsCalls, samples: []int{1, 2}, batch: 4}
	_, err := d.direct(ctx, 100)
	if n := directCalls.Load(); n != 0 {
		t.Errorf("%d direct calls started after ctx ended; want none", n)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Errorf("direct: %v; want an error wrapping context.Canceled and the cause", err)
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	defer cancel(nil)
	endCtx.Store(&cancel)
	defer endCtx.Store(nil)
	d = &driver[int, int]{f: endsCtx, samples: []int{1}, batch: 4}
	_, err = d.direct(ctx, 3)
	if err == nil || strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "ctx ended") {
		t.Errorf("direct: %v; want it to say ctx ended, not that the function failed", err)
	}
}
