package subprocess

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/execkit/execkit"
)

// TestMapUnorderedEndedChunkNotSent: a MapUnordered whose ctx ended yields
// ctx.Err() once and ends, as its doc says, also when a chunk of it was
// queued and the pool, seeing its ctx ended, resolved it unsent: that
// chunk's error is the ctx's, not an item's (before, the sequence yielded
// "MapUnordered item 0: context canceled" for the chunk that never ran,
// and ended without yielding ctx.Err()).
func TestMapUnorderedEndedChunkNotSent(t *testing.T) {
	p, err := New(1, Prefetch(0)) // behind a busy worker, the chunk stays queued
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Terminate)
	held, _ := holding(t, p)
	path := filepath.Join(t.TempDir(), "starts")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	queued, proceed := make(chan struct{}), make(chan struct{})
	items := func(yield func(startArg) bool) {
		if !yield(startArg{Path: path, N: 1}) {
			return
		}
		close(queued) // MapUnordered queued the one chunk before asking for more
		<-proceed
	}
	type result struct {
		v   int
		err error
	}
	results := make(chan []result, 1)
	go func() {
		var rs []result
		for v, err := range MapUnordered(ctx, p, logStart, items) {
			rs = append(rs, result{v, err})
		}
		results <- rs
	}()
	<-queued
	cancel()
	held.Cancel() // the worker falls idle: its feeder sees the chunk's ctx ended
	poll(t, p, "the chunk is resolved unsent", func() bool { return p.calls.len() == 0 })
	close(proceed)
	var rs []result
	select {
	case rs = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("MapUnordered did not end within 10s")
	}
	if len(rs) != 1 || rs[0].err != context.Canceled {
		var got []string
		for _, r := range rs {
			got = append(got, fmt.Sprintf("(%d, %v)", r.v, r.err))
		}
		t.Errorf("MapUnordered yielded %s; want one (0, context canceled)", strings.Join(got, ", "))
	}
	if n := lines(t, path); n != 0 {
		t.Errorf("the chunk ran %d times after its ctx ended; want 0", n)
	}
}

// length returns the length of its argument.
var length = execkit.Register("subprocess.internal.length", func(_ context.Context, b []byte) (int, error) { return len(b), nil })

// TestResolvedCallReleased: once a call resolved and its caller let go of
// it, the pool keeps no reference to it, nor so to its frame, results and
// ctx (a request's values): a worker's list of the calls it holds kept the
// last one it answered in its spare capacity, and with it the ctx the call
// was dispatched with, for as long as the pool lived.
func TestResolvedCallReleased(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Terminate)
	type key struct{}
	value := new([1 << 10]byte)
	wv := weak.Make(value)
	ctx := context.WithValue(context.Background(), key{}, value)
	var wcs []weak.Pointer[call]
	for _, size := range []int{1, 2 * fastFrame} { // a small call is sent by dispatch, a large one by the feeder
		arg, err := length.Codec().Marshal(make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.newCall(frameCall, request{name: length.Name(), args: [][]byte{arg}}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := p.dispatch(ctx, true, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if w != nil {
			p.readFor(ctx, w, c)
		} else {
			p.await(ctx, c)
		}
		if c.err != nil {
			t.Fatal(c.err)
		}
		if len(c.frame) > fastFrame != (size > 1) {
			t.Fatalf("a frame of %d bytes for an argument of %d", len(c.frame), size)
		}
		wcs = append(wcs, weak.Make(c))
	}
	value, ctx = nil, nil
	runtime.GC()
	runtime.GC()
	for i, wc := range wcs {
		if wc.Value() != nil {
			t.Errorf("the pool still refers to call %d, resolved and let go of", i)
		}
	}
	if wv.Value() != nil {
		t.Error("the pool still refers to the ctx of a call resolved and let go of")
	}
}
