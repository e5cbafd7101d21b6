package fireforget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/execkit/execkit"
)

// nilCtxExecutor is an Executor that refuses a nil ctx instead of passing
// it on, to see that nothing of fireforget hands one to an executor.
type nilCtxExecutor struct{ *Executor }

func (e nilCtxExecutor) Submit(ctx context.Context, t execkit.Task) error {
	if ctx == nil {
		return errors.New("Submit got a nil ctx")
	}
	return e.Executor.Submit(ctx, t)
}

// nilCtx is a nil ctx, passed on purpose where the docs say what it does.
var nilCtx context.Context

func noopJob(context.Context, io.Writer) error { return nil }

// waitBlockedIn returns once a goroutine waits in a select or a channel
// operation inside the function named fn (the goroutine dump's view), or once
// done is ready; it polls the dump rather than sleeping.
func waitBlockedIn(t *testing.T, fn string, done <-chan *Thread) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		select {
		case th, ok := <-done:
			if ok {
				t.Fatalf("the call returned %v while it should wait", th)
			}
			return
		default:
		}
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			head, _, _ := strings.Cut(g, "\n")
			if strings.Contains(g, fn+"(") && (strings.Contains(head, "[select") || strings.Contains(head, "[chan send") || strings.Contains(head, "[chan receive")) {
				return
			}
		}
		runtime.Gosched()
	}
}

// shutdownZero shuts a Registry down when the test ends.
func shutdownZero(t *testing.T, r *Registry) {
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	})
}

// TestNilAndZeroValues calls what the docs say never panics with nil and
// zero values of every argument, and zero values of the types used without
// their constructor where the docs say they work, and checks the documented
// results: an error, a zero answer, or the default behaviour.
func TestNilAndZeroValues(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"zero Registry: every method", func(t *testing.T) {
			var r Registry
			shutdownZero(t, &r)
			if _, ok := r.Lookup(ID{}); ok {
				t.Errorf("Lookup(ID{}): got ok; want not found")
			}
			if got := r.Info(ID{}).State; got != Unknown {
				t.Errorf("Info(ID{}).State: got %v; want unknown", got)
			}
			if r.Cancel(ID{}) {
				t.Errorf("Cancel(ID{}): got true; want false")
			}
			if got := r.List(); len(got) != 0 {
				t.Errorf("List: got %d jobs; want 0", len(got))
			}
			j, err := r.Start(func(_ context.Context, w io.Writer) error {
				_, err := io.WriteString(w, "ran")
				return err
			})
			if err != nil {
				t.Fatalf("Start: got %v; want nil", err)
			}
			<-j.Done()
			if in := r.Info(j.ID()); in.State != Succeeded || in.Output != "ran" {
				t.Errorf("job: got %v %q; want succeeded \"ran\"", in.State, in.Output)
			}
			if r.limit != DefaultLimit || r.keep != DefaultKeepFinished || r.ttl != DefaultTTL || r.maxOutput != DefaultMaxOutput || r.refresh != DefaultRefresh {
				t.Errorf("zero Registry configured as %d, %d, %v, %d, %v; want the defaults", r.limit, r.keep, r.ttl, r.maxOutput, r.refresh)
			}
		}},
		{"zero Registry: Shutdown first", func(t *testing.T) {
			var r Registry
			if err := r.Shutdown(nilCtx); err != nil {
				t.Errorf("Shutdown(nil): got %v; want nil", err)
			}
			if _, err := r.Start(noopJob); !errors.Is(err, execkit.ErrClosed) {
				t.Errorf("Start after Shutdown: got %v; want ErrClosed", err)
			}
		}},
		{"zero Registry: first use from many goroutines", func(t *testing.T) {
			var r Registry
			shutdownZero(t, &r)
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.Start(noopJob); err != nil {
						t.Errorf("Start: got %v; want nil", err)
					}
					r.List()
				}()
			}
			wg.Wait()
		}},
		{"zero Registry: Handler", func(t *testing.T) {
			var r Registry
			shutdownZero(t, &r)
			h := r.Handler(func(out io.Writer, req *http.Request) (JobFunc, error) {
				_, err := io.WriteString(out, "served")
				return nil, err
			})
			_, loc := start(t, h, http.MethodGet, "/x", "")
			if rec := get(h, loc, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "served") {
				t.Errorf("status page: got %d %q; want 200 with the output", rec.Code, rec.Body)
			}
		}},
		{"Registry: nil and zero arguments", func(t *testing.T) {
			r := newTestRegistry(t)
			for _, fn := range []JobFunc{nil, JobFunc(nil)} {
				if _, err := r.Start(fn); err == nil || !strings.HasPrefix(err.Error(), "fireforget: ") {
					t.Errorf("Start(nil): got %v; want a fireforget error", err)
				}
			}
			if _, ok := r.Lookup(ID{}); ok || r.Info(ID{}).State != Unknown || r.Cancel(ID{}) {
				t.Errorf("the zero ID: found; want unknown")
			}
			if len(r.List()) != 0 {
				t.Errorf("List: got jobs from refused Starts")
			}
		}},
		{"Registry: Shutdown(nil) with a running job", func(t *testing.T) {
			r := newTestRegistry(t)
			release := make(chan struct{})
			if _, err := r.Start(func(context.Context, io.Writer) error { <-release; return nil }); err != nil {
				t.Fatal(err)
			}
			go func() { // the job ends once Shutdown has begun
				for {
					if _, err := r.Start(noopJob); errors.Is(err, execkit.ErrClosed) {
						close(release)
						return
					}
					runtime.Gosched()
				}
			}()
			if err := r.Shutdown(nilCtx); err != nil {
				t.Errorf("Shutdown(nil): got %v; want nil", err)
			}
		}},
		{"NewRegistry: a nil Option", func(t *testing.T) {
			if _, err := NewRegistry(nil); err == nil || !strings.Contains(err.Error(), "nil Option") {
				t.Errorf("NewRegistry(nil): got %v; want a nil Option error", err)
			}
		}},
		{"nil and zero Job", func(t *testing.T) {
			for name, j := range map[string]*Job{"nil": nil, "zero": new(Job)} {
				if j.ID() != (ID{}) || j.Cancel() || j.Info().State != Unknown {
					t.Errorf("%s Job: got id %v, state %v; want the zero ID, unknown and no cancel", name, j.ID(), j.Info().State)
				}
				select {
				case <-j.Done():
				default:
					t.Errorf("%s Job: Done not closed; want closed (no job to wait for)", name)
				}
			}
		}},
		{"nil Registry", func(t *testing.T) {
			var r *Registry
			if _, err := r.Start(noopJob); !errors.Is(err, execkit.ErrNilExecutor) {
				t.Errorf("Start: got %v; want ErrNilExecutor", err)
			}
			if err := r.Shutdown(nilCtx); !errors.Is(err, execkit.ErrNilExecutor) {
				t.Errorf("Shutdown: got %v; want ErrNilExecutor", err)
			}
			if _, ok := r.Lookup(ID{}); ok || r.Info(ID{}).State != Unknown || r.Cancel(ID{}) || r.List() != nil {
				t.Errorf("nil Registry: found a job; want none")
			}
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "nil *Registry") {
					t.Errorf("Handler: panicked with %v; want a panic naming the nil *Registry", p)
				}
			}()
			r.Handler(func(io.Writer, *http.Request) (JobFunc, error) { return nil, nil })
		}},
		{"Executor: nil task, nil TaskFunc, nil ctx without a limit", func(t *testing.T) {
			e, _ := newExec(t)
			for _, task := range []execkit.Task{nil, execkit.TaskFunc(nil)} {
				if err := e.Submit(context.Background(), task); !errors.Is(err, execkit.ErrNilTask) {
					t.Errorf("Submit(%#v): got %v; want ErrNilTask", task, err)
				}
			}
			ran := make(chan struct{})
			if err := e.Submit(nilCtx, execkit.TaskFunc(func(context.Context) error { close(ran); return nil })); err != nil {
				t.Errorf("Submit(nil ctx): got %v; want nil", err)
			}
			<-ran
		}},
		{"Thread: a nil task", func(t *testing.T) {
			e, _ := newExec(t)
			th := NewThread("", nil)
			if err := th.Start(context.Background(), e); !errors.Is(err, execkit.ErrNilTask) {
				t.Errorf("Start: got %v; want ErrNilTask", err)
			}
			if err := th.Join(context.Background()); !errors.Is(err, execkit.ErrNilTask) {
				t.Errorf("Join: got %v; want ErrNilTask", err)
			}
		}},
		{"nil and zero Thread: every method", func(t *testing.T) {
			e, _ := newExec(t)
			for _, th := range []*Thread{nil, new(Thread)} {
				if err := th.Start(nilCtx, e); !errors.Is(err, execkit.ErrNilTask) {
					t.Errorf("Start: got %v; want ErrNilTask", err)
				}
				if err := th.Join(nilCtx); !errors.Is(err, execkit.ErrNilTask) {
					t.Errorf("Join: got %v; want ErrNilTask", err)
				}
				<-th.Done()
				if th.Alive() || th.Err() != nil || th.ID() != 0 {
					t.Errorf("Alive, Err, ID: got %v, %v, %d; want false, nil, 0", th.Alive(), th.Err(), th.ID())
				}
				if got := th.Name(); got != "" && got != "thread-0" {
					t.Errorf("Name: got %q; want \"\" or \"thread-0\"", got)
				}
				if got, want := th.String(), th.Name()+" (0)"; got != want { // a nil Thread's String panicked
					t.Errorf("String: got %q; want %q", got, want)
				}
			}
		}},
		{"Background: a nil ctx reaches no executor", func(t *testing.T) {
			e, _ := newExec(t)
			for _, opts := range [][]BackgroundOption{nil, {Limit(1)}, {Limit(1), RejectWhenFull()}} {
				task := Background(nilCtxExecutor{e}, func(ctx context.Context, p *int) error {
					if ctx == nil || p != nil {
						return errors.New("fn got a nil ctx or a non-nil pointer")
					}
					return nil
				}, opts...)
				if err := task(nilCtx, nil).Join(context.Background()); err != nil {
					t.Errorf("Background with %d options, called with a nil ctx and a nil In: got %v; want nil", len(opts), err)
				}
			}
		}},
		{"Background: a nil ctx waits for a slot", func(t *testing.T) {
			e, _ := newExec(t)
			started, release := make(chan struct{}), make(chan struct{})
			task := Background(e, func(ctx context.Context, block bool) error {
				if block {
					close(started)
					<-release
				}
				return nil
			}, Limit(1))
			first := task(context.Background(), true)
			<-started
			second := make(chan *Thread)
			go func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("a call with a nil ctx at the limit panicked: %v", v)
						close(second)
					}
				}()
				second <- task(nilCtx, false)
			}()
			// Free the slot only once the call waits for it (or failed).
			waitBlockedIn(t, "gate.(*Gate).Wait", second)
			close(release)
			if th, ok := <-second; ok {
				if err := th.Join(context.Background()); err != nil {
					t.Errorf("second call: got %v; want nil", err)
				}
			}
			if err := first.Join(context.Background()); err != nil {
				t.Errorf("first call: got %v; want nil", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("panicked: %v\n%s", v, debug.Stack())
				}
			}()
			tt.run(t)
		})
	}
}

// panickingExecutor's Submit panics on a nil receiver (a typed nil
// executor), after running the task when ran is set: an executor that
// forgets to check.
type panickingExecutor struct{ ran bool }

func (e *panickingExecutor) Submit(ctx context.Context, t execkit.Task) error {
	if e.ran { // runs t, then panics
		_ = t.Run(ctx)
		panic("Submit panics after running the task")
	}
	return nil
}

func (e *panickingExecutor) Shutdown(context.Context) error { return nil }

// TestThreadStartPanickingSubmit: Start never panics, not even when the
// executor's Submit does (a typed nil): the panic is Start's error and the
// Thread's, as for the Future of execkit.Go, and Join returns it instead
// of waiting for ever; a Background function's call (which never panics
// either) gives its slot back. A Submit that panics after it ran the task
// leaves the Thread with the task's outcome. Before, Start panicked and
// Join waited for ever; a Background call panicked and kept its slot.
func TestThreadStartPanickingSubmit(t *testing.T) {
	var typedNil *panickingExecutor
	var pe *execkit.PanicError
	th := NewThread("t", execkit.TaskFunc(func(context.Context) error { return nil }))
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Start on an executor whose Submit panics panicked: %v", r)
			}
		}()
		if err := th.Start(context.Background(), typedNil); !errors.As(err, &pe) {
			t.Errorf("Start = %v; want a *execkit.PanicError", err)
		}
	}()
	select {
	case <-th.Done():
	default:
		t.Fatal("the Thread is not done after Start failed: Join would wait for ever")
	}
	if err := th.Join(context.Background()); !errors.As(err, &pe) {
		t.Errorf("Join = %v; want a *execkit.PanicError", err)
	}

	after := &panickingExecutor{ran: true}
	boom := errors.New("boom")
	th = NewThread("t", execkit.TaskFunc(func(context.Context) error { return boom }))
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Start on an executor whose Submit panics after running the task panicked: %v", r)
			}
		}()
		_ = th.Start(context.Background(), after)
	}()
	if err := th.Join(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Join = %v; want the task's own error", err)
	}

	start := Background(after, func(context.Context, int) error { return nil }, Limit(1), RejectWhenFull())
	for i := range 2 {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("call %d of a Background function panicked: %v", i, r)
				}
			}()
			if err := start(context.Background(), i).Join(context.Background()); err != nil {
				t.Errorf("call %d: Join = %v; want nil (its slot given back by the call before)", i, err)
			}
		}()
	}
}
