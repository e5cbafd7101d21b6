package subprocess

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// maxFrameEnv lowers the frame limit in a test's pool and its workers, so
// that the tests of large payloads move kilobytes, not hundreds of
// megabytes (which take minutes under -race).
const maxFrameEnv = "SUBPROCESS_TEST_MAX_FRAME"

func init() {
	if s := os.Getenv(maxFrameEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			panic(err)
		}
		maxFrame = n
	}
}

// SetMaxFrame sets the frame limit to n bytes, in this process and in the
// workers started during the test; call it before starting its pools (the
// limit is restored after their cleanup).
func SetMaxFrame(t testing.TB, n int) {
	old := maxFrame
	t.Setenv(maxFrameEnv, strconv.Itoa(n))
	maxFrame = n
	t.Cleanup(func() { maxFrame = old })
}

// WriteResultPipe writes b to the worker's result pipe, wherever init moved
// it: the tests' stand-in for a task that found the pipe anyway.
func WriteResultPipe(b []byte) error {
	_, err := syscall.Write(protocolFds.results, b)
	return err
}

// SetFrameStall sets the bound of frameStall for the pools started until
// restore is called.
func SetFrameStall(d time.Duration) (restore func()) {
	old := frameStall
	frameStall = d
	return func() { frameStall = old }
}

// Held returns how many calls p's workers hold (sent, not answered).
func Held(p *Pool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for w := range p.workers {
		n += len(w.sent)
	}
	return n
}

// AwaitPlaced waits until n calls are placed: queued for the workers or
// sent to one (not those still being prepared by their tasks).
func (p *Pool) AwaitPlaced(t testing.TB, n int) {
	t.Helper()
	p.awaitCount(t, "calls placed", n, func() int {
		placed := p.calls.len()
		for w := range p.workers {
			placed += len(w.sent)
		}
		return placed
	})
}

// awaitCount waits until count, called with p.mu held, returns at least n,
// for at most a minute.
func (p *Pool) awaitCount(t testing.TB, what string, n int, count func() int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		p.mu.Lock()
		got := count()
		p.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, %d %s; want %d", got, what, n)
		}
		time.Sleep(time.Millisecond)
	}
}
