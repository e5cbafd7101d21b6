package subprocess_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// Adversarial tests of the turn order: a submitted task's first call goes
// to the workers in the order the pool admitted the task (see runner in
// pool.go).

var (
	// hourly may start once an hour: its first call takes the token its
	// bucket starts with, the next one waits an hour for the next.
	hourly = execkit.Register("test.turn.hourly", func(_ context.Context, x int) (int, error) {
		return x, nil
	}, execkit.RateLimit("1/h"))

	// lenRetried retries after an hour (at most, full jitter): an argument
	// too large for a frame fails before it is sent, then waits to retry.
	lenRetried = execkit.Register("test.turn.lenRetried", func(_ context.Context, b []byte) (int, error) {
		return len(b), nil
	}, execkit.Retry(1, time.Hour, time.Hour))
)

// TestTurnNotHeldByPolicyWait: a task whose policy waits before its first
// call (for its rate limit's token; to retry a call that failed before it
// was sent) does not hold up the tasks admitted after it, while workers are
// idle: it does not wait for a worker meanwhile, and in process it would
// hold one slot, not all of them.
func TestTurnNotHeldByPolicyWait(t *testing.T) {
	tests := []struct {
		name    string
		waiting func(ctx context.Context, p *subprocess.Pool) func()
	}{
		{"rate limit", func(ctx context.Context, p *subprocess.Pool) func() {
			if v, err := hourly.Go(ctx, p, 1).Wait(ctx); v != 1 || err != nil {
				t.Fatalf("the first hourly call: %d, %v; want 1, nil", v, err)
			}
			f := hourly.Go(context.Background(), p, 2) // waits an hour for its token (with no deadline to say it is too late)
			return f.Cancel
		}},
		{"retry backoff", func(ctx context.Context, p *subprocess.Pool) func() {
			f := lenRetried.Go(context.Background(), p, make([]byte, 8<<10)) // over the frame limit: fails, then waits to retry
			return f.Cancel
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subprocess.SetMaxFrame(t, 4<<10)
			p := newPool(t, 2)
			ctx := testContext(t)
			cancelWaiting := tt.waiting(ctx, p)
			defer cancelWaiting()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			for i := range 3 {
				if v, err := double.Go(ctx, p, i).Wait(wctx); v != 2*i || err != nil {
					t.Fatalf("task %d admitted after the waiting one: %d, %v; want %d, nil (it waited for a task that waits for no worker)", i, v, err, 2*i)
				}
			}
		})
	}
}
