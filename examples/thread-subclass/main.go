// Command thread-subclass is the Go counterpart of a threading.Thread
// subclass that downloads a URL to a file after a delay: a struct with a
// Run(ctx) error method, started as a fireforget.Thread.
//
// Usage: thread-subclass [-delay SECONDS] URL FILE
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/execkit/execkit/fireforget"
)

// Download fetches URL into Location, Delay after it was started. It is an
// execkit.Task: the counterpart of overriding Thread.run.
type Download struct {
	URL, Location string
	Delay         time.Duration
	Size          int64 // bytes saved; read it after Join
}

// Run waits Delay (or until ctx ends), then saves the URL's body. Its error
// reaches Thread.Join, unlike an exception in Python's run.
func (d *Download) Run(ctx context.Context) error {
	select {
	case <-time.After(d.Delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", d.URL, resp.Status)
	}
	f, err := os.Create(d.Location)
	if err != nil {
		return err
	}
	d.Size, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func main() {
	delay := flag.Float64("delay", 10, "seconds to wait before fetching")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: thread-subclass [-delay SECONDS] URL FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), time.Duration(*delay*float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, "thread-subclass:", err)
		os.Exit(1)
	}
}

func run(url, location string, delay time.Duration) error {
	ctx := context.Background()
	ex, err := fireforget.New()
	if err != nil {
		return err
	}
	defer ex.Shutdown(ctx)

	d := &Download{URL: url, Location: location, Delay: delay}
	th := fireforget.NewThread("download", d)
	if err := th.Start(ctx, ex); err != nil {
		return err
	}
	fmt.Println("started", th.Name())
	if err := th.Join(ctx); err != nil { // the download's own error, or a panic with its stack
		return err
	}
	fmt.Printf("saved %d bytes to %s\n", d.Size, location)
	return nil
}
