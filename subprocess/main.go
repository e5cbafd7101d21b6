package subprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/execkit/execkit"
)

// envMarker is set in the environment of a worker process; Main sees it,
// clears it (so that programs the task starts do not see it) and serves.
const envMarker = "EXECKIT_SUBPROCESS_WORKER"

// The worker's ends of the protocol pipes (exec.Cmd.ExtraFiles 0 and 1).
const (
	fdRequests = 3
	fdResults  = 4
)

// Exit statuses of a worker that stops by itself.
const (
	exitSetup    = 2 // the protocol pipes are missing: not started by a Pool
	exitProtocol = 3 // the pool sent a frame that does not decode
	exitWrite    = 4 // a result could not be written (the pool is gone)
)

var mainCalled atomic.Bool

// Main makes this program able to serve as a worker of a [Pool]. Call it
// first thing in main, and in TestMain of every test binary that creates a
// Pool, before anything else runs (flag parsing, goroutines, output):
//
//	func main() {
//		subprocess.Main()
//		// the program as usual
//	}
//
// In a process started by a Pool, Main never returns: it serves the pool
// and exits when the pool lets it go. Everywhere else it returns at once,
// having only recorded that it was called, which [New] checks. It is safe
// to call more than once.
func Main() {
	mainCalled.Store(true)
	if _, ok := os.LookupEnv(envMarker); !ok {
		return
	}
	os.Unsetenv(envMarker)
	os.Exit(serveWorker())
}

// job is one INIT or CALL frame in the worker.
type job struct {
	id      uint64
	req     request
	ctx     context.Context
	cancel  context.CancelFunc
	started bool // the runner took it: CANCEL cancels ctx instead of answering
}

// workerSide is the state of the serving worker.
type workerSide struct {
	wmu sync.Mutex // held while writing to out
	out *os.File
	buf []byte

	mu   sync.Mutex
	jobs map[uint64]*job // received and not answered yet
}

// serveWorker runs the worker: HELLO, then jobs in arrival order until the
// pool closes the request pipe. It returns the exit status.
func serveWorker() int {
	// The pipes must not leak into programs a task starts: a grandchild
	// holding the result pipe would hide this worker's death from the pool.
	if err := closeOnExec(fdRequests, fdResults); err != nil {
		fmt.Fprintf(os.Stderr, "subprocess: worker: %v (was this process started by a subprocess.Pool?)\n", err)
		return exitSetup
	}
	in := os.NewFile(fdRequests, "subprocess-requests")
	ws := &workerSide{
		out:  os.NewFile(fdResults, "subprocess-results"),
		jobs: make(map[uint64]*job),
	}
	h := hello{version: protocolVersion, pid: os.Getpid(), hash: execkit.RegistryHash()}
	if err := ws.send(frameHello, 0, h.append); err != nil {
		return exitWrite
	}

	// The reader hands jobs to the runner (this goroutine) in order and
	// handles CANCEL at once. The pool keeps at most a few calls
	// outstanding per worker, so the channel rarely fills.
	queue := make(chan *job, 2*perWorker)
	readErr := make(chan error, 1)
	go func() {
		defer close(queue)
		fr := newFrameReader(in)
		for {
			typ, id, payload, err := fr.read()
			if err != nil {
				readErr <- err
				return
			}
			switch typ {
			case frameInit, frameCall:
				req, err := decodeRequest(payload)
				if err != nil {
					readErr <- err
					return
				}
				j := &job{id: id, req: req}
				j.ctx, j.cancel = context.WithCancel(context.Background())
				ws.mu.Lock()
				ws.jobs[id] = j
				ws.mu.Unlock()
				queue <- j
			case frameCancel:
				ws.cancel(id)
			case frameRevoke:
				ws.revoke(id)
			default:
				readErr <- fmt.Errorf("%w: unexpected frame type %d from the pool", ErrProtocol, typ)
				return
			}
		}
	}()

	for j := range queue {
		if !ws.start(j) {
			continue // cancelled before it started, and answered
		}
		outs := make([]outcome, len(j.req.args))
		for i, arg := range j.req.args {
			if j.ctx.Err() != nil {
				outs[i] = outcomeOf(j.ctx.Err())
				continue
			}
			res, err := execkit.Invoke(j.ctx, j.req.name, arg)
			if err != nil {
				outs[i] = outcomeOf(err)
			} else {
				outs[i] = outcome{kind: kindOK, data: res}
			}
		}
		j.cancel()
		ws.mu.Lock()
		if ws.jobs[j.id] == j {
			delete(ws.jobs, j.id)
		}
		ws.mu.Unlock()
		if err := ws.answer(j.id, outs); err != nil {
			return exitWrite
		}
	}
	if err := <-readErr; err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "subprocess: worker %d: reading requests: %v\n", os.Getpid(), err)
		return exitProtocol
	}
	return 0
}

// start marks j as taken by the runner; false means a CANCEL answered it
// or a REVOKE gave it back (the pool may even have sent it here again, as
// a new job with the same id, queued behind this one).
func (ws *workerSide) start(j *job) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.jobs[j.id] != j {
		return false
	}
	j.started = true
	return true
}

// cancel handles a CANCEL frame: a running job has its context cancelled;
// a job still waiting in the queue is answered at once as cancelled, so
// that it does not wait behind the running one.
func (ws *workerSide) cancel(id uint64) {
	ws.mu.Lock()
	j, ok := ws.jobs[id]
	if !ok {
		ws.mu.Unlock()
		return // answered already
	}
	j.cancel()
	if j.started {
		ws.mu.Unlock()
		return
	}
	delete(ws.jobs, id)
	ws.mu.Unlock()
	outs := make([]outcome, len(j.req.args))
	for i := range outs {
		outs[i] = outcomeOf(context.Canceled)
	}
	ws.answer(id, outs) // a write error shows again at the runner's next answer
}

// revoke handles a REVOKE frame: a job that has not started is given back
// to the pool (which runs it on another worker); one that started goes on.
func (ws *workerSide) revoke(id uint64) {
	ws.mu.Lock()
	j, ok := ws.jobs[id]
	if !ok || j.started {
		ws.mu.Unlock()
		return
	}
	delete(ws.jobs, id)
	ws.mu.Unlock()
	j.cancel()
	ws.send(frameRevoked, id, nil) // a write error shows again at the runner's next answer
}

// answer sends the outcomes of call id; a result too large for a frame is
// replaced by errors saying so. It writes at once: a result must be out
// before the next call starts, which might end the process.
func (ws *workerSide) answer(id uint64, outs []outcome) error {
	err := ws.send(frameResult, id, func(b []byte) []byte { return appendOutcomes(b, outs) })
	if err != nil && err != errWrite {
		for i := range outs {
			outs[i] = outcome{kind: kindPayload, data: []byte(err.Error())}
		}
		err = ws.send(frameResult, id, func(b []byte) []byte { return appendOutcomes(b, outs) })
	}
	return err
}

// errWrite is the error of send when the result pipe is broken.
var errWrite = errors.New("subprocess: worker: writing to the pool failed")

// send writes one frame.
func (ws *workerSide) send(typ byte, id uint64, body func([]byte) []byte) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	b, err := appendFrame(ws.buf[:0], typ, id, body)
	if err != nil {
		return err
	}
	if cap(b) <= 1<<20 {
		ws.buf = b
	}
	if _, err := ws.out.Write(b); err != nil {
		return errWrite
	}
	return nil
}
