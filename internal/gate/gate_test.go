package gate

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/execkit/execkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitQueued yields until n callers wait.
func waitQueued(t *testing.T, g *Gate, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.Waiting() != n {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting() = %d; want %d", g.Waiting(), n)
		}
		runtime.Gosched()
	}
}

// TestWaitTime: the wait is timed with the injected clock, which moves 3ms
// between the start of the wait and the grant.
func TestWaitTime(t *testing.T) {
	ticks := make(chan time.Duration, 2)
	ticks <- time.Hour
	ticks <- time.Hour + 3*time.Millisecond
	var g Gate
	g.Init(1, -1, func() time.Duration { return <-ticks })
	ctx := context.Background()
	if g.Try() != Acquired {
		t.Fatal("Try on an empty gate: not Acquired")
	}
	got := make(chan error)
	go func() { got <- g.Wait(ctx) }()
	waitQueued(t, &g, 1)
	g.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if n, total := g.Waited(); n != 1 || total != 3*time.Millisecond {
		t.Errorf("Waited() = %d, %v; want 1, 3ms", n, total)
	}
}

// TestFIFO: waiters get slots in the order they arrived.
func TestFIFO(t *testing.T) {
	var g Gate
	g.Init(1, -1, nil)
	ctx := context.Background()
	if err := g.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 5
	order := make(chan int, n)
	for i := range n {
		go func() {
			if err := g.Wait(ctx); err != nil {
				t.Error(err)
			}
			order <- i
			g.Release()
		}()
		waitQueued(t, &g, i+1) // queue them one by one
	}
	g.Release()
	for want := range n {
		if got := <-order; got != want {
			t.Errorf("waiter %d got a slot in place %d", got, want)
		}
	}
	if !g.Close() || g.Close() {
		t.Error("Close: want true once, then false")
	}
	<-g.Idle()
	if err := g.Wait(ctx); err != execkit.ErrClosed {
		t.Errorf("Wait on a closed gate = %v; want ErrClosed", err)
	}
	if g.Try() != Closed || g.TryAcquire() != Closed || g.TryAcquireNested(true) != Closed {
		t.Error("a closed gate gave a slot")
	}
}

func TestWaitEnds(t *testing.T) {
	tests := []struct {
		name       string
		maxWaiting int
		end        func(g *Gate, cancel context.CancelFunc)
		want       error
	}{
		{"ctx cancelled", -1, func(_ *Gate, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"gate closed", -1, func(g *Gate, _ context.CancelFunc) { g.Close() }, execkit.ErrClosed},
		{"slot freed", 1, func(g *Gate, _ context.CancelFunc) { g.Release() }, nil},
		{"limit raised", -1, func(g *Gate, _ context.CancelFunc) { g.SetLimit(2) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Gate
			g.Init(1, tt.maxWaiting, nil)
			if g.Try() != Acquired {
				t.Fatal("Try on an empty gate: not Acquired")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got := make(chan error)
			go func() { got <- g.Wait(ctx) }()
			waitQueued(t, &g, 1)
			if tt.maxWaiting == 1 {
				if err := g.Wait(ctx); err != execkit.ErrFull {
					t.Errorf("Wait beyond maxWaiting = %v; want ErrFull", err)
				}
			}
			tt.end(&g, cancel)
			if err := <-got; !errors.Is(err, tt.want) {
				t.Errorf("Wait = %v; want %v", err, tt.want)
			}
			if g.Waiting() != 0 {
				t.Errorf("Waiting() = %d after the wait ended; want 0", g.Waiting())
			}
		})
	}
}

func TestNoWaiting(t *testing.T) {
	var g Gate
	g.Init(1, 0, nil)
	if err := g.Wait(context.Background()); err != nil {
		t.Fatalf("Wait on a free gate = %v", err)
	}
	if err := g.Wait(context.Background()); err != execkit.ErrFull {
		t.Errorf("Wait with maxWaiting 0 on a full gate = %v; want ErrFull", err)
	}
}

// TestLimitDown: a smaller limit takes effect as slots come back.
func TestLimitDown(t *testing.T) {
	var g Gate
	g.Init(3, -1, nil)
	for range 3 {
		if g.Try() != Acquired {
			t.Fatal("Try: not Acquired")
		}
	}
	g.SetLimit(1)
	g.Release()
	g.Release()
	if r := g.Try(); r != Full {
		t.Errorf("Try with 1 slot in use, limit 1 = %v; want Full", r)
	}
	g.Release()
	if r := g.Try(); r != Acquired {
		t.Errorf("Try on an empty gate = %v; want Acquired", r)
	}
	if g.TryAcquireNested(true) != Acquired || g.Used() != 2 {
		t.Errorf("TryAcquireNested(true): Used() = %d; want 2", g.Used())
	}
}

// TestWaitAllocs holds the package doc's promise that waiting allocates
// nothing (waiters are pooled). Each round, the test holds the slot, asks
// another goroutine to release it, and calls Wait at once: Wait either
// queues until the release (the waiting path) or finds the slot free.
func TestWaitAllocs(t *testing.T) {
	var g Gate
	g.Init(1, -1, nil)
	ctx := context.Background()
	if g.Try() != Acquired {
		t.Fatal("Try on an empty gate did not acquire")
	}
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range release {
			g.Release()
		}
	}()
	allocs := testing.AllocsPerRun(500, func() {
		release <- struct{}{}
		if err := g.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	})
	close(release)
	<-done
	if allocs != 0 {
		t.Errorf("Wait: %v allocations per call; want 0", allocs)
	}
}

// TestTryAcquireNested: a holder of a slot may add work to a closed gate
// until it is idle, within the limit unless beyond is set; nothing after.
func TestTryAcquireNested(t *testing.T) {
	var g Gate
	g.Init(2, -1, nil)
	if g.Try() != Acquired {
		t.Fatal("Try on an empty gate: not Acquired")
	}
	g.Close()
	if got := g.TryAcquire(); got != Closed {
		t.Errorf("TryAcquire on a closed gate = %v; want Closed", got)
	}
	if got := g.TryAcquireNested(false); got != Acquired {
		t.Errorf("TryAcquireNested(false), closed, 1 of 2 in use = %v; want Acquired", got)
	}
	if got := g.TryAcquireNested(false); got != Full {
		t.Errorf("TryAcquireNested(false), closed, 2 of 2 in use = %v; want Full", got)
	}
	if got := g.TryAcquireNested(true); got != Acquired {
		t.Errorf("TryAcquireNested(true), closed, 2 of 2 in use = %v; want Acquired", got)
	}
	for range 3 {
		select {
		case <-g.Idle():
			t.Fatal("Idle closed while slots were in use")
		default:
		}
		g.Release()
	}
	<-g.Idle()
	for _, beyond := range []bool{false, true} {
		if got := g.TryAcquireNested(beyond); got != Closed {
			t.Errorf("TryAcquireNested(%v) on a closed idle gate = %v; want Closed", beyond, got)
		}
	}
}

// TestSlack: with SetSlack(2) on a gate of 4, a waiter is not woken by the
// first two releases, only once no more than 2 slots are in use.
func TestSlack(t *testing.T) {
	var g Gate
	g.Init(4, -1, nil)
	g.SetSlack(2)
	for range 4 {
		if g.Try() != Acquired {
			t.Fatal("Try below the limit: not Acquired")
		}
	}
	got := make(chan error, 1)
	go func() { got <- g.Wait(context.Background()) }()
	waitQueued(t, &g, 1)
	g.Release() // 3 in use
	if g.Waiting() != 1 || g.Used() != 3 {
		t.Fatalf("after one release: Waiting %d, Used %d; want 1, 3 (the waiter sleeps on)", g.Waiting(), g.Used())
	}
	g.Release() // 2 in use: wake
	if err := <-got; err != nil {
		t.Fatalf("Wait = %v; want nil", err)
	}
	if g.Used() != 3 {
		t.Errorf("Used = %d; want 3", g.Used())
	}
	for range 3 {
		g.Release()
	}
	g.Close()
}
