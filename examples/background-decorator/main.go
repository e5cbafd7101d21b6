// Command background-decorator is the Go counterpart of a @background
// decorator: fireforget.Background wraps a function so that each call starts
// it on an executor and returns its Thread at once.
//
// Usage: background-decorator [-delay SECONDS]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/execkit/execkit/fireforget"
)

func main() {
	delay := flag.Float64("delay", 10, "seconds each call sleeps")
	flag.Parse()
	if err := run(time.Duration(*delay * float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, "background-decorator:", err)
		os.Exit(1)
	}
}

func run(delay time.Duration) error {
	ctx := context.Background()
	ex, err := fireforget.New()
	if err != nil {
		return err
	}
	defer ex.Shutdown(ctx)

	// The "decorated" function: each call returns at once with a handle.
	task := fireforget.Background(ex, func(ctx context.Context, msg string) error {
		fmt.Println(msg, "start")
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		fmt.Println(msg, "end")
		return nil
	})

	t1, t2 := task(ctx, "task1"), task(ctx, "task2")
	for _, th := range []*fireforget.Thread{t1, t2} {
		if err := th.Join(ctx); err != nil {
			return fmt.Errorf("%s: %w", th.Name(), err)
		}
	}
	return nil
}
