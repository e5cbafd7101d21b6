package errgroup_test

import (
	"context"
	"errors"
	"fmt"

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
