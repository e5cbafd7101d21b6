// Command webpy-background is the Go counterpart of web.py's
// @backgrounder/@background example: GET / prints two lines, starts a
// background function that prints a line every interval ten times, and
// redirects to /?_t=<job id>; that page shows everything printed so far and
// reloads itself until the job is done.
//
// Usage: webpy-background [-addr HOST:PORT] [-interval SECONDS] [-refresh SECONDS]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/execkit/execkit/fireforget"
)

// now formats the time the way Python prints datetime.now().
func now() string { return time.Now().Format("2006-01-02 15:04:05.000000") }

// index is the request side (web.py's GET under @backgrounder): what it
// writes opens the job's output, and the function it returns runs in the
// background.
func index(interval time.Duration) fireforget.HandlerFunc {
	return func(out io.Writer, r *http.Request) (fireforget.JobFunc, error) {
		fmt.Fprintf(out, "Started at %s\n", now())
		fmt.Fprintln(out, "hit f5 to refresh!")
		return longrunning(interval), nil
	}
}

// longrunning is the @background function: a line every interval, ten times.
func longrunning(interval time.Duration) fireforget.JobFunc {
	return func(ctx context.Context, out io.Writer) error {
		for i := range 10 {
			select {
			case <-time.After(interval):
			case <-ctx.Done():
				return ctx.Err()
			}
			fmt.Fprintf(out, "%d: %s\n", i, now())
		}
		return nil
	}
}

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	interval := flag.Float64("interval", 1, "seconds between the background lines")
	refresh := flag.Int("refresh", 1, "seconds between reloads of the job page")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, time.Duration(*interval*float64(time.Second)), time.Duration(*refresh)*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "webpy-background:", err)
		os.Exit(1)
	}
}

// serve runs the server until ctx ends, then stops taking requests and
// waits (a few seconds at most) for running jobs.
func serve(ctx context.Context, addr string, interval, refresh time.Duration) error {
	reg, err := fireforget.NewRegistry(fireforget.RefreshEvery(refresh))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", reg.Handler(index(interval)))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if rerr := reg.Shutdown(sctx); rerr != nil {
		err = errors.Join(err, fmt.Errorf("jobs still running: %w", rerr))
	}
	return err
}
