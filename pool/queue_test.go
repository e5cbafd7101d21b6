package pool_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/pool"
)

// TestQueue: with Queue(n), Submit admits size+n tasks without waiting for
// a worker, Stats counts the n beyond the workers Queued, the next Submit
// applies the admission policy, and the queued tasks run in order once
// workers free.
func TestQueue(t *testing.T) {
	const size, n = 2, 3
	for _, reject := range []bool{false, true} {
		opts := []pool.Option{pool.Queue(n)}
		if reject {
			opts = append(opts, pool.RejectWhenFull())
		}
		p := newPool(t, size, opts...)
		release := make(chan struct{})
		started := make(chan int, size+n)
		var mu sync.Mutex
		var order []int
		for i := range size + n {
			if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
				started <- i
				<-release
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})); err != nil {
				t.Fatalf("Submit #%d = %v; want nil (room in the queue)", i, err)
			}
		}
		<-started
		<-started
		if st := p.Stats(); st.Queued != n || st.Running != size || st.Free != 0 || st.Size != size {
			t.Errorf("reject=%v: Stats = %+v; want Queued %d, Running %d, Free 0, Size %d", reject, st, n, size, size)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		want := error(context.Canceled)
		if reject {
			want = execkit.ErrFull
		}
		if err := p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, want) {
			t.Errorf("reject=%v: Submit to a full queue = %v; want %v", reject, err, want)
		}
		close(release)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(order) != size+n {
			t.Fatalf("reject=%v: %d tasks ran; want %d", reject, len(order), size+n)
		}
		if st := p.Stats(); st.Queued != 0 || st.Succeeded != size+n {
			t.Errorf("reject=%v: after Shutdown Stats = %+v; want Queued 0, Succeeded %d", reject, st, size+n)
		}
	}
}

// TestQueueFIFO: one worker takes the queued tasks in submission order.
func TestQueueFIFO(t *testing.T) {
	p := newPool(t, 1, pool.Queue(8))
	release := make(chan struct{})
	var order []int // written by the one worker only
	for i := range 9 {
		if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
			if i == 0 {
				<-release
			}
			order = append(order, i)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("order = %v; want 0..8", order)
		}
	}
}

// TestQueueShutdownDeadline: tasks still queued when Shutdown's ctx ends
// never start; they are reported cancelled (to OnError, or their Future).
func TestQueueShutdownDeadline(t *testing.T) {
	var errs atomic.Int64
	p := newPool(t, 1, pool.Queue(10), pool.OnError(func(err error) {
		if errors.Is(err, context.Canceled) {
			errs.Add(1)
		}
	}))
	running := make(chan struct{})
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		return ctx.Err()
	})); err != nil {
		t.Fatal(err)
	}
	<-running
	var startedLate atomic.Int64
	late := execkit.TaskFunc(func(context.Context) error { startedLate.Add(1); return nil })
	for range 5 {
		if err := p.Submit(context.Background(), late); err != nil {
			t.Fatal(err)
		}
	}
	f := execkit.Go(context.Background(), p, func(context.Context) (int, error) { startedLate.Add(1); return 1, nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(ended ctx) = %v; want context.Canceled", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := startedLate.Load(); n != 0 {
		t.Errorf("%d queued tasks started after Shutdown's ctx ended; want 0", n)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Future of a queued task: Wait = %v; want context.Canceled", err)
	}
	if got := errs.Load(); got != 6 { // the running one and the 5 queued
		t.Errorf("OnError got %d cancellations; want 6", got)
	}
}

// TestQueueCancelledFuture: a queued task whose Future was cancelled never
// starts.
func TestQueueCancelledFuture(t *testing.T) {
	p := newPool(t, 1, pool.Queue(4))
	release := make(chan struct{})
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { <-release; return nil })); err != nil {
		t.Fatal(err)
	}
	var started atomic.Bool
	f := execkit.Go(context.Background(), p, func(context.Context) (int, error) { started.Store(true); return 1, nil })
	f.Cancel()
	close(release)
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v; want context.Canceled", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if started.Load() {
		t.Error("a queued task started after its Future was cancelled")
	}
}

// TestQueueResize: a larger size starts drainers for the tasks queued
// already.
func TestQueueResize(t *testing.T) {
	p := newPool(t, 1, pool.Queue(4))
	release := make(chan struct{})
	started := make(chan struct{}, 5)
	for range 3 {
		if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
			started <- struct{}{}
			<-release
			return nil
		})); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	if err := p.Resize(3); err != nil {
		t.Fatal(err)
	}
	<-started // the queued two start without the first finishing
	<-started
	close(release)
}

func TestQueueNegative(t *testing.T) {
	if _, err := pool.New(1, pool.Queue(-1)); err == nil {
		t.Error("New(1, Queue(-1)) = nil error; want one")
	}
	// Huge values are refused, not accepted into an overflowed limit that
	// then admits nothing.
	if _, err := pool.New(2, pool.Queue(math.MaxInt)); err == nil {
		t.Error("New(2, Queue(MaxInt)) = nil error; want one")
	}
	if _, err := pool.New(math.MaxInt, pool.Queue(1)); !errors.Is(err, pool.ErrSize) {
		t.Errorf("New(MaxInt, Queue(1)) = %v; want ErrSize", err)
	}
	p := newPool(t, 1, pool.Queue(1<<30))
	if err := p.Resize(math.MaxInt); !errors.Is(err, pool.ErrSize) {
		t.Errorf("Resize(MaxInt) with Queue(1<<30) = %v; want ErrSize", err)
	}
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return nil })); err != nil {
		t.Errorf("Submit to a pool with Queue(1<<30) = %v; want nil", err)
	}
}

// TestQueueMaxWaiting: with a queue and MaxWaiting, a Submit made while a
// slot is free is admitted, even when a waiter got there first.
func TestQueueMaxWaiting(t *testing.T) {
	p := newPool(t, 1, pool.Queue(4), pool.MaxWaiting(1))
	release := make(chan struct{})
	block := execkit.TaskFunc(func(context.Context) error { <-release; return nil })
	for range 5 { // one running, four queued: full
		if err := p.Submit(context.Background(), block); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- p.Submit(context.Background(), block) }()
	for p.Stats().Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{} // one task ends: one slot, which the waiter takes
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("the waiting Submit = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the waiting Submit was not admitted within 10s of a slot freeing")
	}
	release <- struct{}{} // another ends: a slot free (3 queued), no one waiting
	for p.Stats().Queued > 3 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Submit(context.Background(), block); err != nil {
		t.Errorf("Submit with a slot free = %v; want nil", err)
	}
	close(release)
}

// TestQueueShutdownStuckWorker: when Shutdown gives up while every worker
// runs a task that ignores its ctx, the queued tasks are told at once, by
// the time Shutdown returns: a Future gets the cause, a plain task's error
// reaches OnError, and none of them starts, then or later.
func TestQueueShutdownStuckWorker(t *testing.T) {
	var cancelled atomic.Int64
	p := newPool(t, 1, pool.Queue(4), pool.OnError(func(err error) {
		if errors.Is(err, context.Canceled) {
			cancelled.Add(1)
		}
	}))
	running, release := make(chan struct{}), make(chan struct{})
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
		close(running)
		<-release // ignores its ctx
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	<-running
	var started atomic.Int64
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { started.Add(1); return nil })); err != nil {
		t.Fatal(err)
	}
	f := execkit.Go(context.Background(), p, func(context.Context) (int, error) { started.Add(1); return 1, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v; want DeadlineExceeded", err)
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("the queued Future is still pending after Shutdown gave up; want it told at once")
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("queued Future: Wait = %v; want context.Canceled", err)
	}
	if n := cancelled.Load(); n != 1 {
		t.Errorf("OnError got %d cancellations when Shutdown returned; want 1 (the queued plain task)", n)
	}
	if s := p.Stats(); s.Queued != 0 {
		t.Errorf("Stats.Queued = %d after Shutdown gave up; want 0", s.Queued)
	}
	close(release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := started.Load(); n != 0 {
		t.Errorf("%d queued tasks started; want 0", n)
	}
}

// TestQueueGoexit: a queued task that ends its goroutine (runtime.Goexit,
// as t.FailNow does) ends its drainer's too; the tasks queued behind it
// still run, on another drainer, and Shutdown does not wait forever.
func TestQueueGoexit(t *testing.T) {
	p, err := pool.New(1, pool.Queue(8))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if err := p.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
			runtime.Goexit()
			return nil
		})); err != nil {
			t.Fatal(err)
		}
	}
	f := execkit.Go(ctx, p, func(context.Context) (int, error) { return 7, nil })
	if v, err := f.Wait(ctx); v != 7 || err != nil {
		t.Fatalf("a task queued behind three that called Goexit: Wait = %d, %v; want 7, nil", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v; want nil", err)
	}
	if s := p.Stats(); s.Running != 0 || s.Queued != 0 || s.Submitted != 4 {
		t.Errorf("Stats = %+v; want 4 submitted, none running or queued", s)
	}
}
