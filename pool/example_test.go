package pool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/pool"
)

// A pool of 3 workers runs five tasks; Map returns their results in input
// order, as threadpool's callbacks would see them one by one.
func ExampleNew() {
	ctx := context.Background()
	p, err := pool.New(3)
	if err != nil {
		panic(err)
	}
	defer p.Shutdown(ctx)

	words, err := execkit.Map(ctx, p, []string{"task1", "task2", "task3", "task4", "task5"},
		func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil })
	fmt.Println(words, err)
	// Output: [TASK1 TASK2 TASK3 TASK4 TASK5] <nil>
}

// With RejectWhenFull, Submit on a busy pool says so at once.
func ExampleRejectWhenFull() {
	ctx := context.Background()
	p, _ := pool.New(1, pool.RejectWhenFull())
	release := make(chan struct{})
	started := make(chan struct{})
	_ = p.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
		close(started)
		<-release
		return nil
	}))
	<-started
	err := p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil }))
	fmt.Println(errors.Is(err, execkit.ErrFull))
	close(release)
	fmt.Println(p.Shutdown(ctx))
	// Output:
	// true
	// <nil>
}

// A task may submit more work to its own pool with its ctx: when the pool
// is full the new task runs inline instead of deadlocking.
func ExamplePool_Submit_nested() {
	ctx := context.Background()
	p, _ := pool.New(1)
	done := make(chan string)
	_ = p.Submit(ctx, execkit.TaskFunc(func(ctx context.Context) error {
		// The only worker is this one: the child runs inline, here.
		return p.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
			done <- "child ran"
			return nil
		}))
	}))
	fmt.Println(<-done)
	_ = p.Shutdown(ctx)
	fmt.Println("inline:", p.Stats().Inline)
	// Output:
	// child ran
	// inline: 1
}

// Resize changes the number of workers while the pool runs.
func ExamplePool_Resize() {
	p, _ := pool.New(2)
	defer p.Shutdown(context.Background())
	_ = p.Resize(8)
	fmt.Println(p.Stats().Size, p.Stats().Free)
	fmt.Println(p.Resize(0))
	// Output:
	// 8 8
	// pool: size must be from 1 to math.MaxInt/2 (got 0)
}

// With a queue, Submit returns without waiting for a worker while the queue
// has room; Stats counts the tasks waiting in it.
func ExampleQueue() {
	ctx := context.Background()
	p, err := pool.New(1, pool.Queue(2))
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	_ = p.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
		close(started)
		<-release
		return nil
	}))
	<-started
	for range 2 { // queued: the one worker is busy
		_ = p.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil }))
	}
	st := p.Stats()
	fmt.Println("queued:", st.Queued, "running:", st.Running)
	close(release)
	_ = p.Shutdown(ctx)
	fmt.Println("succeeded:", p.Stats().Succeeded)
	// Output:
	// queued: 2 running: 1
	// succeeded: 3
}
