package subprocess

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// bellStarted hears of each bellWait call that started, in this process
// (TestBellRoles serves a worker in process).
var bellStarted = make(chan int, 16)

// bellWait tells bellStarted it started, then waits for its ctx to end,
// or, with a negative argument, returns at once.
var bellWait = execkit.Register("test.bellWait", func(ctx context.Context, x int) (int, error) {
	if x < 0 {
		return x, nil
	}
	bellStarted <- x
	<-ctx.Done()
	return x, ctx.Err()
})

// payloadOf returns the encoded argument of f's task for in.
func payloadOf[In, Out any](t *testing.T, f *execkit.Func[In, Out], in In) []byte {
	t.Helper()
	var got []byte
	stop := errors.New("captured")
	err := f.Task(in).(driver.Portable).RunVia(context.Background(), func(_ context.Context, _ string, p []byte) ([]byte, error) {
		got = p
		return nil, stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("encoding the argument: %v", err)
	}
	return got
}

// TestBellRoles serves a worker in process (workerSide, its two loops and
// the bell's listener) and, as the pool does, writes CALL frames, and
// CANCEL frames each followed by a byte on the bell, in every order the
// pool may produce them relative to the worker's own steps: the CANCEL
// of a running call written after it started, with the CALL in one write,
// while a short call ends, for a call queued behind a running one, and
// short calls between. Every CANCEL must be read while the call runs (the
// call waits for its ctx to end), the two loops must never read at once
// (the race detector and the frame reader would see it), and once the
// pool closes its pipes the worker must end: reading ended, no job left,
// and the loops and the listener returned.
func TestBellRoles(t *testing.T) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	bellR, bellW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer resR.Close()
	ws := &workerSide{
		out:  resW,
		fr:   newFrameReader(reqR),
		bell: bellR,
		jobs: make(map[uint64]*job),
		done: make(chan struct{}),
	}
	var loops sync.WaitGroup
	loops.Add(3)
	go func() { defer loops.Done(); ws.listen() }()
	go func() { defer loops.Done(); ws.loop() }()
	go func() { defer loops.Done(); ws.loop() }()

	results := make(chan uint64, 64)
	go func() {
		defer close(results)
		fr := newFrameReader(resR)
		for {
			typ, id, _, err := fr.read()
			if err != nil {
				return
			}
			if typ != frameResult {
				t.Errorf("frame type %d for call %d; want RESULT", typ, id)
			}
			results <- id
		}
	}()

	call := func(id uint64, x int) []byte {
		req := request{name: bellWait.Name(), args: [][]byte{payloadOf(t, bellWait, x)}}
		b, err := appendFrame(nil, frameCall, id, req.append)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cancelFrame := func(id uint64) []byte {
		b, _ := appendFrame(nil, frameCancel, id, nil)
		return b
	}
	write := func(b ...[]byte) {
		var all []byte
		for _, f := range b {
			all = append(all, f...)
		}
		if _, err := reqW.Write(all); err != nil {
			t.Fatal(err)
		}
	}
	ring := func(n int) {
		if _, err := bellW.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	const bound = 20 * time.Second // a bound, not an order: a lost CANCEL waits forever
	answered := func(round int, want ...uint64) {
		t.Helper()
		left := map[uint64]bool{}
		for _, id := range want {
			left[id] = true
		}
		timeout := time.After(bound)
		for len(left) > 0 {
			select {
			case id := <-results:
				if !left[id] {
					t.Fatalf("round %d: an answer for call %d; want one of %v", round, id, left)
				}
				delete(left, id)
			case <-timeout:
				t.Fatalf("round %d: no answer for %v after %v: a CANCEL was not read while its call ran", round, left, bound)
			}
		}
	}
	awaitStart := func(round, x int) {
		t.Helper()
		select {
		case got := <-bellStarted:
			if got != x {
				t.Fatalf("round %d: call %d started; want %d", round, got, x)
			}
		case <-time.After(bound):
			t.Fatalf("round %d: call %d did not start", round, x)
		}
	}

	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	id := uint64(0)
	for round := range rounds {
		id++
		a := id
		switch rng.IntN(5) {
		case 0: // the CANCEL after the call started
			write(call(a, int(a)))
			awaitStart(round, int(a))
			write(cancelFrame(a))
			ring(1)
			answered(round, a)
		case 1: // the CALL and its CANCEL in one write: read before the ring, or the call lent first
			write(call(a, int(a)), cancelFrame(a))
			ring(1)
			answered(round, a)
			select {
			case <-bellStarted: // a may have started before its CANCEL was read
			default:
			}
		case 2: // a short call ends while the CANCEL of the next travels
			id++
			b := id
			write(call(a, -1), call(b, int(b)))
			write(cancelFrame(b))
			ring(1)
			answered(round, a, b)
			select {
			case <-bellStarted: // b may have started before its CANCEL was read
			default:
			}
		case 3: // a call queued behind a running one is cancelled first, then the running one
			id++
			b := id
			write(call(a, int(a)), call(b, int(b)))
			awaitStart(round, int(a))
			write(cancelFrame(b))
			ring(1)
			answered(round, b)
			write(cancelFrame(a))
			ring(1)
			answered(round, a)
		case 4: // short calls only, then one cancelled while it runs
			n := 1 + rng.IntN(4)
			var ids []uint64
			for range n {
				write(call(id, -1))
				ids = append(ids, id)
				id++
			}
			answered(round, ids...)
			a = id
			write(call(a, int(a)))
			awaitStart(round, int(a))
			write(cancelFrame(a))
			ring(1)
			answered(round, a)
		}
	}

	// The pool lets the worker go: it closes both pipes.
	reqW.Close()
	bellW.Close()
	select {
	case <-ws.done:
	case <-time.After(bound):
		t.Fatal("the worker did not end after the pool closed its pipes")
	}
	if ws.readErr != io.EOF {
		t.Errorf("reading ended with %v; want io.EOF", ws.readErr)
	}
	ended := make(chan struct{})
	go func() { loops.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(bound):
		t.Fatal("a loop or the listener did not return after the pool closed its pipes")
	}
	reqR.Close()
	bellR.Close()
	resW.Close()
	for range results {
	}
}
