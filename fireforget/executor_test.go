package fireforget

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execkit/execkit"
)

// newExec returns an Executor that sends task errors to a channel, and shuts
// it down when the test ends.
func newExec(t *testing.T, opts ...Option) (*Executor, chan error) {
	t.Helper()
	errs := make(chan error, 100)
	e, err := New(append(opts, OnError(func(err error) { errs <- err }))...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	})
	return e, errs
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"limit zero", []Option{Limit(0)}, "Limit(0)"},
		{"limit negative", []Option{Limit(-3)}, "Limit(-3)"},
		{"nil handler", []Option{OnError(nil)}, "OnError(nil)"},
		{"nil option", []Option{nil}, "nil Option"},
		{"reject without limit", []Option{RejectWhenFull()}, "RejectWhenFull needs a Limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "fireforget: ") {
				t.Errorf("New: got %v, %v; want an error containing %q", e, err, tt.want)
			}
		})
	}
}

func TestSubmitRunsAndReports(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		task    execkit.TaskFunc
		wantErr error // nil: no report expected
		panics  bool
	}{
		{"success", func(context.Context) error { return nil }, nil, false},
		{"error", func(context.Context) error { return boom }, boom, false},
		{"panic", func(context.Context) error { panic(boom) }, boom, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, errs := newExec(t)
			ran := make(chan struct{})
			err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
				close(ran)
				return tt.task(ctx)
			}))
			if err != nil {
				t.Fatalf("Submit: got %v; want nil", err)
			}
			<-ran
			if err := e.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: got %v; want nil", err)
			}
			var got error
			select {
			case got = <-errs:
			default:
			}
			if !errors.Is(got, tt.wantErr) || (got == nil) != (tt.wantErr == nil) {
				t.Fatalf("reported error: got %v; want %v", got, tt.wantErr)
			}
			var pe *execkit.PanicError
			if isPanic := errors.As(got, &pe); isPanic != tt.panics {
				t.Fatalf("reported a *PanicError: got %v; want %v", isPanic, tt.panics)
			}
			if tt.panics && !strings.Contains(string(pe.Stack), "TestSubmitRunsAndReports") {
				t.Errorf("panic stack does not show the task:\n%s", pe.Stack)
			}
			s := e.Stats()
			want := execkit.Stats{Submitted: 1}
			switch {
			case tt.panics:
				want.Panicked = 1
			case tt.wantErr != nil:
				want.Failed = 1
			default:
				want.Succeeded = 1
			}
			if s != want {
				t.Errorf("Stats: got %+v; want %+v", s, want)
			}
		})
	}
}

func TestSubmitErrors(t *testing.T) {
	e, _ := newExec(t)
	if err := e.Submit(context.Background(), nil); !errors.Is(err, execkit.ErrNilTask) {
		t.Errorf("Submit(nil): got %v; want ErrNilTask", err)
	}
	if err := e.Submit(context.Background(), execkit.TaskFunc(nil)); !errors.Is(err, execkit.ErrNilTask) {
		t.Errorf("Submit(TaskFunc(nil)): got %v; want ErrNilTask", err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	noop := execkit.TaskFunc(func(context.Context) error { return nil })
	if err := e.Submit(context.Background(), noop); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit after Shutdown: got %v; want ErrClosed", err)
	}
	if got := e.Stats().Rejected; got != 1 {
		t.Errorf("Rejected: got %d; want 1", got)
	}
}

// blocker returns a task that signals started and waits for release.
func blocker(started chan<- struct{}, release <-chan struct{}) execkit.Task {
	return execkit.TaskFunc(func(ctx context.Context) error {
		started <- struct{}{}
		<-release
		return nil
	})
}

func TestLimitBlocksAndRejects(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		cancel bool // cancel the waiting Submit's ctx
		want   error
	}{
		{"reject", []Option{Limit(2), RejectWhenFull()}, false, execkit.ErrFull},
		{"block until ctx ends", []Option{Limit(2)}, true, context.Canceled},
		{"block until a slot frees", []Option{Limit(2)}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newExec(t, tt.opts...)
			started, release := make(chan struct{}), make(chan struct{})
			for range 2 {
				if err := e.Submit(context.Background(), blocker(started, release)); err != nil {
					t.Fatal(err)
				}
				<-started
			}
			if got := e.Stats().Running; got != 2 {
				t.Errorf("Running: got %d; want 2", got)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := make(chan error, 1)
			go func() {
				res <- e.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil }))
			}()
			if tt.cancel {
				cancel()
			} else if tt.want == nil {
				release <- struct{}{} // one blocker returns and frees its slot
			}
			if got := <-res; !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("Submit at the limit: got %v; want %v", got, tt.want)
			}
			close(release)
		})
	}
}

func TestShutdownWaitsThenGivesUp(t *testing.T) {
	e, _ := newExec(t)
	started, release := make(chan struct{}), make(chan struct{})
	ctxSeen := make(chan error, 1)
	err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		ctxSeen <- ctx.Err()
		<-release
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended ctx: got %v; want context.Canceled", err)
	}
	if err := <-ctxSeen; !errors.Is(err, context.Canceled) {
		t.Errorf("task ctx after Shutdown gave up: got %v; want context.Canceled", err)
	}
	close(release)
	// A later Shutdown waits for the task and returns nil (so does Cleanup's).
	if err := e.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: got %v; want nil", err)
	}
}

func TestShutdownConcurrentWithSubmit(t *testing.T) {
	e, _ := newExec(t, Limit(4))
	var wg sync.WaitGroup
	var ran, admitted sync.Map
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				k := i*1000 + j
				err := e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
					ran.Store(k, true)
					return nil
				}))
				if err == nil {
					admitted.Store(k, true)
				} else if !errors.Is(err, execkit.ErrClosed) {
					t.Errorf("Submit: got %v; want nil or ErrClosed", err)
				}
			}
		}()
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// Every task admitted before Shutdown returned has run by then; none
	// admitted after (Submit returns ErrClosed).
	admitted.Range(func(k, _ any) bool {
		if _, ok := ran.Load(k); !ok {
			t.Errorf("task %v admitted but not run", k)
		}
		return true
	})
}

func TestFuturesOnExecutor(t *testing.T) {
	e, errs := newExec(t, Limit(3))
	ctx := context.Background()
	boom := errors.New("boom")
	f := execkit.Go(ctx, e, func(context.Context) (int, error) { return 0, boom })
	if _, err := f.Wait(ctx); !errors.Is(err, boom) {
		t.Errorf("Future: got %v; want %v", err, boom)
	}
	got, err := execkit.Map(ctx, e, []int{1, 2, 3, 4, 5}, func(_ context.Context, x int) (int, error) { return x * x, nil })
	if err != nil || len(got) != 5 || got[4] != 25 {
		t.Errorf("Map: got %v, %v; want the squares", got, err)
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Errorf("error handler got %v; want nothing (the Future has it)", err)
	default:
	}
}

// TestNestedSubmitAtLimit holds what Submit's and Limit's docs say of a task
// that submits to its own Executor while every slot is held (x/sync's
// errgroup has the same deadlock): the nested Submit does not hang past its
// ctx, Shutdown ends its wait, RejectWhenFull refuses at once, and an ended
// ctx does not keep a free slot from admitting.
func TestNestedSubmitAtLimit(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		ctx      func(t *testing.T, task context.Context) (context.Context, func()) // the nested Submit's ctx and what ends it
		shutdown bool                                                               // Shutdown begins while the nested Submit waits
		want     error
	}{
		{"its ctx ends", []Option{Limit(1)}, func(*testing.T, context.Context) (context.Context, func()) {
			return context.WithCancel(context.Background())
		}, false, context.Canceled},
		{"its deadline passes", []Option{Limit(1)}, func(t *testing.T, _ context.Context) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			t.Cleanup(cancel)
			return ctx, func() {}
		}, false, context.DeadlineExceeded},
		{"Shutdown begins", []Option{Limit(1)}, func(*testing.T, context.Context) (context.Context, func()) {
			return context.Background(), func() {}
		}, true, execkit.ErrClosed},
		{"the task's ctx, Shutdown begins", []Option{Limit(1)}, func(_ *testing.T, task context.Context) (context.Context, func()) {
			return task, func() {}
		}, true, nil}, // a follow-up of a running task: admitted, caller-runs
		{"RejectWhenFull", []Option{Limit(1), RejectWhenFull()}, func(*testing.T, context.Context) (context.Context, func()) {
			return context.Background(), func() {}
		}, false, execkit.ErrFull},
		{"a free slot, an ended ctx", []Option{Limit(2)}, func(*testing.T, context.Context) (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, func() {}
		}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e, _ := newExec(t, tt.opts...)
				submitting := make(chan func(), 1)
				nested := make(chan error, 1)
				inner := make(chan struct{}, 1)
				err := e.Submit(context.Background(), execkit.TaskFunc(func(taskCtx context.Context) error {
					ctx, end := tt.ctx(t, taskCtx)
					submitting <- end
					nested <- e.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
						inner <- struct{}{}
						return nil
					}))
					return nil
				}))
				if err != nil {
					t.Fatal(err)
				}
				end := <-submitting
				end() // whether the nested Submit waits already or not: it must return
				if tt.shutdown {
					if err := e.Shutdown(context.Background()); err != nil {
						t.Errorf("Shutdown: got %v; want nil", err)
					}
				}
				if got := <-nested; !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
					t.Errorf("nested Submit: got %v; want %v", got, tt.want)
				}
				if tt.want == nil {
					<-inner
				}
			})
		})
	}
}
