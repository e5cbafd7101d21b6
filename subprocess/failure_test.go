package subprocess_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// TestWorkerDeath kills the worker of a pool of one while it runs a task
// and holds more: only the running task fails, with a *WorkerError; the
// others run in the replacement.
func TestWorkerDeath(t *testing.T) {
	tests := []struct {
		how        string
		wantSignal syscall.Signal
		wantExit   int
		wantErr    string // in the error's text
	}{
		{"sigkill", syscall.SIGKILL, -1, "was killed by signal 9 (killed)"},
		{"exit", 0, 7, "exited with status 7 while running the task (stderr: about to exit 7)"},
		{"goroutine-panic", 0, 2, "(stderr: panic: panic in another goroutine)"},
		{"goexit", 0, 5, `function "test.die" called runtime.Goexit; the worker exits`},
		{"corrupt-frame", syscall.SIGKILL, -1, "protocol error: frame length 1073741824 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.how, func(t *testing.T) {
			p := newPool(t, 1)
			ctx := testContext(t)
			before, err := subprocess.Apply(ctx, p, getpid, struct{}{})
			if err != nil {
				t.Fatal(err)
			}
			dying := die.Go(ctx, p, tt.how)
			var behind []*execkit.Future[int]
			for i := range 5 {
				behind = append(behind, double.Go(ctx, p, i))
			}
			_, err = dying.Wait(ctx)
			var we *subprocess.WorkerError
			if !errors.As(err, &we) {
				t.Fatalf("got %v (%T); want a *WorkerError", err, err)
			}
			if we.Pid != before || we.Signal != tt.wantSignal || we.ExitCode != tt.wantExit {
				t.Errorf("got pid %d signal %d exit %d; want %d, %d, %d", we.Pid, we.Signal, we.ExitCode, before, tt.wantSignal, tt.wantExit)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q; want it to contain %q", err, tt.wantErr)
			}
			if tt.how == "corrupt-frame" && !errors.Is(err, subprocess.ErrProtocol) {
				t.Errorf("got %v; want it to wrap ErrProtocol", err)
			}
			for i, f := range behind {
				if v, err := f.Wait(ctx); v != 2*i || err != nil {
					t.Errorf("task %d behind the dying one: got %d, %v; want %d, nil", i, v, err, 2*i)
				}
			}
			after, err := subprocess.Apply(ctx, p, getpid, struct{}{})
			if err != nil || after == before {
				t.Errorf("after the death: got worker %d, %v; want a new worker", after, err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	p := newPool(t, 1, subprocess.CancelGrace(50*time.Millisecond))
	ctx := testContext(t)
	before, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("task returns", func(t *testing.T) {
		fifo, wait := started(t)
		f := block.Go(ctx, p, blockArg{Fifo: fifo})
		wait()
		behind := double.Go(ctx, p, 4) // prefetched behind it
		queued := waitCtx.Go(ctx, p, time.Hour)
		f.Cancel()
		queued.Cancel()
		for _, f := range []*execkit.Future[int]{f, queued} {
			if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("got %v; want context.Canceled", err)
			}
		}
		if v, err := behind.Wait(ctx); v != 8 || err != nil {
			t.Errorf("the task behind: got %d, %v; want 8, nil", v, err)
		}
		if after, err := subprocess.Apply(ctx, p, getpid, struct{}{}); after != before || err != nil {
			t.Errorf("got worker %d, %v; want the same worker %d (the task returned)", after, err, before)
		}
	})

	t.Run("apply", func(t *testing.T) {
		actx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		fifo, wait := started(t)
		go func() {
			_, err := subprocess.Apply(actx, p, block, blockArg{Fifo: fifo})
			done <- err
		}()
		wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want context.Canceled", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		if _, err := subprocess.Apply(dctx, p, waitCtx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v; want context.DeadlineExceeded", err)
		}
	})

	t.Run("task ignores it", func(t *testing.T) {
		fifo, wait := started(t)
		f := block.Go(ctx, p, blockArg{Fifo: fifo, IgnoreCtx: true})
		wait()
		behind := double.Go(ctx, p, 5)
		f.Cancel()
		if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "was stopped") {
			t.Errorf("got %v; want context.Canceled, its worker stopped", err)
		}
		if v, err := behind.Wait(ctx); v != 10 || err != nil {
			t.Errorf("the task behind: got %d, %v; want 10, nil", v, err)
		}
		if after, err := subprocess.Apply(ctx, p, getpid, struct{}{}); after == before || err != nil {
			t.Errorf("got worker %d, %v; want a new worker (the old one was killed)", after, err)
		}
	})
}

// TestBroken makes every replacement worker fail its initializer: after
// repeated start failures the pool gives up, and pending work fails.
func TestBroken(t *testing.T) {
	marker := t.TempDir() + "/refuse"
	errs := make(chan error, 100)
	p, err := subprocess.New(1,
		subprocess.Initializer(initPath, marker),
		subprocess.OnError(func(err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := subprocess.Apply(ctx, p, die, "sigkill"); !errors.As(err, new(*subprocess.WorkerError)) {
		t.Errorf("the dying task: got %v; want a *WorkerError", err)
	}
	// Queued while replacements fail, or refused once the pool gave up.
	pending := double.Go(ctx, p, 1)
	_, err = pending.Wait(ctx)
	if !errors.Is(err, subprocess.ErrBroken) || !strings.Contains(err.Error(), "init refused") {
		t.Errorf("pending task: got %v; want ErrBroken with the last start error", err)
	}
	if err := p.Submit(ctx, double.Task(1)); !errors.Is(err, subprocess.ErrBroken) {
		t.Errorf("Submit on a broken pool: got %v; want ErrBroken", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: got %v; want nil", err)
	}
	close(errs)
	n := 0
	for err := range errs {
		if !strings.Contains(err.Error(), "init refused") {
			t.Errorf("handler got %v; want start failures", err)
		}
		n++
	}
	if n != 5 {
		t.Errorf("handler got %d start failures; want 5", n)
	}
}

// TestSteal: calls prefetched by a worker busy with a long call run on a
// worker that became idle, without waiting for the long one.
func TestSteal(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	fifo1, wait1 := started(t)
	long := block.Go(ctx, p, blockArg{Fifo: fifo1})
	wait1()
	fifo2, wait2 := started(t)
	short := block.Go(ctx, p, blockArg{Fifo: fifo2}) // on the other, idle worker
	wait2()
	var quick []*execkit.Future[int]
	for i := range 10 { // both workers are busy: prefetched by both
		quick = append(quick, double.Go(ctx, p, i))
	}
	short.Cancel() // its worker is idle now, and takes back the other's
	for i, f := range quick {
		if v, err := f.Wait(ctx); v != 2*i || err != nil {
			t.Errorf("quick task %d: got %d, %v; want %d, nil", i, v, err, 2*i)
		}
	}
	select {
	case <-long.Done():
		t.Errorf("the long task ended before it was cancelled")
	default:
	}
	long.Cancel()
	if _, err := long.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("the long task: got %v; want context.Canceled", err)
	}
}

// TestPrefetchZeroStartsInOrder: with Prefetch(0), a task admitted while
// both workers are busy starts on the first worker that frees, before the
// tasks admitted after it, even though the other worker runs until the
// end of the test. (With prefetching, it may be held behind that one.)
func TestPrefetchZeroStartsInOrder(t *testing.T) {
	for round := range 5 {
		p := newPool(t, 2, subprocess.Prefetch(0))
		ctx := testContext(t)
		fifo1, wait1 := started(t)
		long := block.Go(ctx, p, blockArg{Fifo: fifo1})
		wait1()
		fifo2, wait2 := started(t)
		short := block.Go(ctx, p, blockArg{Fifo: fifo2})
		wait2()
		first := double.Go(ctx, p, 21)
		var later []*execkit.Future[int]
		for range 4 {
			later = append(later, waitCtx.Go(ctx, p, time.Hour))
		}
		short.Cancel() // a worker frees: the task admitted first takes it
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := first.Wait(wctx)
		cancel()
		if v != 42 || err != nil {
			t.Errorf("round %d: the task admitted first = %d, %v; want 42, nil (it waited while a task admitted after it ran)", round, v, err)
		}
		for _, f := range append(later, long) {
			f.Cancel()
			f.Wait(ctx)
		}
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
}
