package subprocess

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestEndedCallNotSent: a queued call whose context ended is not sent,
// even while its caller has not cancelled it yet. A Future's task hears
// that its ctx ended a moment after Future.Cancel returned (await and
// readFor cancel the call from the task's goroutine, or an AfterFunc's);
// before, a worker that fell idle meanwhile was sent the call, and the
// task started after Cancel returned. The call here has no caller at all:
// only the pool can keep it from being sent.
func TestEndedCallNotSent(t *testing.T) {
	p, err := New(1, Prefetch(0)) // a call is sent only to an idle worker: a sent call starts
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Terminate)
	held, _ := holding(t, p)
	path := filepath.Join(t.TempDir(), "starts")
	arg, err := logStart.Codec().Marshal(startArg{Path: path, N: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.newCall(frameCall, request{name: logStart.Name(), args: [][]byte{arg}}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.enqueue(ctx, c); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	state := c.state
	p.mu.Unlock()
	if state != queued {
		t.Fatalf("the call is in state %d behind a busy worker with Prefetch(0); want queued", state)
	}
	cancel()
	held.Cancel() // the worker falls idle; its feeder looks at the queue
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the call whose ctx ended was not resolved within 10s")
	}
	if !errors.Is(c.err, context.Canceled) {
		t.Errorf("the call whose ctx ended resolved with %v, %d outcomes; want context.Canceled", c.err, len(c.outs))
	}
	// A call sent would have run by now: the worker answered it.
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the call whose ctx ended before it was sent ran (Stat = %v)", err)
	}
}
