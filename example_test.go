package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// Go runs a function on any executor and hands back its typed result.
func ExampleGo() {
	ctx := context.Background()
	ex := &execkit.Inline{} // any Executor: fireforget, pool, errgroup, ...
	defer ex.Shutdown(ctx)

	f := execkit.Go(ctx, ex, func(ctx context.Context) (string, error) {
		return strings.ToUpper("hello"), nil
	})
	s, err := f.Wait(ctx)
	fmt.Println(s, err)
	// Output: HELLO <nil>
}

// Map keeps input order, like ThreadPoolExecutor.map, and stops at the first
// error.
func ExampleMap() {
	ctx := context.Background()
	ex := &execkit.Inline{}
	defer ex.Shutdown(ctx)

	squares, err := execkit.Map(ctx, ex, []int{1, 2, 3}, func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})
	fmt.Println(squares, err)

	_, err = execkit.Map(ctx, ex, []int{1, -2, 3}, func(_ context.Context, n int) (int, error) {
		if n < 0 {
			return 0, fmt.Errorf("negative input %d", n)
		}
		return n * n, nil
	})
	fmt.Println(err)
	// Output:
	// [1 4 9] <nil>
	// negative input -2
}

// AsCompleted yields futures as they finish, like
// concurrent.futures.as_completed; results are handled in the waiting
// goroutine.
func ExampleAsCompleted() {
	ctx := context.Background()
	ex := &execkit.Inline{}
	defer ex.Shutdown(ctx)

	var futures []*execkit.Future[int]
	for _, n := range []int{3, 1, 2} {
		futures = append(futures, execkit.Go(ctx, ex, func(context.Context) (int, error) { return n * 100, nil }))
	}
	sum := 0
	for f := range execkit.AsCompleted(futures) {
		v, _ := f.Wait(ctx)
		sum += v
	}
	fmt.Println(sum)
	// Output: 600
}

type greeting struct{ Name string }

// Registered at package level, so that every process of this binary knows
// it by the same name.
var greet = execkit.Register("example.greet", func(_ context.Context, g greeting) (string, error) {
	if g.Name == "" {
		return "", errors.New("no name")
	}
	return "hello, " + g.Name, nil
})

// Register makes a function portable: the same call runs on an in-process
// executor (called directly) or in a worker process (name and encoded
// argument sent over).
func ExampleRegister() {
	ctx := context.Background()
	ex := &execkit.Inline{}
	defer ex.Shutdown(ctx)

	s, err := greet.Go(ctx, ex, greeting{Name: "gopher"}).Wait(ctx)
	fmt.Println(s, err)
	_, err = greet.Go(ctx, ex, greeting{}).Wait(ctx)
	fmt.Println(err)
	// Output:
	// hello, gopher <nil>
	// no name
}

// A panic in a task never crashes the program: it becomes a *PanicError
// where the task's error goes.
func ExamplePanicError() {
	ctx := context.Background()
	ex := &execkit.Inline{}
	defer ex.Shutdown(ctx)

	_, err := execkit.Go(ctx, ex, func(context.Context) (int, error) {
		var limits []int
		return limits[len(limits)-1], nil // index out of range

	}).Wait(ctx)
	var pe *execkit.PanicError
	fmt.Println(errors.As(err, &pe), len(pe.Stack) > 0)
	fmt.Println(err)
	// Output:
	// true true
	// execkit: task panicked: runtime error: index out of range [-1]
}

// Inline runs each task in the goroutine that submits it: the reference
// Executor, and a handy stand-in in tests.
func ExampleInline() {
	ctx := context.Background()
	ex := &execkit.Inline{OnError: func(err error) { fmt.Println("handler:", err) }}
	_ = ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return errors.New("disk full") }))
	fmt.Println(ex.Shutdown(ctx))
	fmt.Println(ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })))
	// Output:
	// handler: disk full
	// <nil>
	// execkit: executor is shut down
}

var errNoStock = errors.New("no stock")

// reserve declares the sentinel its callers test, so that errors.Is finds
// it on every executor, including those that run it in another process.
var reserve = execkit.Register("example.reserve", func(_ context.Context, item string) (int, error) {
	return 0, fmt.Errorf("reserve %s: %w", item, errNoStock)
}, execkit.Errors(errNoStock))

// Errors keeps a sentinel's identity across a process boundary, where an
// error travels as a *RemoteError.
func ExampleErrors() {
	ctx := context.Background()
	_, err := reserve.Go(ctx, &execkit.Inline{}, "chair").Wait(ctx)
	fmt.Println(errors.Is(err, errNoStock), err)

	// What a worker process sends back, and the caller rebuilds (what a
	// subprocess.Pool or riverexec does with the same error):
	crossed := driver.DecodeError("example.reserve", driver.EncodeError("example.reserve", err))
	var re *execkit.RemoteError
	fmt.Println(errors.Is(crossed, errNoStock), errors.As(crossed, &re), re.Type, re.Message)
	// Output:
	// true reserve chair: no stock
	// true true *fmt.wrapError reserve chair: no stock
}

// fetch may start at most 1000 times a second on each executor: RateLimit
// takes a number of calls per second, or a string such as "1000/s".
var fetch = execkit.Register("example.fetch", func(_ context.Context, page int) (string, error) {
	return fmt.Sprintf("page %d", page), nil
}, execkit.RateLimit(1000))

// RateLimit spreads the starts of a registered function's calls evenly.
func ExampleRateLimit() {
	ctx := context.Background()
	ex := &execkit.Inline{}
	defer ex.Shutdown(ctx)

	pages, err := fetch.Map(ctx, ex, []int{1, 2, 3})
	fmt.Println(pages, err)
	// Output:
	// [page 1 page 2 page 3] <nil>
}
