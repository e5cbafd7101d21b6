package compare_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

// Counters and the cancel of slowStop's run, set by the test in its bubble.
var (
	slowStopCancel           context.CancelFunc
	slowStopIn               atomic.Int64
	slowStopStarted, slowEnd atomic.Int64
)

// slowStop waits a millisecond per call; the first time two of its calls
// run at once (the first concurrent strategy) it cancels Run's ctx, and
// every call in flight takes 10ms to clean up once its ctx has ended, as a
// function that closes a connection does.
var slowStop = execkit.Register("compare_test.slowStop", func(ctx context.Context, x int) (int, error) {
	slowStopStarted.Add(1)
	defer slowEnd.Add(1)
	if slowStopIn.Add(1) >= 2 {
		slowStopCancel()
	}
	defer slowStopIn.Add(-1)
	select {
	case <-time.After(time.Millisecond):
		return x, nil
	case <-ctx.Done():
		time.Sleep(10 * time.Millisecond)
		return 0, ctx.Err()
	}
})

// TestRunCancelWaitsForCallsInFlight: when ctx ends while a strategy's
// calls are in flight, Run returns only once they have returned and its
// executor has shut down, as its doc says (it returned at once, the calls
// still cleaning up and the executor's goroutines still running, so that a
// goleak check after Run failed).
func TestRunCancelWaitsForCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		slowStopCancel = cancel
		slowStopStarted.Store(0)
		slowEnd.Store(0)
		base := bubbleGoroutines()
		_, err := compare.Run(ctx, slowStop, []int{1}, compare.TimePerStrategy(20*time.Millisecond), compare.Batch(8))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v; want context.Canceled", err)
		}
		if started, ended := slowStopStarted.Load(), slowEnd.Load(); started != ended {
			t.Errorf("Run returned with %d of %d calls still running; want every call returned", started-ended, started)
		}
		// Run's own goroutines, done, finish exiting (Wait does not move
		// the clock). Only this bubble's count: goroutines of earlier
		// tests (an abandoned measurement's executor) come and go.
		synctest.Wait()
		if n := bubbleGoroutines(); n > base {
			t.Errorf("%d goroutines in the test's bubble after Run; want at most %d, as before it", n, base)
		}
	})
}

// TestRunGoexitInline: a function that ends its goroutine (runtime.Goexit,
// as t.FailNow does) ends the goroutine of the inline strategy's calls;
// Run says so at once (it waited for ctx to end, for ever without a
// deadline, then said the function ignored its ctx).
func TestRunGoexitInline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		start := time.Now()
		_, err := compare.Run(ctx, goexits, []int{1}, compare.TimePerStrategy(10*time.Millisecond))
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run of a function that calls runtime.Goexit: %v; want an error saying so", err)
		}
		for _, w := range []string{"compare: inline: ", "runtime.Goexit"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q; want it to say %q", err, w)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Run returned after %v; want at once", d)
		}
	})
}

var goexits = execkit.Register("compare_test.goexits", func(_ context.Context, x int) (int, error) {
	runtime.Goexit()
	return x, nil
})

// bubbleGoroutines counts the goroutines of the caller's synctest bubble,
// by the "synctest bubble N" in their tracebacks' headers.
func bubbleGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	bubble := func(header []byte) string { // "synctest bubble N", or ""
		_, id, ok := bytes.Cut(header, []byte("synctest bubble "))
		if !ok {
			return ""
		}
		end := bytes.IndexAny(id, ",]")
		if end < 0 {
			return ""
		}
		return string(id[:end])
	}
	self, _, _ := bytes.Cut(buf, []byte("\n")) // the caller's header comes first
	mine := bubble(self)
	if mine == "" {
		panic("compare_test: bubbleGoroutines called outside a synctest bubble")
	}
	n := 0
	for line := range bytes.Lines(buf) {
		if bytes.HasPrefix(line, []byte("goroutine ")) && bubble(line) == mine {
			n++
		}
	}
	return n
}
