package subprocess

import (
	"context"
	"os"
	"sync"
	"testing"
)

// TestWorkerAnswerOrder races the end of a running job A against a REVOKE
// or a CANCEL of B, the job queued next (C is queued behind it), in the
// worker, and checks what the pool relies on to start a call's clock when
// the answer of the call ahead of it arrives: when B does not run, the
// frame that says so (REVOKED, or B's cancelled RESULT) is written before
// A's RESULT; when B runs, no such frame is written at all. Before the
// worker wrote A's answer and chose the next job under one lock, a REVOKE
// read between the two put REVOKED(B) after RESULT(A): the pool started
// the clock of B, which then waited for another worker with its TimeLimit
// running.
func TestWorkerAnswerOrder(t *testing.T) {
	const a, b, c = 1, 2, 3
	for _, typ := range []byte{frameRevoke, frameCancel} {
		for round := range 300 {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			ws := &workerSide{out: w, jobs: make(map[uint64]*job), done: make(chan struct{}), running: true}
			mk := func(id uint64) *job {
				j := &job{id: id, req: request{name: "test.order", args: [][]byte{nil}}}
				j.ctx, j.cancel = context.WithCancel(context.Background())
				ws.jobs[id] = j
				return j
			}
			ja := mk(a)
			ja.started = true
			ws.queue = []*job{mk(b), mk(c)}

			var next *job
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				var err error
				if next, err = ws.finish(ja, []outcome{{kind: kindOK}}); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				if typ == frameRevoke {
					ws.revoke(b)
				} else {
					ws.cancel(b, false)
				}
			}()
			wg.Wait()
			w.Close()

			// The frames in the order the pool reads them.
			fr := newFrameReader(r)
			resultA, aboutB := -1, -1
			for i := 0; ; i++ {
				ft, id, _, err := fr.read()
				if err != nil {
					break
				}
				switch {
				case ft == frameResult && id == a:
					resultA = i
				case id == b && (ft == frameRevoked || ft == frameResult):
					aboutB = i
				}
			}
			r.Close()
			if resultA < 0 {
				t.Fatalf("round %d: no RESULT for A", round)
			}
			switch {
			case next == nil:
				t.Fatalf("round %d: no job runs after A; want B or C", round)
			case next.id == b:
				if aboutB >= 0 {
					t.Fatalf("round %d, frame type %d: B runs, yet a frame gave it up (frame %d)", round, typ, aboutB)
				}
			case next.id == c:
				if aboutB < 0 || aboutB > resultA {
					t.Fatalf("round %d, frame type %d: C runs and B was given up at frame %d, after A's RESULT at frame %d: the pool starts B's clock at A's RESULT", round, typ, aboutB, resultA)
				}
			}
		}
	}
}
