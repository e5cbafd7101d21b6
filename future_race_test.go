package execkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit/internal/link"
)

// The cancellation stress tests race a Future's start against Cancel, and
// Map's own cancellation (its AfterFunc and its return path) against its
// tasks' starts, many thousands of times, and hold Future and Map to the
// words of their docs. They are internal tests, to run a Future's task
// without an executor in between; map_cancel_stress_test.go has Map's.

// stressFor, when set, is how long each stress test runs instead of the
// default, for a soak: go test -run Stress -args -stress=1m.
var stressFor = flag.Duration("stress", 0, "how long each cancellation stress test runs (0: 2s, or 0.3s with -short)")

// stressBudget bounds each stress test's running time.
func stressBudget() time.Duration {
	if *stressFor > 0 {
		return *stressFor
	}
	if testing.Short() {
		return 300 * time.Millisecond
	}
	return 2 * time.Second
}

// jitter yields the processor a random number of times (none, often), to
// move a goroutine's next step around its rivals'.
func jitter(r *rand.Rand) {
	for range r.IntN(4) * r.IntN(4) {
		runtime.Gosched()
	}
}

// stressProbe records the tasks of one call: the ctx each started with,
// which are running, and which started after the call returned.
type stressProbe struct {
	mu       sync.Mutex
	returned bool
	ctxs     []context.Context
	running  int
	late     int // started after the call returned
	lateLive int // started after the call returned, with a live ctx
	started  chan struct{}
}

func newStressProbe() *stressProbe { return &stressProbe{started: make(chan struct{}, 1)} }

// enter records a task's start with ctx.
func (p *stressProbe) enter(ctx context.Context) {
	p.mu.Lock()
	if p.returned {
		p.late++
		if ctx.Err() == nil {
			p.lateLive++
		}
	}
	p.ctxs = append(p.ctxs, ctx)
	p.running++
	p.mu.Unlock()
	select {
	case p.started <- struct{}{}:
	default:
	}
}

func (p *stressProbe) exit() {
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
}

// block is a task body that runs until its ctx ends.
func (p *stressProbe) block(ctx context.Context) (int, error) {
	p.enter(ctx)
	defer p.exit()
	<-ctx.Done()
	return 0, ctx.Err()
}

// markReturned records that the call returned and reports how many of the
// tasks started by then still have a live ctx and how many still run.
func (p *stressProbe) markReturned() (live, running int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.returned = true
	for _, ctx := range p.ctxs {
		if ctx.Err() == nil {
			live++
		}
	}
	return live, p.running
}

// lateStarts reports the tasks that started after markReturned.
func (p *stressProbe) lateStarts() (late, lateLive int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.late, p.lateLive
}

// TestFutureCancelRacesStart races a Future's start (its task run by an
// executor's goroutine) against two Cancels, as Map's AfterFunc and Map's
// return path race each other. Future.Cancel's doc: when Cancel returns,
// the task's ctx has been cancelled or the task never starts; a task that
// has not started never starts and the Future completes at once; a running
// one completes when it returns. So once either Cancel has returned, no
// task that started has a live ctx, and once Wait has returned the task is
// not running and never starts. That holds for a task that returned at
// once too: Cancel on a finished Future does nothing, so a Future must
// not be seen finished before its task's ctx is cancelled.
//
// Before Cancel finished a pending Future under the lock that start takes,
// the task could start between Cancel's check and the completion: it ran
// after Wait returned context.Canceled, and a second Cancel, finding the
// Future finished, returned before the first had cancelled the task's ctx
// (the failure executortest's CancelMap saw once). Under -race that
// happened within the first second or so of rounds. And before a Future
// cancelled its task's ctx before it let go of its lock on finishing, a
// Cancel could find it finished and return while the ctx of the task,
// which had returned at once, was still live: within a few hundred
// rounds.
func TestFutureCancelRacesStart(t *testing.T) {
	for _, c := range []struct {
		name  string
		quick bool
		share time.Duration // of stressBudget, in quarters
	}{
		{"blocking", false, 3}, // runs until its ctx ends
		{"quick", true, 1},     // returns at once
	} {
		t.Run(c.name, func(t *testing.T) {
			deadline := time.Now().Add(stressBudget() * c.share / 4)
			rounds := 0
			for ; time.Now().Before(deadline) || rounds < 1000; rounds++ {
				seed := rand.Uint64()
				if msg := futureCancelRound(seed, c.quick); msg != "" {
					t.Fatalf("round %d (seed %d): %s", rounds, seed, msg)
				}
			}
			t.Logf("%d rounds", rounds)
		})
	}
}

// futureCancelRound runs one round and describes the first broken promise.
func futureCancelRound(seed uint64, quick bool) string {
	p := newStressProbe()
	body := p.block
	if quick {
		body = func(ctx context.Context) (int, error) {
			p.enter(ctx)
			p.exit()
			return 0, nil
		}
	}
	f := newFuture(body)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the executor's goroutine
		defer wg.Done()
		jitter(rand.New(rand.NewPCG(seed, 1)))
		_, _ = link.Run(context.Background(), &f.task)
	}()
	var cancelLive [2]int
	for i := range cancelLive {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jitter(rand.New(rand.NewPCG(seed, uint64(2+i))))
			f.Cancel()
			// Count, without marking the call returned: the other
			// Cancel may not have been called yet.
			p.mu.Lock()
			for _, ctx := range p.ctxs {
				if ctx.Err() == nil {
					cancelLive[i]++
				}
			}
			p.mu.Unlock()
		}()
	}
	_, err := f.Wait(context.Background())
	_, running := p.markReturned()
	wg.Wait()
	late, _ := p.lateStarts()
	switch {
	case cancelLive[0] > 0 || cancelLive[1] > 0:
		return "Future.Cancel returned while its task had a live ctx"
	case running > 0:
		return fmt.Sprintf("Wait returned %v while the task still ran", err)
	case late > 0:
		return fmt.Sprintf("the task started after Wait returned %v", err)
	case !errors.Is(err, context.Canceled) && !(quick && err == nil):
		return fmt.Sprintf("Wait = %v; want context.Canceled", err)
	}
	return ""
}
