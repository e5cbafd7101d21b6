package gate

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// TestWaiterStaysInItsBubble: a gate made in a synctest bubble (a user's
// test of an executor, run in one) and a gate made outside it may both queue
// waiters. A waiter's channel made in the bubble must never be reused by a
// Wait outside it: the runtime kills the process when a goroutine outside a
// bubble receives on a bubble's channel. (A waiter pool shared by every
// gate did just that.)
func TestWaiterStaysInItsBubble(t *testing.T) {
	queueAndGiveUp := func(t *testing.T) {
		var g Gate
		g.Init(1, -1, nil)
		if g.TryAcquire() != Acquired {
			t.Fatal("TryAcquire on a fresh gate: not Acquired")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait on a full gate with an ended ctx = %v; want context.Canceled", err)
		}
	}
	for range 100 {
		synctest.Test(t, queueAndGiveUp)
		queueAndGiveUp(t)
	}
}
