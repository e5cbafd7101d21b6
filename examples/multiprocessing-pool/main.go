// Command multiprocessing-pool is the Go counterpart of main.py: a pool of
// 4 worker processes, map, then apply_async with close and join.
//
// Run: go run . [--sleep SECONDS]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
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
	return nil
}
