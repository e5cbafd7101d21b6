package compare_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

var (
	errCallerGaveUp = errors.New("the caller gave up")
	// endRun ends the Run's ctx from the third call on, as a deadline
	// would in the middle of a batch; the call then returns ctx.Err(),
	// as a function that respects its ctx does.
	endRun     atomic.Pointer[context.CancelCauseFunc]
	endRunN    atomic.Int64
	endsItsRun = execkit.Register("compare_test.endsItsRun", func(ctx context.Context, x int) (int, error) {
		if c := endRun.Load(); c != nil && endRunN.Add(1) >= 3 {
			(*c)(errCallerGaveUp)
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return x, nil
	})
)

// TestRunCtxEndIsNotTheFunctionFailing: when Run's ctx ended in the middle
// of a batch, the calls returned ctx's error and Run said the function had
// failed (probed with a 30 ms deadline: "compare: inline: probe.sleep2ms
// failed: context deadline exceeded"), blaming it for the caller's
// deadline; here it said a bare "compare: inline: context canceled",
// without the cause. It says ctx ended, with the cause.
func TestRunCtxEndIsNotTheFunctionFailing(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	endRun.Store(&cancel)
	defer endRun.Store(nil)
	endRunN.Store(0)
	_, err := compare.Run(ctx, endsItsRun, []int{1}, compare.TimePerStrategy(10*time.Millisecond))
	if !errors.Is(err, errCallerGaveUp) || !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v; want an error wrapping the cause (%v) and context.Canceled", err, errCallerGaveUp)
	}
	if err != nil && (strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "ctx ended")) {
		t.Errorf("Run: %q; want it to say ctx ended, not that the function failed", err)
	}
}
