package executortest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"go.uber.org/goleak"
)

// patience bounds every call the suite makes that the contract says must
// return: a call still running after it has failed the check (an executor
// that ignores its ctx, a Shutdown that never returns). A variable so that
// the suite's own tests of broken executors need not wait as long.
var patience = 20 * time.Second

// harness is one check's executor and its records.
type harness struct {
	t    *checkT
	make NewFunc // for checks that need more than one executor
	cfg  config
	ex   execkit.Executor
	dir  string
	errs *sink
	leak []goleak.Option
	bg   context.Context
}

func (c config) start(t *testing.T, newExecutor NewFunc) *harness {
	t.Helper()
	h := &harness{
		t:    guard(t),
		cfg:  c,
		dir:  t.TempDir(),
		errs: &sink{arrived: make(chan struct{}, 1)},
		leak: append([]goleak.Option{goleak.IgnoreCurrent()}, c.leakOpts...),
		bg:   context.Background(),
		make: newExecutor,
	}
	h.ex = newExecutor(t, h.errs.add)
	if h.ex == nil {
		t.Fatal("newExecutor returned nil")
	}
	t.Cleanup(func() { // best effort after a failed check; the checks assert their own Shutdown
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() { defer close(done); _ = h.ex.Shutdown(ctx) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	})
	return h
}

// another makes one more executor like h.ex, for checks that need a fresh
// one per round; its errors go to the same sink. The check shuts it down.
func (h *harness) another() execkit.Executor {
	h.t.Helper()
	ex := h.make(h.t.T, h.errs.add)
	if ex == nil {
		h.t.Fatal("newExecutor returned nil")
	}
	return ex
}

func (h *harness) job(id int, m mode) job { return job{Dir: h.dir, ID: id, Mode: m} }

// submit calls Submit, failing the check (not the process) if it panics or
// does not return within patience.
func (h *harness) submit(ctx context.Context, t execkit.Task) (err error) {
	h.t.Helper()
	return within(h.t, "Submit", func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("executortest: Submit panicked: %v", r)
				h.t.Errorf("Submit panicked: %v (Submit must never panic; a task's panic must become a *execkit.PanicError)", r)
			}
		}()
		return h.ex.Submit(ctx, t)
	})
}

func (h *harness) submitJob(ctx context.Context, id int, m mode) error {
	h.t.Helper()
	return h.submit(ctx, jobFunc.Task(h.job(id, m)))
}

// submitRetry submits, retrying while a rejecting executor is full.
func (h *harness) submitRetry(id int, m mode) error {
	h.t.Helper()
	for {
		err := h.submitJob(h.bg, id, m)
		if !errors.Is(err, execkit.ErrFull) {
			return err
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (h *harness) goJob(id int, m mode) *execkit.Future[int] {
	h.t.Helper()
	var f *execkit.Future[int]
	err := within(h.t, "Go", func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("executortest: Go panicked: %v", r)
				h.t.Errorf("Submit panicked: %v", r)
			}
		}()
		f = jobFunc.Go(h.bg, h.ex, h.job(id, m))
		return nil
	})
	if err != nil {
		h.t.FailNow()
	}
	return f
}

// spawn submits a job from a goroutine of its own, so that a task that
// blocks does not block the check on an executor that runs tasks in
// Submit's goroutine (Inline). The returned function waits until Submit
// (or Go, when future is set) has returned, and returns the Future (nil
// without one).
func (h *harness) spawn(id int, m mode, future bool) func() *execkit.Future[int] {
	done := make(chan *execkit.Future[int], 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				h.t.Errorf("Submit panicked: %v", r)
				done <- nil
			}
		}()
		if future {
			done <- jobFunc.Go(h.bg, h.ex, h.job(id, m))
			return
		}
		if err := h.ex.Submit(h.bg, jobFunc.Task(h.job(id, m))); err != nil {
			h.t.Errorf("Submit(task %d) = %v; want nil", id, err)
		}
		done <- nil
	}()
	return func() *execkit.Future[int] {
		h.t.Helper()
		select {
		case f := <-done:
			return f
		case <-time.After(patience):
			h.t.Fatalf("Submit did not return within %v", patience)
			return nil
		}
	}
}

// wait waits for f within patience.
func wait[T any](h *harness, f *execkit.Future[T]) (T, error) {
	h.t.Helper()
	var v T
	err := within(h.t, "Future.Wait", func() (err error) {
		v, err = f.Wait(h.bg)
		return err
	})
	return v, err
}

// shutdown calls Shutdown within patience.
func (h *harness) shutdown(ctx context.Context) error {
	h.t.Helper()
	return within(h.t, "Shutdown", func() error { return h.ex.Shutdown(ctx) })
}

// end shuts the executor down, checks Shutdown's error with ok (nil: it
// must be nil), and checks that no goroutine the executor started is left.
func (h *harness) end(ok func(error) bool) {
	h.t.Helper()
	err := h.shutdown(h.bg)
	switch {
	case ok == nil && err != nil:
		h.t.Errorf("Shutdown(ctx) = %v; want nil", err)
	case ok != nil && !ok(err):
		h.t.Errorf("Shutdown(ctx) = %v; not the error this check expects", err)
	}
	if err := goleak.Find(h.leak...); err != nil {
		h.t.Errorf("goroutines left after Shutdown returned (leak): %v", err)
	}
	h.checkFinalStats()
}

// checkFinalStats checks, on an executor that exposes Stats, that once
// Shutdown has waited for every task, every admitted task is counted as
// ended, once: none Queued or Running, and Submitted is Succeeded plus
// Failed plus Panicked (a task that called runtime.Goexit included).
func (h *harness) checkFinalStats() {
	h.t.Helper()
	s, ok := h.stats()
	if !ok {
		return
	}
	if s.Queued != 0 || s.Running != 0 || s.Submitted != s.Succeeded+s.Failed+s.Panicked {
		h.t.Errorf("Stats after Shutdown returned = %+v; want Queued 0, Running 0 and Submitted = Succeeded+Failed+Panicked (every admitted task ended, counted once)", s)
	}
}

// awaitLines waits until name holds at least n lines.
func (h *harness) awaitLines(name string, n int) map[int]int {
	h.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		c, err := counts(h.dir, name)
		if err != nil {
			h.t.Fatal(err)
		}
		if total(c) >= n {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %v, %d tasks recorded %q; want %d", patience, total(c), name, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) lines(name string) map[int]int {
	h.t.Helper()
	c, err := counts(h.dir, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) release() {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, releaseFile), nil, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func total(c map[int]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// within runs fn, failing the check when it does not return within
// patience. The goroutine is left behind in that case: the executor under
// test is already broken.
func within(t *checkT, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		t.Fatalf("%s did not return within %v (does it honour its ctx?)", what, patience)
		return nil
	}
}

// sink collects what the executor passes to onError.
type sink struct {
	mu      sync.Mutex
	errs    []error
	arrived chan struct{}
}

func (s *sink) add(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

func (s *sink) all() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// await waits until n errors have arrived and returns them.
func (s *sink) await(t *checkT, n int) []error {
	t.Helper()
	timeout := time.After(patience)
	for {
		if errs := s.all(); len(errs) >= n {
			return errs
		}
		select {
		case <-s.arrived:
		case <-timeout:
			t.Fatalf("after %v, onError received %d errors; want %d (a task's error was swallowed)", patience, len(s.all()), n)
		}
	}
}

// checkT is a check's *testing.T, made safe for the goroutines the check
// starts: one may still report after the check gave up on it (a call of
// the executor that never returned, a Submit still waiting), when the
// testing package would panic ("Fail in goroutine after ... has
// completed") and end the whole test binary, the checks after it unrun.
// Once the test's cleanups ran, such a report goes to stderr instead, and
// Fatalf ends only the goroutine that called it. Reports hold a lock that
// the cleanup takes, so none is half made when the test completes.
type checkT struct {
	*testing.T
	mu   sync.Mutex
	over bool // the test's cleanups ran
}

// guard returns t's checkT. Its cleanup is registered first, so that it
// runs last, after the executor's best-effort Shutdown.
func guard(t *testing.T) *checkT {
	c := &checkT{T: t}
	t.Cleanup(func() {
		c.mu.Lock()
		c.over = true
		c.mu.Unlock()
	})
	return c
}

// report fails the test with msg, or writes msg to stderr once the test
// is over; with now, it then ends the calling goroutine, as FailNow does.
// The lock is held until the goroutine ended (Goexit runs the deferred
// unlock), so that the test cannot complete between the check and the
// failure.
func (c *checkT) report(msg string, now bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.over {
		if msg != "" {
			fmt.Fprintf(os.Stderr, "executortest: %s, after its end: %s\n", c.Name(), msg)
		}
		if now {
			runtime.Goexit()
		}
		return
	}
	c.T.Helper()
	if msg != "" {
		c.T.Error(msg)
	}
	if now {
		c.T.FailNow()
	}
}

func (c *checkT) Errorf(format string, args ...any) {
	c.T.Helper()
	c.report(fmt.Sprintf(format, args...), false)
}

func (c *checkT) Error(args ...any) {
	c.T.Helper()
	c.report(strings.TrimSuffix(fmt.Sprintln(args...), "\n"), false)
}

func (c *checkT) Fatalf(format string, args ...any) {
	c.T.Helper()
	c.report(fmt.Sprintf(format, args...), true)
}

func (c *checkT) Fatal(args ...any) {
	c.T.Helper()
	c.report(strings.TrimSuffix(fmt.Sprintln(args...), "\n"), true)
}

// FailNow ends the calling goroutine, as testing.T's does; once the test
// is over, without touching it.
func (c *checkT) FailNow() { c.report("", true) }
