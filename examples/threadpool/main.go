// Command threadpool is the Go counterpart of main.py: a pool of three
// workers runs tasks that print a start and a stop line, and the results
// are handled by callbacks in the waiting goroutine, as threadpool's wait()
// does in the waiting thread.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/pool"
)

// task is the work: print, sleep, print, return a result.
func task(ctx context.Context, msg string, sleep time.Duration) (string, error) {
	fmt.Println(msg + " start")
	select {
	case <-time.After(sleep):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	fmt.Println(msg + " stop")
	return msg + " done", nil
}

// callback handles one result; it runs in main's goroutine.
func callback(result string, err error) {
	if err != nil {
		fmt.Println("callback: error:", err)
		return
	}
	fmt.Println("callback:", result)
}

func main() {
	seconds := flag.Float64("sleep", 2, "seconds each task sleeps")
	flag.Parse()
	sleep := time.Duration(*seconds * float64(time.Second))
	ctx := context.Background()

	p, err := pool.New(3) // threadpool.ThreadPool(3)
	if err != nil {
		log.Fatal(err)
	}
	// makeRequests + putRequest: one Future per argument. Submit returns at
	// once while a worker is free and waits for one otherwise.
	var requests []*execkit.Future[string]
	for _, msg := range []string{"task1", "task2", "task3", "task4", "task5"} {
		requests = append(requests, execkit.Go(ctx, p, func(ctx context.Context) (string, error) {
			return task(ctx, msg, sleep)
		}))
	}
	// wait(): handle each result here, in completion order.
	for f := range execkit.AsCompleted(requests) {
		callback(f.Wait(ctx))
	}
	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
}
