package executortest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/executortest"
)

// goroutines is a tiny executor, a goroutine per task, written the way the
// contract asks: it refuses nil tasks and, after Shutdown began, every
// Submit; it runs tasks through execkit.Run (a panic becomes a
// *execkit.PanicError, a task whose ctx ended does not start); it passes
// the error of a task without a Future to onError; Shutdown waits for the
// tasks, or cancels their ctx and returns when its own ctx ends first.
// TestGoroutines runs the suite on it.
type goroutines struct {
	onError func(error)
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup
}

func newGoroutines(onError func(error)) *goroutines {
	ctx, cancel := context.WithCancel(context.Background())
	return &goroutines{onError: onError, ctx: ctx, cancel: cancel}
}

func (g *goroutines) Submit(ctx context.Context, t execkit.Task) error {
	if g == nil || g.ctx == nil { // a typed nil, or not made by newGoroutines
		return execkit.ErrNilExecutor
	}
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return execkit.ErrClosed
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := driver.Run(g.ctx, t); err != nil && !driver.HasFuture(t) {
			g.onError(err)
		}
	}()
	return nil
}

func (g *goroutines) Shutdown(ctx context.Context) error {
	if g == nil || g.ctx == nil {
		return execkit.ErrNilExecutor
	}
	if ctx == nil {
		ctx = context.Background()
	}
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		g.cancel()
		return nil
	case <-ctx.Done():
		g.cancel() // the tasks see it before Shutdown returns
		return ctx.Err()
	}
}

// newExecutor is what a conformance test passes to executortest.Run:
//
//	func TestGoroutines(t *testing.T) {
//		executortest.Run(t, newExecutor)
//	}
//
// Run calls it once per check, for a fresh executor, with the onError the
// suite watches: here it becomes the executor's error handler.
var newExecutor executortest.NewFunc = func(t *testing.T, onError func(error)) execkit.Executor {
	return newGoroutines(onError)
}

// Example shows an executor written for the suite and the outcomes the
// suite checks on it: a task's error and a panic reach the error handler,
// Shutdown waits for the tasks, a later Submit is refused.
func Example() {
	var (
		mu     sync.Mutex
		errs   []error
		onErr  = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
		ex     = newGoroutines(onErr)
		ctx    = context.Background()
		ran    = make(chan string, 1)
		failed = execkit.TaskFunc(func(context.Context) error { return errors.New("boom") })
		panics = execkit.TaskFunc(func(context.Context) error { panic("oops") })
		runs   = execkit.TaskFunc(func(context.Context) error { ran <- "ran"; return nil })
	)
	for _, t := range []execkit.Task{failed, panics, runs} {
		if err := ex.Submit(ctx, t); err != nil {
			fmt.Println("Submit:", err)
		}
	}
	fmt.Println("Shutdown:", ex.Shutdown(ctx))
	fmt.Println(<-ran)
	fmt.Println("Submit after Shutdown:", ex.Submit(ctx, runs))

	var lines []string // in any order: the tasks ran concurrently
	for _, err := range errs {
		if pe := (*execkit.PanicError)(nil); errors.As(err, &pe) {
			lines = append(lines, fmt.Sprint("onError: a panic: ", pe.Value, ", with its stack: ", len(pe.Stack) > 0))
		} else {
			lines = append(lines, fmt.Sprint("onError: ", err))
		}
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// Shutdown: <nil>
	// ran
	// Submit after Shutdown: execkit: executor is shut down
	// onError: a panic: oops, with its stack: true
	// onError: boom
}
