package pool

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

func TestWaitTimeInStats(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	// The gate reads the clock when a Submit starts waiting and when it is
	// admitted; this clock moves 3ms between the two reads.
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ticks := make(chan time.Time, 2)
	ticks <- base
	ticks <- base.Add(3 * time.Millisecond)
	p.gate.now = func() time.Time { return <-ticks }

	release := make(chan struct{})
	started := make(chan struct{})
	ctx := context.Background()
	if err := p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { close(started); <-release; return nil })); err != nil {
		t.Fatal(err)
	}
	<-started
	admitted := make(chan error)
	go func() { admitted <- p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })) }()
	for p.Stats().Waiting != 1 {
		runtime.Gosched()
	}
	close(release)
	if err := <-admitted; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Waited != 1 || st.WaitTime != 3*time.Millisecond {
		t.Errorf("Stats: Waited %d, WaitTime %v; want 1, 3ms", st.Waited, st.WaitTime)
	}
}

// TestGateFIFO: waiters are admitted in the order they arrived.
func TestGateFIFO(t *testing.T) {
	var g gate
	g.init(1, -1, time.Now)
	ctx := context.Background()
	if err := g.wait(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 5
	order := make(chan int, n)
	for i := range n {
		go func() {
			if err := g.wait(ctx); err != nil {
				t.Error(err)
			}
			order <- i
			g.release()
		}()
		for g.nwait.Load() != int64(i+1) { // queue them one by one
			runtime.Gosched()
		}
	}
	g.release()
	for want := range n {
		if got := <-order; got != want {
			t.Errorf("waiter %d was admitted in place %d", got, want)
		}
	}
	if !g.close() || g.close() {
		t.Error("close: want true once, then false")
	}
	<-g.idle
	if err := g.wait(ctx); err != execkit.ErrClosed {
		t.Errorf("wait on a closed gate = %v; want ErrClosed", err)
	}
}
