// Command compare-your-function asks execkit which strategy suits two
// functions a Python programmer knows: hashing a buffer (CPU-bound: in
// Python, the threads-or-processes question) and an HTTP call to a server
// that takes 5 ms to answer (it waits: in Python, a thread pool). It
// measures each on every execkit strategy with compare.Run and prints the
// table and the advice. bench_test.go does the same from go test -bench.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
	"github.com/execkit/execkit/subprocess"
)

// client keeps enough idle connections for every call in flight, so that
// a thousand calls at once reuse connections instead of exhausting ports.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2048}}

var (
	// Hash is hashlib.sha256(buf).hexdigest()[:16]: pure CPU.
	Hash = execkit.Register("example.hash", func(_ context.Context, buf []byte) (string, error) {
		sum := sha256.Sum256(buf)
		return hex.EncodeToString(sum[:8]), nil
	})

	// Fetch is urllib.request.urlopen(url).status: it waits for the server.
	Fetch = execkit.Register("example.fetch", func(ctx context.Context, url string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	})
)

// newServer answers every request after ?ms= milliseconds.
func newServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
		}
		fmt.Fprintln(w, "ok")
	}))
}

// buffers are the hash's samples: four buffers of 1 MiB.
func buffers() [][]byte {
	bufs := make([][]byte, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 1<<20)
		for j := range bufs[i] {
			bufs[i][j] = byte(i + j)
		}
	}
	return bufs
}

func main() {
	subprocess.Main() // lets compare include the subprocess strategy
	per := flag.Duration("time", compare.DefaultTimePerStrategy, "measuring time per strategy")
	flag.Parse()
	srv := newServer()
	defer srv.Close()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	opts := []compare.RunOption{compare.TimePerStrategy(*per), compare.Progress(os.Stderr)}

	hashes, err := compare.Run(ctx, Hash, buffers(), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(hashes)
	fetches, err := compare.Run(ctx, Fetch, []string{srv.URL + "/?ms=5"}, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(fetches)
}
