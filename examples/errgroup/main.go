// Command errgroup is the Go counterpart of main.py: it fetches four URLs
// from a local test server, at most two at a time; /b fails, which cancels
// the request still running (/c) and keeps the one not started yet (/d)
// from starting.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// newServer serves the four paths. Its handlers coordinate so that every
// run tells the same story: /a answers at once; /c starts, then waits for
// its client to give up; /b fails once /c is running.
func newServer() *httptest.Server {
	cStarted := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from a")
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-cStarted:
		case <-r.Context().Done():
			return
		}
		http.Error(w, "b is broken", http.StatusInternalServerError)
	})
	mux.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) {
		close(cStarted)
		<-r.Context().Done() // the client cancelled the request
	})
	mux.HandleFunc("/d", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from d")
	})
	return httptest.NewServer(mux)
}

// errCancelled marks a request the group cancelled.
var errCancelled = errors.New("cancelled")

// fetch GETs url with ctx, so that cancelling ctx abandons the request.
func fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

func main() {
	srv := newServer()
	defer srv.Close()
	ctx := context.Background()

	g, err := errgroup.New(errgroup.Limit(2)) // at most two requests at once
	if err != nil {
		log.Fatal(err)
	}
	paths := []string{"/a", "/b", "/c", "/d"}
	results := make(map[string]*execkit.Future[string])
	for _, path := range paths {
		// Go waits while two requests run; after the failure it does not
		// start the task and its Future carries errgroup.ErrGroupFailed.
		results[path] = execkit.Go(ctx, g, func(ctx context.Context) (string, error) {
			body, err := fetch(ctx, srv.URL+path)
			if err != nil && ctx.Err() != nil { // the group gave up on this request
				return "", fmt.Errorf("%w (cause: %w)", errCancelled, context.Cause(ctx))
			}
			return body, err
		})
	}
	first := g.Shutdown(ctx) // waits for the tasks: the first error, or nil

	for _, path := range paths {
		body, err := results[path].Wait(ctx)
		switch {
		case err == nil:
			fmt.Printf("%s: ok (%s)\n", path, body)
		case errors.Is(err, errgroup.ErrGroupFailed):
			fmt.Printf("%s: not started\n", path)
		case errors.Is(err, errCancelled):
			fmt.Printf("%s: %v\n", path, err)
		default:
			fmt.Printf("%s: failed: %v\n", path, err)
		}
	}
	fmt.Println("first error:", first)
}
