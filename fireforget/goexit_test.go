package fireforget_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
)

// Every piece of user code that fireforget calls may end its goroutine
// (runtime.Goexit, as t.FailNow does): a Thread's task, a Background
// function, a Registry's JobFunc and HandlerFunc, an OnError handler. In
// process that counts as returned nil, as for a Future's function (and
// x/sync's errgroup); what must not happen is that the bookkeeping
// behind the call is skipped, leaving a Join, a Job's Done or a Shutdown
// waiting for ever, or a slot of a Limit held.

// patience bounds the waits of these tests: what they wait for is
// immediate once it works, and never comes when it does not.
const patience = 10 * time.Second

func waitDone(t *testing.T, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("%s: not done after %v (a runtime.Goexit skipped its bookkeeping)", what, patience)
	}
}

// TestThreadGoexit: a Thread whose task calls runtime.Goexit finishes,
// whatever runs it, and Join returns nil; Join waited for ever. (Package
// pool is left out: importing it starts ants' goroutines, see its doc.)
func TestThreadGoexit(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() (execkit.Executor, error)
	}{
		{"fireforget", func() (execkit.Executor, error) { return fireforget.New() }},
		{"fireforget-limit", func() (execkit.Executor, error) { return fireforget.New(fireforget.Limit(1)) }},
		{"errgroup", func() (execkit.Executor, error) { return errgroup.New() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := tc.new()
			if err != nil {
				t.Fatal(err)
			}
			th := fireforget.NewThread("goexit", execkit.TaskFunc(func(context.Context) error {
				runtime.Goexit()
				return errors.New("unreachable")
			}))
			if err := th.Start(context.Background(), ex); err != nil {
				t.Fatal(err)
			}
			waitDone(t, "Thread.Done", th.Done())
			if err := th.Join(context.Background()); err != nil {
				t.Errorf("Join = %v; want nil (runtime.Goexit counts as returned)", err)
			}
			if th.Alive() {
				t.Error("Alive = true after Done")
			}
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			if err := ex.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown = %v; want nil", err)
			}
		})
	}
}

// TestBackgroundGoexit: a Background function that calls runtime.Goexit
// gives its slot of Limit back; the next call waited for ever.
func TestBackgroundGoexit(t *testing.T) {
	ex, err := fireforget.New()
	if err != nil {
		t.Fatal(err)
	}
	call := fireforget.Background(ex, func(_ context.Context, n int) error {
		if n == 1 {
			runtime.Goexit()
		}
		return nil
	}, fireforget.Limit(1))
	first := call(context.Background(), 1)
	waitDone(t, "the first call's Thread", first.Done())
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := call(ctx, 2).Join(ctx); err != nil {
		t.Errorf("the second call's Join = %v; want nil (its slot was freed)", err)
	}
	if err := ex.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
}

// TestRegistryJobGoexit: a job whose function calls runtime.Goexit
// reaches a final state (Succeeded, keeping its output) and gives back its
// place under Limit; it stayed Running for ever, and with Limit(1) the
// Registry refused every later job with ErrFull.
func TestRegistryJobGoexit(t *testing.T) {
	r, err := fireforget.NewRegistry(fireforget.Limit(1))
	if err != nil {
		t.Fatal(err)
	}
	j, err := r.Start(func(_ context.Context, out io.Writer) error {
		io.WriteString(out, "so far")
		runtime.Goexit()
		return errors.New("unreachable")
	})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, "the job's Done", j.Done())
	if in := j.Info(); in.State != fireforget.Succeeded || in.Err != nil || in.Output != "so far" {
		t.Errorf("Info = %v, %v, %q; want succeeded, nil, %q", in.State, in.Err, in.Output, "so far")
	}
	j2, err := r.Start(func(context.Context, io.Writer) error { return nil })
	if err != nil {
		t.Fatalf("Start after the job ended = %v; want nil (its place under Limit was given back)", err)
	}
	waitDone(t, "the second job's Done", j2.Done())
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
}

// TestHandlerGoexit: a HandlerFunc that calls runtime.Goexit (the
// request's goroutine ends, as net/http allows) leaves no job pending for
// ever: the job finishes with what was written, as when h returns a nil
// JobFunc, and its place under Limit is given back.
func TestHandlerGoexit(t *testing.T) {
	r, err := fireforget.NewRegistry(fireforget.Limit(1))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler(func(out io.Writer, req *http.Request) (fireforget.JobFunc, error) {
		if req.URL.Query().Get("n") == "1" {
			io.WriteString(out, "begun")
			runtime.Goexit()
		}
		return nil, nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x?n=1", nil))
	}()
	waitDone(t, "ServeHTTP", done)
	jobs := r.List()
	if len(jobs) != 1 || jobs[0].State != fireforget.Succeeded {
		t.Fatalf("List = %+v; want one succeeded job", jobs)
	}
	if out := r.Info(jobs[0].ID).Output; out != "begun" {
		t.Errorf("Output = %q; want %q", out, "begun")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x?n=2", nil))
	if w.Code != http.StatusSeeOther {
		t.Errorf("the next start answered %d; want 303 (the first job's place was given back)", w.Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
}

// TestOnErrorGoexit: an OnError handler that calls runtime.Goexit ends
// the task's goroutine, not the Executor's bookkeeping: the task's slot of
// Limit is given back and Shutdown returns; Submit waited for the slot for
// ever, and Shutdown (without Limit) too.
func TestOnErrorGoexit(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []fireforget.Option
	}{{"no limit", nil}, {"limit", []fireforget.Option{fireforget.Limit(1)}}} {
		t.Run(tc.name, func(t *testing.T) {
			handled := make(chan error, 3)
			e, err := fireforget.New(append(tc.opts, fireforget.OnError(func(err error) {
				handled <- err
				runtime.Goexit()
			}))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			for range 3 {
				if err := e.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return errors.New("fail") })); err != nil {
					t.Fatalf("Submit = %v; want nil (the slot was given back)", err)
				}
			}
			if err := e.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown = %v; want nil", err)
			}
			if n := len(handled); n != 3 {
				t.Errorf("OnError called %d times; want 3", n)
			}
			if s := e.Stats(); s.Submitted != 3 || s.Failed != 3 || s.Running != 0 {
				t.Errorf("Stats = %+v; want 3 submitted, 3 failed, none running", s)
			}
		})
	}
}

// TestShutdownRunsJobCreatedBefore: a job that a Handler's request created
// before Shutdown began (its HandlerFunc still running) is run, and
// Shutdown returns only once it has returned. Shutdown returned at once,
// and the job, handed to the shut executor a moment later, failed with
// ErrClosed though the request had been answered with its place.
func TestShutdownRunsJobCreatedBefore(t *testing.T) {
	r, err := fireforget.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	release, served, ran := startingJob(r)
	shut := make(chan error, 1)
	go func() { shut <- r.Shutdown(context.Background()) }()
	// Shutdown has begun once Start refuses.
	for {
		if _, err := r.Start(func(context.Context, io.Writer) error { return nil }); errors.Is(err, execkit.ErrClosed) {
			break
		}
		runtime.Gosched()
	}
	var shutErr error
	returned := false
	select {
	case shutErr = <-shut:
		returned = true
		t.Errorf("Shutdown returned %v while a job it had let create was still starting", shutErr)
	default:
	}
	release()
	waitDone(t, "ServeHTTP", served)
	if !returned {
		select {
		case shutErr = <-shut:
		case <-time.After(patience):
			t.Fatalf("Shutdown: not done after %v", patience)
		}
	}
	if shutErr != nil {
		t.Errorf("Shutdown = %v; want nil", shutErr)
	}
	select {
	case <-ran:
	default:
		t.Error("Shutdown returned before the job's function ran")
	}
	for _, info := range r.List() {
		if info.State != fireforget.Succeeded {
			t.Errorf("job %v ended %v; want Succeeded", info.ID, info.State)
		}
	}
}

// TestShutdownGivesUpOnJobStarting: when Shutdown's ctx ends while a job it
// waits for is still starting (its HandlerFunc running), Shutdown returns
// ctx.Err(), and that job has been cancelled by then: it ends Cancelled
// and its function never runs, though its HandlerFunc returns one later.
func TestShutdownGivesUpOnJobStarting(t *testing.T) {
	r, err := fireforget.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	release, served, ran := startingJob(r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended ctx = %v; want context.Canceled", err)
	}
	jobs := r.List()
	if len(jobs) != 1 || jobs[0].State != fireforget.Cancelled {
		t.Fatalf("after Shutdown returned, List = %+v; want one cancelled job", jobs)
	}
	release()
	waitDone(t, "ServeHTTP", served)
	select {
	case <-ran:
		t.Error("the job's function ran after Shutdown had cancelled it")
	default:
	}
	if got := r.Info(jobs[0].ID).State; got != fireforget.Cancelled {
		t.Errorf("the job ended %v; want Cancelled", got)
	}
}

// startingJob has a Handler of r create a job and hold it starting: its
// HandlerFunc waits until release is called, then returns a function that
// signals ran. served is closed once the request was answered.
func startingJob(r *fireforget.Registry) (release func(), served, ran <-chan struct{}) {
	inHandler, proceed := make(chan struct{}), make(chan struct{})
	didRun := make(chan struct{}, 1)
	h := r.Handler(func(io.Writer, *http.Request) (fireforget.JobFunc, error) {
		close(inHandler)
		<-proceed
		return func(context.Context, io.Writer) error { didRun <- struct{}{}; return nil }, nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	}()
	<-inHandler
	return func() { close(proceed) }, done, didRun
}
