package pool_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/testlog"
	"github.com/execkit/execkit/pool"
)

// eventually polls cond, yielding between looks, until it holds; it fails
// the test after 10s. It waits for a state, never for a span of time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		runtime.Gosched()
	}
}

// newPool makes a pool that is shut down, and checked for leaks, when the
// test ends. The leak check ignores only the goroutines that existed before
// the pool: every goroutine the pool starts must be gone once Shutdown
// returned nil.
func newPool(t *testing.T, size int, opts ...pool.Option) *pool.Pool {
	t.Helper()
	before := goleak.IgnoreCurrent()
	p, err := pool.New(size, opts...)
	if err != nil {
		t.Fatalf("New(%d) = %v", size, err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown = %v; want nil", err)
		}
		goleak.VerifyNone(t, before)
	})
	return p
}

// blocker is a task that signals started, then waits for release (or its
// ctx) before it returns.
type blocker struct {
	started chan int
	release chan struct{}
	running atomic.Int64
	peak    atomic.Int64
}

func newBlocker() *blocker {
	return &blocker{started: make(chan int, 100), release: make(chan struct{})}
}

func (b *blocker) task(id int) execkit.Task {
	return execkit.TaskFunc(func(ctx context.Context) error {
		n := b.running.Add(1)
		defer b.running.Add(-1)
		for {
			p := b.peak.Load()
			if n <= p || b.peak.CompareAndSwap(p, n) {
				break
			}
		}
		b.started <- id
		select {
		case <-b.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (b *blocker) await(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-b.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("a task did not start")
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		size int
		opts []pool.Option
		want string
	}{
		{"zero size", 0, nil, "pool: size must be from 1 to math.MaxInt/2 (got 0)"},
		{"negative size", -3, nil, "pool: size must be from 1 to math.MaxInt/2 (got -3)"},
		{"huge size", math.MaxInt/2 + 1, nil, "pool: size must be from 1 to math.MaxInt/2 (got 4611686018427387904)"},
		{"negative MaxWaiting", 1, []pool.Option{pool.MaxWaiting(-1)}, "pool: negative limit: MaxWaiting(-1)"},
		{"nil OnError", 1, []pool.Option{pool.OnError(nil)}, "pool: OnError(nil)"},
		{"nil option", 1, []pool.Option{nil}, "pool: nil Option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pool.New(tt.size, tt.opts...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New = %v, %v; want error %q", p, err, tt.want)
			}
			if (tt.size < 1 || tt.size > math.MaxInt/2) && !errors.Is(err, pool.ErrSize) {
				t.Errorf("errors.Is(%v, ErrSize) = false; want true", err)
			}
		})
	}
}

func TestBlockedSubmitReturnsWhenCtxEnds(t *testing.T) {
	tests := []struct {
		name string
		opts []pool.Option
		end  func(context.CancelFunc) // how ctx ends
		want error
	}{
		{"cancel", nil, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"cancel with MaxWaiting", []pool.Option{pool.MaxWaiting(1)}, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, 1, tt.opts...)
			b := newBlocker()
			if err := p.Submit(context.Background(), b.task(0)); err != nil {
				t.Fatalf("Submit = %v", err)
			}
			b.await(t, 1)
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{}, 1)
			done := make(chan error)
			go func() {
				done <- p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { ran <- struct{}{}; return nil }))
			}()
			eventually(t, "Submit waits", func() bool { return p.Stats().Waiting == 1 })
			tt.end(cancel)
			if err := <-done; !errors.Is(err, tt.want) {
				t.Errorf("blocked Submit = %v; want %v", err, tt.want)
			}
			close(b.release)
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown = %v", err)
			}
			select {
			case <-ran:
				t.Error("the task of the cancelled Submit ran")
			default:
			}
			st := p.Stats()
			if st.Rejected != 1 || st.Submitted != 1 || st.Waiting != 0 {
				t.Errorf("Stats = %+v; want Rejected 1, Submitted 1, Waiting 0", st)
			}
		})
	}
}

func TestSubmitDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, 1)
		b := newBlocker()
		defer close(b.release)
		if err := p.Submit(context.Background(), b.task(0)); err != nil {
			t.Fatal(err)
		}
		b.await(t, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if err := p.Submit(ctx, b.task(1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Submit on a full pool = %v; want context.DeadlineExceeded", err)
		}
	})
}

func TestRejectWhenFull(t *testing.T) {
	tests := []struct {
		name    string
		opt     pool.Option
		waiters int // Submits that may wait before the next gets ErrFull
	}{
		{"RejectWhenFull", pool.RejectWhenFull(), 0},
		{"MaxWaiting(0)", pool.MaxWaiting(0), 0},
		{"MaxWaiting(2)", pool.MaxWaiting(2), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, 2, tt.opt)
			b := newBlocker()
			for id := range 2 {
				if err := p.Submit(context.Background(), b.task(id)); err != nil {
					t.Fatalf("Submit %d = %v; want nil", id, err)
				}
			}
			b.await(t, 2)
			waited := make(chan error, tt.waiters)
			for id := range tt.waiters {
				go func() { waited <- p.Submit(context.Background(), b.task(10+id)) }()
			}
			eventually(t, "the waiters wait", func() bool { return p.Stats().Waiting == tt.waiters })
			if err := p.Submit(context.Background(), b.task(99)); !errors.Is(err, execkit.ErrFull) {
				t.Errorf("Submit on a full pool = %v; want ErrFull", err)
			}
			close(b.release)
			for range tt.waiters {
				if err := <-waited; err != nil {
					t.Errorf("a waiting Submit = %v; want nil", err)
				}
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := p.Stats(); st.Rejected != 1 || st.Succeeded != int64(2+tt.waiters) {
				t.Errorf("Stats = %+v; want Rejected 1, Succeeded %d", st, 2+tt.waiters)
			}
		})
	}
}

func TestResize(t *testing.T) {
	p := newPool(t, 1)
	ctx := context.Background()

	// Up: three tasks, one running and two waiting, all run after Resize(3).
	b := newBlocker()
	if err := p.Submit(ctx, b.task(0)); err != nil {
		t.Fatal(err)
	}
	b.await(t, 1)
	errs := make(chan error, 2)
	for id := 1; id <= 2; id++ {
		go func() { errs <- p.Submit(ctx, b.task(id)) }()
	}
	eventually(t, "two Submits wait", func() bool { return p.Stats().Waiting == 2 })
	if err := p.Resize(3); err != nil {
		t.Fatalf("Resize(3) = %v", err)
	}
	b.await(t, 2)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Submit = %v", err)
		}
	}
	if st := p.Stats(); st.Size != 3 || st.Free != 0 || st.Running != 3 {
		t.Errorf("after Resize(3): Stats = %+v; want Size 3, Free 0, Running 3", st)
	}
	if got := b.peak.Load(); got != 3 {
		t.Errorf("after Resize(3): %d tasks ran at once; want 3", got)
	}

	// Down while they run: none is interrupted; then one at a time.
	if err := p.Resize(1); err != nil {
		t.Fatalf("Resize(1) = %v", err)
	}
	close(b.release)
	eventually(t, "the three finish", func() bool { return p.Stats().Succeeded == 3 })
	eventually(t, "ants retires the extra workers", func() bool { return p.Stats().Workers <= 1 })

	b2 := newBlocker()
	for id := range 3 {
		go func() { errs <- p.Submit(ctx, b2.task(id)) }()
	}
	b2.await(t, 1)
	eventually(t, "two Submits wait", func() bool { return p.Stats().Waiting == 2 })
	if st := p.Stats(); st.Size != 1 || st.Running != 1 || st.Free != 0 {
		t.Errorf("after Resize(1): Stats = %+v; want Size 1, Running 1, Free 0", st)
	}
	close(b2.release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("Submit = %v", err)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b2.peak.Load(); got != 1 {
		t.Errorf("after Resize(1): %d tasks ran at once; want 1", got)
	}
}

func TestResizeErrors(t *testing.T) {
	p := newPool(t, 2)
	if err := p.Resize(0); !errors.Is(err, pool.ErrSize) || err.Error() != "pool: size must be from 1 to math.MaxInt/2 (got 0)" {
		t.Errorf("Resize(0) = %v; want ErrSize", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(4); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Resize after Shutdown = %v; want ErrClosed", err)
	}
}

// TestNotMadeByNew: every method of a nil or zero Pool answers without a
// panic: Submit, Shutdown and Resize return ErrNilExecutor, Stats is zero.
// Resize dereferenced the missing gate.
func TestNotMadeByNew(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		p    *pool.Pool
	}{{"nil", nil}, {"zero", new(pool.Pool)}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrNilExecutor) {
				t.Errorf("Submit = %v; want ErrNilExecutor", err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("Resize panicked: %v", r)
					}
				}()
				if err := tc.p.Resize(2); !errors.Is(err, execkit.ErrNilExecutor) {
					t.Errorf("Resize = %v; want ErrNilExecutor", err)
				}
			}()
			if s := tc.p.Stats(); s != (pool.Stats{}) {
				t.Errorf("Stats = %+v; want zero", s)
			}
			if err := tc.p.Shutdown(ctx); !errors.Is(err, execkit.ErrNilExecutor) {
				t.Errorf("Shutdown = %v; want ErrNilExecutor", err)
			}
		})
	}
}

// TestShutdownUnderLoad races submitters with Shutdown: every task whose
// Submit returned nil has run exactly once when Shutdown returns, no other
// has, and no goroutine of the pool is left (newPool's leak check).
func TestShutdownUnderLoad(t *testing.T) {
	tests := []struct {
		name string
		opts []pool.Option
	}{
		{"blocking", nil},
		{"MaxWaiting", []pool.Option{pool.MaxWaiting(3)}},
		{"RejectWhenFull", []pool.Option{pool.RejectWhenFull()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, 4, tt.opts...)
			const submitters, each = 8, 500
			ran := make([]atomic.Int32, submitters*each)
			admitted := make([]atomic.Bool, submitters*each)
			var wg sync.WaitGroup
			some := make(chan struct{})
			var once sync.Once
			var count atomic.Int64
			for s := range submitters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						id := s*each + i
						err := p.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
							ran[id].Add(1)
							runtime.Gosched()
							return nil
						}))
						switch {
						case err == nil:
							admitted[id].Store(true)
							if count.Add(1) == 200 {
								once.Do(func() { close(some) })
							}
						case errors.Is(err, execkit.ErrFull):
							i-- // again
							runtime.Gosched()
						case errors.Is(err, execkit.ErrClosed):
							return
						default:
							t.Errorf("Submit = %v", err)
							return
						}
					}
				}()
			}
			select {
			case <-some:
			case <-time.After(10 * time.Second):
				t.Fatal("200 tasks were not admitted")
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown = %v", err)
			}
			snapshot := make([]int32, len(ran))
			for i := range ran {
				snapshot[i] = ran[i].Load()
			}
			wg.Wait()
			for id := range ran {
				want := int32(0)
				if admitted[id].Load() {
					want = 1
				}
				if snapshot[id] != want {
					t.Fatalf("task %d had run %d times when Shutdown returned; want %d", id, snapshot[id], want)
				}
			}
			st := p.Stats()
			if st.Submitted != count.Load() || st.Succeeded != count.Load() || st.Running != 0 || st.Queued != 0 {
				t.Errorf("Stats = %+v; want Submitted = Succeeded = %d", st, count.Load())
			}
		})
	}
}

func TestShutdownDeadline(t *testing.T) {
	var failed atomic.Int64
	p := newPool(t, 2, pool.OnError(func(error) { failed.Add(1) }))
	b := newBlocker()
	for id := range 2 {
		if err := p.Submit(context.Background(), b.task(id)); err != nil {
			t.Fatal(err)
		}
	}
	b.await(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(expired ctx) = %v; want context.Canceled", err)
	}
	// The tasks' contexts were cancelled: they return, and a second
	// Shutdown sees everything exit.
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v; want nil", err)
	}
	if st := p.Stats(); st.Failed != 2 || failed.Load() != 2 {
		t.Errorf("Stats = %+v, OnError calls %d; want Failed 2 and 2 calls (the cancelled tasks)", st, failed.Load())
	}
}

func TestShutdownWakesWaiters(t *testing.T) {
	p := newPool(t, 1)
	b := newBlocker()
	if err := p.Submit(context.Background(), b.task(0)); err != nil {
		t.Fatal(err)
	}
	b.await(t, 1)
	waiting := make(chan error)
	go func() { waiting <- p.Submit(context.Background(), b.task(1)) }()
	eventually(t, "Submit waits", func() bool { return p.Stats().Waiting == 1 })
	shut := make(chan error)
	go func() { shut <- p.Shutdown(context.Background()) }()
	if err := <-waiting; !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit waiting when Shutdown began = %v; want ErrClosed", err)
	}
	close(b.release)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

// TestNestedSubmit: a task submits to its own full pool.
func TestNestedSubmit(t *testing.T) {
	tests := []struct {
		name       string
		opts       []pool.Option
		unrelated  bool  // submit with a ctx not derived from the task's
		want       error // nested Submit's error
		wantInline int64
	}{
		{"blocking runs inline", nil, false, nil, 1},
		{"MaxWaiting runs inline", []pool.Option{pool.MaxWaiting(1)}, false, nil, 1},
		{"RejectWhenFull rejects", []pool.Option{pool.RejectWhenFull()}, false, execkit.ErrFull, 0},
		{"unrelated ctx waits", nil, true, context.DeadlineExceeded, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, 1, tt.opts...)
				type result struct {
					err        error
					ranBefore  bool // the nested task had finished when Submit returned
					sameThread bool
				}
				res := make(chan result, 1)
				parent := execkit.TaskFunc(func(ctx context.Context) error {
					var ran atomic.Bool
					var inner context.Context
					child := execkit.TaskFunc(func(ctx context.Context) error {
						inner = ctx
						ran.Store(true)
						return nil
					})
					sctx := ctx
					if tt.unrelated {
						var cancel context.CancelFunc
						sctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
						defer cancel()
					} else {
						var cancel context.CancelFunc
						sctx, cancel = context.WithCancel(ctx) // derived: still recognised
						defer cancel()
					}
					err := p.Submit(sctx, child)
					res <- result{err, ran.Load(), inner != nil && inner == ctx}
					return nil
				})
				if err := p.Submit(context.Background(), parent); err != nil {
					t.Fatal(err)
				}
				r := <-res
				if !errors.Is(r.err, tt.want) {
					t.Fatalf("nested Submit = %v; want %v", r.err, tt.want)
				}
				if tt.want == nil && !r.ranBefore {
					t.Error("nested Submit returned before the inline task ran")
				}
				if err := p.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := p.Stats().Inline; got != tt.wantInline {
					t.Errorf("Stats().Inline = %d; want %d", got, tt.wantInline)
				}
			})
		})
	}
}

// TestNestedSubmitFree: with a free worker, a nested Submit does not run
// inline.
func TestNestedSubmitFree(t *testing.T) {
	p := newPool(t, 2)
	done := make(chan struct{})
	if err := p.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
		return p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { close(done); return nil }))
	})); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Inline != 0 || st.Succeeded != 2 {
		t.Errorf("Stats = %+v; want Inline 0, Succeeded 2", st)
	}
}

// TestNestedFanOut: a recursive fan-out on a small pool completes instead of
// deadlocking (ants #197).
func TestNestedFanOut(t *testing.T) {
	p := newPool(t, 2)
	var leaves atomic.Int64
	var wg sync.WaitGroup
	var spawn func(depth int) execkit.Task
	spawn = func(depth int) execkit.Task {
		return execkit.TaskFunc(func(ctx context.Context) error {
			defer wg.Done()
			if depth == 0 {
				leaves.Add(1)
				return nil
			}
			for range 2 {
				wg.Add(1)
				if err := p.Submit(ctx, spawn(depth-1)); err != nil {
					wg.Done()
					return err
				}
			}
			return nil
		})
	}
	wg.Add(1)
	if err := p.Submit(context.Background(), spawn(6)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := leaves.Load(); got != 64 {
		t.Errorf("leaves = %d; want 64", got)
	}
}

func TestPanicAndErrors(t *testing.T) {
	got := make(chan error, 4)
	p := newPool(t, 2, pool.OnError(func(err error) { got <- err }))
	boom := errors.New("boom")
	ctx := context.Background()
	submit := func(fn execkit.TaskFunc) {
		t.Helper()
		if err := p.Submit(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	submit(func(context.Context) error { panic(boom) })
	err := <-got
	var pe *execkit.PanicError
	if !errors.As(err, &pe) || !errors.Is(err, boom) {
		t.Fatalf("OnError got %v (%T); want a *execkit.PanicError wrapping boom", err, err)
	}
	if !strings.Contains(string(pe.Stack), "TestPanicAndErrors") {
		t.Errorf("the panic's stack does not show the panicking function:\n%s", pe.Stack)
	}
	submit(func(context.Context) error { return boom })
	if err := <-got; err != boom {
		t.Errorf("OnError got %v; want boom", err)
	}
	// A Future's error goes to the Future only.
	if _, err := execkit.Go(ctx, p, func(context.Context) (int, error) { return 0, boom }).Wait(ctx); err != boom {
		t.Errorf("Future.Wait = %v; want boom", err)
	}
	submit(func(context.Context) error { return nil })
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	close(got)
	for err := range got {
		t.Errorf("OnError got %v; want nothing more", err)
	}
	st := p.Stats()
	if st.Panicked != 1 || st.Failed != 2 || st.Succeeded != 1 || st.Submitted != 4 {
		t.Errorf("Stats = %+v; want Panicked 1, Failed 2, Succeeded 1, Submitted 4", st)
	}
}

// TestOnErrorPanics: a panicking error handler is logged and the worker
// goes on; the pool loses nothing.
func TestOnErrorPanics(t *testing.T) {
	log := testlog.Capture(t)
	p := newPool(t, 1, pool.OnError(func(err error) { panic("handler: " + err.Error()) }))
	ctx := context.Background()
	for range 3 {
		if err := p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return errors.New("fail") })); err != nil {
			t.Fatal(err)
		}
	}
	v, err := execkit.Go(ctx, p, func(context.Context) (int, error) { return 7, nil }).Wait(ctx)
	if v != 7 || err != nil {
		t.Errorf("after handler panics: Wait = %d, %v; want 7, nil", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(log.String(), "pool: OnError handler panicked"); got != 3 {
		t.Errorf("log has %d reports of the handler's panics; want 3:\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), "TestOnErrorPanics") {
		t.Errorf("the log does not show the handler's stack:\n%s", log.String())
	}
}

func TestNilTask(t *testing.T) {
	p := newPool(t, 1)
	for _, task := range []execkit.Task{nil, execkit.TaskFunc(nil)} {
		if err := p.Submit(context.Background(), task); !errors.Is(err, execkit.ErrNilTask) {
			t.Errorf("Submit(%#v) = %v; want ErrNilTask", task, err)
		}
	}
}

// TestSubmitAllocs: a Submit of a ready Task allocates nothing, handed to
// a worker or queued.
func TestSubmitAllocs(t *testing.T) {
	for name, opts := range map[string][]pool.Option{"handoff": nil, "queue": {pool.Queue(16)}} {
		p, err := pool.New(2, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		done := make(chan struct{})
		task := execkit.TaskFunc(func(context.Context) error { done <- struct{}{}; return nil })
		allocs := testing.AllocsPerRun(1000, func() {
			if err := p.Submit(ctx, task); err != nil {
				t.Fatal(err)
			}
			<-done
		})
		if allocs > 0 {
			t.Errorf("%s: Submit of a ready Task: %v allocations per task; want 0", name, allocs)
		}
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
