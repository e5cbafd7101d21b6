// Command multiprocessing-pool is the Go counterpart of main.py: a pool of
// 4 worker processes, map, then apply_async with close and join; then a
// time limit and retries, declared with the functions.
//
// Run: go run . [--sleep SECONDS]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// The functions the workers run are registered at package level: a worker
// is this same program, started again, and finds them by name.
var (
	task = execkit.Register("example.task", func(ctx context.Context, a taskArg) (string, error) {
		select {
		case <-time.After(a.Sleep):
		case <-ctx.Done(): // unlike time.sleep, cancellable
			return "", ctx.Err()
		}
		return a.Msg + " done", nil
	})
	square = execkit.Register("example.square", func(_ context.Context, x int) (int, error) {
		return x * x, nil
	})

	// flaky calls a flaky service: its first two attempts fail. Retry
	// runs it up to twice more, the first retry after a random wait of up
	// to 10ms, the second up to 20ms: the retry loop main.py writes.
	flaky = execkit.Register("example.flaky", func(_ context.Context, counter string) (string, error) {
		attempt, err := countAttempt(counter)
		if err != nil {
			return "", fmt.Errorf("%w: %w", execkit.ErrPermanent, err) // not worth a retry
		}
		if attempt <= 2 {
			return "", fmt.Errorf("rates service: attempt %d: connection refused", attempt)
		}
		return fmt.Sprintf("ok on attempt %d", attempt), nil
	}, execkit.Retry(2, 10*time.Millisecond))

	// stuck hangs for an hour and ignores its ctx (C code, a blocking
	// read). At its 200ms limit the pool cancels its ctx, kills the worker
	// after the grace of subprocess.CancelGrace, starts another, and
	// retries the call on another worker, up to twice.
	stuck = execkit.Register("example.stuck", func(_ context.Context, counter string) (string, error) {
		if _, err := countAttempt(counter); err != nil {
			return "", fmt.Errorf("%w: %w", execkit.ErrPermanent, err)
		}
		time.Sleep(time.Hour)
		return "", nil
	}, execkit.TimeLimit(200*time.Millisecond), execkit.Retry(2, 10*time.Millisecond))
)

// taskArg is the argument of task: one value, encoded with gob.
type taskArg struct {
	Msg   string
	Sleep time.Duration
}

func main() {
	subprocess.Main() // first: in a worker process it serves the pool and never returns

	seconds := flag.Float64("sleep", 1, "seconds each task sleeps")
	flag.Parse()
	if err := run(time.Duration(*seconds * float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(sleep time.Duration) error {
	ctx := context.Background()
	pool, err := subprocess.New(4)
	if err != nil {
		return err
	}
	squares, err := subprocess.Map(ctx, pool, square, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err != nil {
		return err
	}
	fmt.Println("map:", strings.Trim(fmt.Sprint(squares), "[]"))

	// apply_async: a Future per call; the results are read below, in this
	// goroutine, where Python would run a callback in another thread.
	var futures []*execkit.Future[string]
	for _, msg := range []string{"task1", "task2"} {
		futures = append(futures, task.Go(ctx, pool, taskArg{Msg: msg, Sleep: sleep}))
	}
	if err := pool.Shutdown(ctx); err != nil { // close + join
		return err
	}
	for _, f := range futures {
		r, err := f.Wait(ctx) // a killed worker gives an error here, not a hang
		if err != nil {
			return err
		}
		fmt.Println(r)
	}
	return policies(ctx)
}

// policies calls flaky and stuck, whose retries and time limit were
// declared when they were registered, then maps on the same pool.
func policies(ctx context.Context) (err error) {
	dir, err := os.MkdirTemp("", "multiprocessing-pool")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A stuck worker is killed 100ms after its task's ctx ended.
	pool, err := subprocess.New(4, subprocess.CancelGrace(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pool.Shutdown(ctx)) }()

	r, err := subprocess.Apply(ctx, pool, flaky, filepath.Join(dir, "flaky"))
	if err != nil {
		return err
	}
	fmt.Println("flaky:", r)

	stuckCounter := filepath.Join(dir, "stuck")
	if _, err := subprocess.Apply(ctx, pool, stuck, stuckCounter); !errors.Is(err, execkit.ErrTimeLimit) {
		return fmt.Errorf("stuck returned %v; want its time limit's error", err)
	}
	fi, err := os.Stat(stuckCounter)
	if err != nil {
		return err
	}
	fmt.Printf("stuck: time limit exceeded after %d attempts\n", fi.Size())

	// The pool goes on: each killed worker was replaced.
	squares, err := subprocess.Map(ctx, pool, square, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err != nil {
		return err
	}
	fmt.Println("map after the time limits:", strings.Trim(fmt.Sprint(squares), "[]"))
	return nil
}

// countAttempt adds one to the count of attempts kept in the file named
// counter and returns it: each attempt sees the ones before, whichever
// worker ran them.
func countAttempt(counter string) (int, error) {
	f, err := os.OpenFile(counter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteString("."); err != nil {
		f.Close()
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return int(fi.Size()), f.Close()
}
