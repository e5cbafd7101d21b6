package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/testlog"
)

// TestInlineSubmitEndedCtx: Inline never waits, so a ctx that has already
// ended does not refuse a task (x/sync's TryGo true).
func TestInlineSubmitEndedCtx(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	var e execkit.Inline
	ran := false
	if err := e.Submit(ended, execkit.TaskFunc(func(context.Context) error { ran = true; return nil })); err != nil || !ran {
		t.Errorf("Submit(ended ctx) = %v, ran %v; want nil, true", err, ran)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestInlineFollowUpDuringShutdown: a task that submits follow-ups with its
// ctx after Shutdown began has them run (nested), and Shutdown waits for
// them; a Submit with an unrelated ctx, or with the task's ctx after
// Shutdown returned, gets ErrClosed.
func TestInlineFollowUpDuringShutdown(t *testing.T) {
	var e execkit.Inline
	started, release := make(chan struct{}), make(chan struct{})
	kept := make(chan context.Context, 1)
	var results []error
	visited := 0
	var node func(d int) execkit.Task
	node = func(d int) execkit.Task {
		return execkit.TaskFunc(func(ctx context.Context) error {
			visited++
			for i := 0; d > 0 && i < 2; i++ {
				results = append(results, e.Submit(ctx, node(d-1)))
			}
			return nil
		})
	}
	submitted := make(chan error, 1)
	go func() {
		submitted <- e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
			kept <- ctx
			close(started)
			<-release
			if err := e.Submit(context.Background(), node(0)); !errors.Is(err, execkit.ErrClosed) {
				t.Errorf("Submit with an unrelated ctx during Shutdown = %v; want ErrClosed", err)
			}
			return node(4).Run(ctx)
		}))
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- e.Shutdown(context.Background()) }()
	for e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return nil })) == nil {
		// until Shutdown has begun
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-submitted; err != nil {
		t.Fatal(err)
	}
	if visited != 31 {
		t.Errorf("when Shutdown returned, %d of 31 nodes had run", visited)
	}
	for _, err := range results {
		if err != nil {
			t.Errorf("a follow-up's Submit during Shutdown = %v; want nil", err)
		}
	}
	if err := e.Submit(<-kept, node(0)); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit with a task's ctx after Shutdown = %v; want ErrClosed", err)
	}
}

// TestInlineOnErrorPanics: a panicking OnError is logged with its stack;
// Submit, which never panics, returns nil, and Shutdown does not wait for
// the task (the panic left Submit before its count ended).
func TestInlineOnErrorPanics(t *testing.T) {
	log := testlog.Capture(t)
	e := &execkit.Inline{OnError: func(err error) { panic("handler: " + err.Error()) }}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("Submit panicked: %v", r)
			}
		}()
		return e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return errors.New("fail") }))
	}()
	if err != nil {
		t.Fatalf("Submit = %v; want nil", err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v; want nil", err)
	}
	if !strings.Contains(log.String(), "OnError handler panicked") || !strings.Contains(log.String(), "TestInlineOnErrorPanics") {
		t.Errorf("the log does not report the handler's panic with its stack:\n%s", log.String())
	}
}

// TestInlineGoexitCounted: a task that ends its goroutine (runtime.Goexit,
// as t.FailNow does) ends the goroutine of the Submit running it, and
// counts as a success, as on every executor: Stats after Shutdown shows it
// finished, not Running for ever (Submitted 1, Running 1, Succeeded 0
// before).
func TestInlineGoexitCounted(t *testing.T) {
	var e execkit.Inline
	submitted := make(chan struct{})
	go func() {
		defer close(submitted)
		_ = e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
			runtime.Goexit()
			return nil
		}))
	}()
	<-submitted
	fut := make(chan struct{})
	go func() {
		defer close(fut)
		execkit.Go(context.Background(), &e, func(context.Context) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
	}()
	<-fut
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v; want nil", err)
	}
	if s := e.Stats(); s.Submitted != 2 || s.Running != 0 || s.Succeeded != 2 {
		t.Errorf("Stats after two tasks that called runtime.Goexit = %+v; want Submitted 2, Running 0, Succeeded 2", s)
	}
}
