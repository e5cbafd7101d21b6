package errgroup_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// The first failure cancels the other tasks, whose context tells why, and
// is what Shutdown returns.
func ExampleNew() {
	ctx := context.Background()
	g, _ := errgroup.New()
	started := make(chan struct{})
	slow := execkit.Go(ctx, g, func(ctx context.Context) (string, error) {
		close(started)
		<-ctx.Done() // cancelled by the failure below
		return "", context.Cause(ctx)
	})
	<-started
	_ = g.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
		return errors.New("fetch b: 404")
	}))
	_, err := slow.Wait(ctx)
	fmt.Println("slow task:", err)
	fmt.Println("Shutdown:", g.Shutdown(ctx))
	// Output:
	// slow task: fetch b: 404
	// Shutdown: fetch b: 404
}

// A task submitted after the failure is not started.
func ExampleErrGroupFailed() {
	ctx := context.Background()
	g, _ := errgroup.New()
	started, failed := make(chan struct{}), make(chan struct{})
	_ = g.Submit(ctx, execkit.TaskFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done() // the group's failure cancels this task
		close(failed)
		return nil
	}))
	<-started
	_ = g.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return errors.New("boom") }))
	<-failed

	err := g.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil }))
	fmt.Println(err)
	fmt.Println(errors.Is(err, errgroup.ErrGroupFailed))
	fmt.Println("Shutdown:", g.Shutdown(ctx))
	fmt.Println("skipped:", g.Stats().Skipped)
	// Output:
	// errgroup: group failed, task not started: boom
	// true
	// Shutdown: boom
	// skipped: 1
}

// A group tied to a request: cancelling the request cancels its tasks,
// which see the request's cause. A task may add follow-up work (here a
// tree walk) while the caller waits in Shutdown, which waits for it too.
func ExampleWithContext() {
	req, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	g, _ := errgroup.WithContext(req, errgroup.Limit(4))

	var visited atomic.Int64
	var walk func(depth int) execkit.TaskFunc
	walk = func(depth int) execkit.TaskFunc {
		return func(ctx context.Context) error {
			visited.Add(1)
			for i := 0; depth > 0 && i < 2; i++ {
				if err := g.Submit(ctx, walk(depth-1)); err != nil { // the task's ctx: a follow-up
					return err
				}
			}
			return nil
		}
	}
	_ = g.Submit(req, walk(3))
	fmt.Println("Shutdown:", g.Shutdown(context.Background()), "visited:", visited.Load())

	h, _ := errgroup.WithContext(req)
	waiting := make(chan struct{})
	_ = h.Submit(req, execkit.TaskFunc(func(ctx context.Context) error {
		close(waiting)
		<-ctx.Done()
		return context.Cause(ctx)
	}))
	<-waiting
	cancel(errors.New("client went away"))
	fmt.Println("Shutdown:", h.Shutdown(context.Background()))
	// Output:
	// Shutdown: <nil> visited: 15
	// Shutdown: client went away
}
