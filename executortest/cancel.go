package executortest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/execkit/execkit"
)

// The cancellation checks: a call that cancels (Map whose ctx ends,
// Future.Cancel, Shutdown whose ctx ends) has told every task it cancelled
// by the time it returns, and nothing it cancelled starts afterwards with a
// live context. Each runs many rounds, cancelling at a different point of
// the tasks' lives (before admission, while they are admitted or starting,
// while they run), with a ctx that has many children: the context package
// closes a parent's Done channel before it cancels the children, one by
// one, so a call that relies on a child being cancelled by then (or on an
// AfterFunc having run) loses the race often enough to be caught.

// Rounds per check, in this process and across a process boundary (where
// each round costs pipe or database round trips).
const (
	cancelRounds         = 200
	portableCancelRounds = 20
	shutdownRounds       = 40
	portableShutdowns    = 4
)

// cancelPoint is when a round cancels.
type cancelPoint int

const (
	cancelBefore  cancelPoint = iota // the ctx has ended before the call
	cancelRacing                     // from another goroutine, at once: races admission and start
	cancelRunning                    // once a task has started
	cancelPoints
)

func (p cancelPoint) String() string {
	return [...]string{"before the call", "while tasks are admitted and start", "while a task runs"}[p]
}

// crowdedContext returns a ctx with many children, as a server-wide ctx
// has, and its cancel function, which cancels the children too.
func crowdedContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	children := make([]context.CancelFunc, 256)
	for i := range children {
		_, children[i] = context.WithCancel(ctx)
	}
	return ctx, func() {
		cancel()
		for _, c := range children {
			c()
		}
	}
}

// probe is an in-process task body that records the context each task
// started with, and blocks until that context ends.
type probe struct {
	mu       sync.Mutex
	returned bool // the cancelling call has returned
	ctxs     []context.Context
	late     int           // tasks that started after that with a live ctx
	started  chan struct{} // one value per start, while there is room
}

func newProbe() *probe { return &probe{started: make(chan struct{}, 1024)} }

func (p *probe) run(ctx context.Context) error {
	p.mu.Lock()
	if p.returned && ctx.Err() == nil {
		p.late++
	}
	p.ctxs = append(p.ctxs, ctx)
	p.mu.Unlock()
	select {
	case p.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// markReturned records that the cancelling call has returned and reports
// how many started tasks still have a live context.
func (p *probe) markReturned() (live int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.returned = true
	for _, ctx := range p.ctxs {
		if ctx.Err() == nil {
			live++
		}
	}
	return live
}

func (p *probe) lateStarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.late
}

// canceller arranges for cancel to be called at point: now, from another
// goroutine at once, or once a task has started (or stop is closed).
func canceller(point cancelPoint, cancel func(), started <-chan struct{}, stop <-chan struct{}) {
	switch point {
	case cancelBefore:
		cancel()
	case cancelRacing:
		go cancel()
	case cancelRunning:
		go func() {
			select {
			case <-started:
			case <-stop:
			}
			cancel()
		}()
	}
}

// mapItems is how many items a round of Map has: more than a bounded
// executor holds at once (so some wait in Submit), unless it rejects.
func (h *harness) mapItems() int {
	if h.cfg.rejecting {
		return h.small(6)
	}
	if c := h.cfg.capacity; c > 0 {
		return min(c+3, 16)
	}
	return 12
}

// checkCancelMap: Map whose ctx ends returns ctx.Err(), and by then every
// task it admitted has had its ctx cancelled; none starts afterwards with a
// live ctx; Shutdown then returns (nothing is left waiting on a ctx that
// was never cancelled).
func checkCancelMap(h *harness) {
	var probes []*probe
	rounds := cancelRounds
	if h.cfg.portable {
		rounds = portableCancelRounds
	}
	n := h.mapItems()
	for r := range rounds {
		point := cancelPoint(r % int(cancelPoints))
		ctx, cancel := crowdedContext()
		stop := make(chan struct{})
		var err error
		if h.cfg.portable {
			jobs := make([]job, n)
			for i := range jobs {
				jobs[i] = h.job(r*n+i, waitCtx)
			}
			canceller(point, cancel, h.startedSignal(r*n, n, stop), stop)
			err = within(h.t, "Map", func() error { _, err := jobFunc.Map(ctx, h.ex, jobs); return err })
		} else {
			p := newProbe()
			probes = append(probes, p)
			canceller(point, cancel, p.started, stop)
			err = within(h.t, "Map", func() error {
				_, err := execkit.Map(ctx, h.ex, make([]int, n), func(ctx context.Context, _ int) (int, error) {
					return 0, p.run(ctx)
				})
				return err
			})
			if live := p.markReturned(); live > 0 {
				h.t.Errorf("round %d, cancelled %v: Map returned %v while %d of its tasks still had a live ctx (it must cancel them before it returns)", r, point, err, live)
			}
		}
		close(stop)
		cancel()
		// A rejecting executor may still hold the slots of the previous
		// round's tasks, which return only after they saw the cancellation.
		if !errors.Is(err, context.Canceled) && !(h.cfg.rejecting && errors.Is(err, execkit.ErrFull)) {
			h.t.Errorf("round %d, cancelled %v: Map = %v; want context.Canceled", r, point, err)
		}
		if h.t.Failed() {
			break
		}
	}
	h.end(nil)
	for r, p := range probes {
		if late := p.lateStarts(); late > 0 {
			h.t.Errorf("round %d: %d tasks of a Map started with a live ctx after Map returned context.Canceled", r, late)
		}
	}
	if h.cfg.portable {
		h.everyStartedWasCancelled()
	}
}

// checkCancelFuture: when Future.Cancel returns, the task has had its ctx
// cancelled or never starts.
func checkCancelFuture(h *harness) {
	var probes []*probe
	rounds := cancelRounds
	if h.cfg.portable {
		rounds = portableCancelRounds
	}
	for r := range rounds {
		point := cancelPoint(1 + r%2) // racing its start, or once it runs
		if h.cfg.portable {
			f := jobFunc.Go(h.bg, h.ex, h.job(r, waitCtx))
			if point == cancelRunning {
				h.awaitStarted(r)
			}
			f.Cancel()
			if _, err := wait(h, f); err == nil {
				h.t.Errorf("round %d: Wait after Cancel = nil error; want the cancellation", r)
			}
			continue
		}
		p := newProbe()
		probes = append(probes, p)
		f := execkit.Go(h.bg, h.ex, func(ctx context.Context) (int, error) { return 0, p.run(ctx) })
		if point == cancelRunning {
			select {
			case <-p.started:
			case <-time.After(patience):
				h.t.Fatalf("round %d: the task did not start within %v", r, patience)
			}
		}
		f.Cancel()
		if live := p.markReturned(); live > 0 {
			h.t.Errorf("round %d, cancelled %v: Future.Cancel returned while its task had a live ctx", r, point)
		}
		if _, err := wait(h, f); err == nil {
			h.t.Errorf("round %d: Wait after Cancel = nil error; want the cancellation", r)
		}
		if h.t.Failed() {
			break
		}
	}
	h.end(nil)
	for r, p := range probes {
		if late := p.lateStarts(); late > 0 {
			h.t.Errorf("round %d: the task started with a live ctx after Future.Cancel returned", r)
		}
	}
	if h.cfg.portable {
		h.everyStartedWasCancelled()
	}
}

// checkCancelShutdown: Shutdown whose ctx ends returns ctx.Err(), and by
// then every task admitted has had its ctx cancelled; none starts
// afterwards with a live ctx; a later Shutdown returns. Each round uses a
// fresh executor.
func checkCancelShutdown(h *harness) {
	rounds := shutdownRounds
	if h.cfg.portable {
		rounds = portableShutdowns
	}
	k := h.small(4)
	var probes []*probe
	for r := range rounds {
		point := cancelPoint(r % int(cancelPoints))
		ex := h.another()
		p := newProbe()
		probes = append(probes, p)
		var wg sync.WaitGroup
		for i := range k {
			wg.Add(1)
			go func() { // from goroutines: an Inline Submit runs its task
				defer wg.Done()
				id := 100000 + r*k + i
				var err error
				switch {
				case h.cfg.portable && i%2 == 0:
					_, err = jobFunc.Go(h.bg, ex, h.job(id, waitCtx)).Wait(h.bg)
				case h.cfg.portable:
					err = ex.Submit(h.bg, jobFunc.Task(h.job(id, waitCtx)))
				case i%2 == 0:
					_, err = execkit.Go(h.bg, ex, func(ctx context.Context) (int, error) { return 0, p.run(ctx) }).Wait(h.bg)
				default:
					err = ex.Submit(h.bg, execkit.TaskFunc(p.run))
				}
				_ = err // admitted and cancelled, or refused (ErrClosed): both are fine here
			}()
		}
		ctx, cancel := crowdedContext()
		stop := make(chan struct{})
		var started <-chan struct{} = p.started
		if h.cfg.portable {
			started = h.startedSignal(100000+r*k, k, stop)
		}
		canceller(point, cancel, started, stop)
		err := within(h.t, "Shutdown", func() error { return ex.Shutdown(ctx) })
		if !h.cfg.portable {
			if live := p.markReturned(); live > 0 {
				h.t.Errorf("round %d, cancelled %v: Shutdown returned %v while %d tasks still had a live ctx (it must cancel them first)", r, point, err, live)
			}
		}
		close(stop)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			h.t.Errorf("round %d, cancelled %v: Shutdown = %v; want context.Canceled (or nil when nothing was admitted)", r, point, err)
		}
		_ = within(h.t, "the submitters", func() error { wg.Wait(); return nil })
		_ = within(h.t, "a second Shutdown", func() error { return ex.Shutdown(h.bg) })
		if h.t.Failed() {
			break
		}
	}
	h.end(nil)
	for r, p := range probes {
		if late := p.lateStarts(); late > 0 {
			h.t.Errorf("round %d: %d tasks started with a live ctx after Shutdown gave up", r, late)
		}
	}
	if h.cfg.portable {
		h.everyStartedWasCancelled()
	}
}

// startedSignal returns a channel that gets a value once one of the jobs
// first..first+n-1 has recorded its start (or stop is closed), for a
// canceller across a process boundary.
func (h *harness) startedSignal(first, n int, stop <-chan struct{}) <-chan struct{} {
	c := make(chan struct{}, 1)
	go func() {
		for {
			got, _ := counts(h.dir, startedFile)
			for id := first; id < first+n; id++ {
				if got[id] > 0 {
					c <- struct{}{}
					return
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return c
}

// awaitStarted waits until job id has recorded its start.
func (h *harness) awaitStarted(id int) {
	h.t.Helper()
	deadline := time.Now().Add(patience)
	for h.lines(startedFile)[id] == 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("job %d did not start within %v", id, patience)
		}
		time.Sleep(time.Millisecond)
	}
}

// everyStartedWasCancelled checks, after Shutdown, that every waitCtx job
// that started saw its ctx end: across a process boundary that is what
// "told" means once the call returned.
func (h *harness) everyStartedWasCancelled() {
	h.t.Helper()
	started, cancelled := h.lines(startedFile), h.lines(cancelledFile)
	var missing []int
	for id, n := range started {
		if cancelled[id] < n {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		h.t.Errorf("%d jobs started and returned without their ctx being cancelled, e.g. %v", len(missing), fmt.Sprint(missing[:min(5, len(missing))]))
	}
}
