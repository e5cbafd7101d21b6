package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// Functions that run in workers are registered at package level, so that
// every process running this binary registers them the same way.
var (
	square = execkit.Register("example.square", func(_ context.Context, x int) (int, error) {
		return x * x, nil
	})
	greet = execkit.Register("example.greet", func(_ context.Context, name string) (string, error) {
		return "hello, " + name, nil
	})
	crash = execkit.Register("example.crash", func(context.Context, struct{}) (int, error) {
		fmt.Fprintln(os.Stderr, "out of luck")
		os.Exit(3)
		return 0, nil
	})
	sleepy = execkit.Register("example.sleepy", func(context.Context, time.Duration) (int, error) {
		time.Sleep(time.Hour) // ignores its context
		return 0, nil
	})
	// exampleConn is what the initializer opens in each worker.
	exampleConn    string
	exampleConnect = execkit.Register("example.connect", func(_ context.Context, dsn string) (struct{}, error) {
		exampleConn = "connected to " + dsn
		return struct{}{}, nil
	})
	exampleQuery = execkit.Register("example.query", func(context.Context, struct{}) (string, error) {
		return exampleConn, nil
	})
	exampleFail = execkit.Register("example.fail", func(_ context.Context, msg string) (struct{}, error) {
		return struct{}{}, errors.New(msg)
	})
)

// Apply runs one call in a worker process and waits for its result.
func Example() {
	pool, err := subprocess.New(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(context.Background())

	v, err := subprocess.Apply(context.Background(), pool, square, 12)
	fmt.Println(v, err)
	// Output: 144 <nil>
}

// Main comes first in main: in a worker process it serves the pool and
// never returns.
func ExampleMain() {
	// func main() {
	subprocess.Main()
	// ... the program, which may create pools
	// }
	fmt.Println("not a worker: Main returned")
	// Output: not a worker: Main returned
}

// The counterpart of apply_async followed by close and join: futures, then
// Shutdown, which lets every admitted task finish.
func ExamplePool_Shutdown() {
	ctx := context.Background()
	pool, err := subprocess.New(4)
	if err != nil {
		fmt.Println(err)
		return
	}
	var futures []*execkit.Future[string]
	for _, name := range []string{"task1", "task2"} {
		futures = append(futures, greet.Go(ctx, pool, name))
	}
	if err := pool.Shutdown(ctx); err != nil { // close + join
		fmt.Println(err)
	}
	for _, f := range futures {
		fmt.Println(f.Wait(ctx))
	}
	// Output:
	// hello, task1 <nil>
	// hello, task2 <nil>
}

// Terminate stops at once: unfinished tasks fail with ErrTerminated.
func ExamplePool_Terminate() {
	ctx := context.Background()
	pool, err := subprocess.New(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	f := sleepy.Go(ctx, pool, time.Hour)
	pool.Terminate()
	_, err = f.Wait(ctx)
	fmt.Println(err)
	// Output: subprocess: pool terminated
}

// Map keeps the input order; items travel in chunks.
func ExampleMap() {
	ctx := context.Background()
	pool, err := subprocess.New(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(ctx)

	squares, err := subprocess.Map(ctx, pool, square, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	fmt.Println(squares, err)
	squares, err = subprocess.Map(ctx, pool, square, []int{1, 2, 3}, subprocess.ChunkSize(1))
	fmt.Println(squares, err)
	// Output:
	// [1 4 9 16 25 36 49 64 81 100] <nil>
	// [1 4 9] <nil>
}

// MapUnordered yields results as they come; it reads its input only as
// fast as the results are taken.
func ExampleMapUnordered() {
	ctx := context.Background()
	pool, err := subprocess.New(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(ctx)

	var got []int
	for v, err := range subprocess.MapUnordered(ctx, pool, square, slices.Values([]int{3, 1, 2})) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		got = append(got, v)
	}
	slices.Sort(got)
	fmt.Println(got)
	// Output: [1 4 9]
}

// A worker that dies fails only the task it was running, with a
// *WorkerError; the pool starts a replacement.
func ExampleWorkerError() {
	ctx := context.Background()
	pool, err := subprocess.New(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(ctx)

	_, err = subprocess.Apply(ctx, pool, crash, struct{}{})
	var we *subprocess.WorkerError
	if errors.As(err, &we) {
		fmt.Printf("exit status %d, stderr %q\n", we.ExitCode, we.Stderr)
	}
	v, err := subprocess.Apply(ctx, pool, square, 3)
	fmt.Println(v, err)
	// Output:
	// exit status 3, stderr "out of luck\n"
	// 9 <nil>
}

// A call whose context ends is cancelled in its worker; a function that
// ignores its context has its worker killed after the grace period.
func ExampleCancelGrace() {
	pool, err := subprocess.New(1, subprocess.CancelGrace(10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = subprocess.Apply(ctx, pool, sleepy, time.Hour)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// The initializer runs once in each worker, before its tasks; with
// MaxTasksPerChild workers are replaced (and initialized) after 2 calls.
func ExampleInitializer() {
	ctx := context.Background()
	pool, err := subprocess.New(1,
		subprocess.Initializer(exampleConnect, "db://example"),
		subprocess.MaxTasksPerChild(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(ctx)

	for range 3 {
		fmt.Println(subprocess.Apply(ctx, pool, exampleQuery, struct{}{}))
	}
	// Output:
	// connected to db://example <nil>
	// connected to db://example <nil>
	// connected to db://example <nil>
}

// Tasks submitted without a Future report their errors to the handler.
func ExampleOnError() {
	ctx := context.Background()
	errs := make(chan error, 1)
	pool, err := subprocess.New(1, subprocess.OnError(func(err error) { errs <- err }))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := pool.Submit(ctx, exampleFail.Task("no luck")); err != nil {
		fmt.Println(err)
	}
	pool.Shutdown(ctx)
	fmt.Println(<-errs)
	// Output: no luck
}
