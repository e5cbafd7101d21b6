package subprocess

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/xrun"
)

// envMarker is set in the environment of a worker process; Main sees it,
// clears it (so that programs the task starts do not see it) and serves.
const envMarker = "EXECKIT_SUBPROCESS_WORKER"

// The worker's ends of the protocol pipes (exec.Cmd.ExtraFiles 0 to 2).
const (
	fdRequests = 3
	fdResults  = 4
	fdBell     = 5 // the bell: a byte for each CANCEL, EXPIRE or REVOKE frame sent (see workerSide.listen)
)

// Exit statuses of a worker that stops by itself.
const (
	exitSetup    = 2 // the protocol pipes are missing: not started by a Pool
	exitProtocol = 3 // the pool sent a frame that does not decode
	exitWrite    = 4 // a result could not be written (the pool is gone)
	exitGoexit   = 5 // a function called runtime.Goexit (see workerSide.run)
)

var mainCalled atomic.Bool

// protocolFds are the protocol pipes of a worker, moved away from fds 3 to
// 5 by init, or why they could not be.
var protocolFds struct {
	requests, results, bell int
	err                     error
}

// init moves the protocol pipes of a worker process before any code that
// imports this package runs (package main's init functions and variables
// above all): from then on, fds 3 to 5 are /dev/null, and task code cannot
// reach the pipes by their well-known numbers. Code that runs earlier (the
// init of packages this one does not depend on) could still write to them;
// the pool bounds what it costs: a worker that breaks its handshake is
// refused, one whose frame stalls is killed. Only the environment marker
// is read, so a program that is not a worker is not touched.
func init() {
	if _, ok := os.LookupEnv(envMarker); !ok {
		return
	}
	fds, err := hideProtocol(fdRequests, fdResults, fdBell)
	if err != nil {
		protocolFds.err = err
		return
	}
	protocolFds.requests, protocolFds.results, protocolFds.bell = fds[0], fds[1], fds[2]
}

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
// to call more than once. (In a worker, the package's initialization moved
// the protocol pipes away from fds 3 to 5 already: see the package
// documentation.)
func Main() {
	mainCalled.Store(true)
	if _, ok := os.LookupEnv(envMarker); !ok {
		return
	}
	os.Unsetenv(envMarker)
	os.Exit(serveWorker())
}

// job is one INIT, CALL or BATCH frame in the worker.
type job struct {
	id      uint64
	req     request
	batch   bool            // INIT and BATCH: req.args is one batch
	ctx     context.Context // &jc
	jc      jobCtx
	cancel  context.CancelFunc
	started bool // the runner took it: CANCEL cancels ctx instead of answering
}

// jobCtx is a job's context: it ends as the caller's ctx did in the pool.
// The pool ends a call with CANCEL when its ctx was cancelled, and with
// EXPIRE when a deadline passed (the function's TimeLimit, whose clock the
// pool keeps, or the caller's deadline); a cancel function can only make
// a ctx of package context end with context.Canceled, so after an EXPIRE
// Err says context.DeadlineExceeded instead, as the function's ctx would
// say in process.
type jobCtx struct {
	context.Context             // from context.Background: WithDeadline or WithCancel
	expired         atomic.Bool // set by EXPIRE, before the cancel
	limitAt         time.Time   // set when the job starts: when its TimeLimit ends (zero: none)
	scope           jobScope    // the policies of the functions it runs count here
}

// jobScope is the link.Scope of a job's functions in the worker: the
// policies of a batch's items (see Map), and of the registered functions a
// function calls, count their retries and timeouts in it, and the job's
// RESULT carries the counts to the pool, whose Stats add them, as an
// executor's Stats count them in process. Their rate limiters are the
// worker process's (see workerLocals).
type jobScope struct{ retries, timeouts atomic.Uint64 }

// workerLocals holds the rate limiters of the functions run in this worker
// process: one bucket per function for the process.
var workerLocals xrun.Scope

func (s *jobScope) Local(key any, mk func() any) any { return workerLocals.Local(key, mk) }
func (s *jobScope) CountRetry()                      { s.retries.Add(1) }
func (s *jobScope) CountTimeout()                    { s.timeouts.Add(1) }

// counts returns what s counted so far.
func (s *jobScope) counts() policyCounts {
	return policyCounts{retries: s.retries.Load(), timeouts: s.timeouts.Load()}
}

// Deadline is the earlier of the caller's deadline and the end of the
// function's TimeLimit, timed from when the job started here, as a ctx
// under a TimeLimit reports in process. The pool keeps the TimeLimit's
// clock, and ends the ctx with EXPIRE then.
func (c *jobCtx) Deadline() (time.Time, bool) {
	d, ok := c.Context.Deadline()
	if !c.limitAt.IsZero() && (!ok || c.limitAt.Before(d)) {
		return c.limitAt, true
	}
	return d, ok
}

func (c *jobCtx) Err() error {
	err := c.Context.Err()
	if err == context.Canceled && c.expired.Load() {
		return context.DeadlineExceeded
	}
	return err
}

// Value finds only the job's scope (see jobScope): the ctx grows from
// context.Background, which holds no value. Not passing the question on to
// the ctx of package context inside also hides it from the ctx a function
// derives from this one, which then hangs on this one through AfterFunc
// and ends with this one's Err, rather than on the inner one, whose Err
// says context.Canceled.
func (c *jobCtx) Value(key any) any {
	if key == (link.ScopeKey{}) {
		return link.Scope(&c.scope)
	}
	return nil
}

// AfterFunc makes a ctx derived from this one end with it (see Value).
func (c *jobCtx) AfterFunc(f func()) (stop func() bool) { return context.AfterFunc(c.Context, f) }

// workerSide is the state of the serving worker. Two goroutines share
// two roles: reading frames, and running jobs one at a time in arrival
// order. A goroutine that reads a call while no job runs or waits runs it
// itself, and lends the reading role meanwhile: when the pool sends a
// CANCEL, EXPIRE or REVOKE frame, it rings the bell (a third pipe), and
// the bell's listener hands the role to the other goroutine, which reads
// the frame while the job runs. So a call costs no goroutine switch in
// the worker, and no timer (a timer armed per call woke the Go runtime's
// poller for every call in a program that had any other timer pending),
// and the pipes are read with plain blocking reads, as a single-threaded
// program would read them.
type workerSide struct {
	wmu sync.Mutex // held while writing to out
	out *os.File
	buf []byte
	res []byte // the runner's: a batch's results are encoded in its room, then copied into a frame

	readMu sync.Mutex // the reading role
	fr     *frameReader

	bell     *os.File
	lent     atomic.Bool   // the goroutine running a job lent the reading role: the bell's listener may hand it over
	rung     atomic.Uint64 // the CANCEL, EXPIRE and REVOKE frames the pool rang the bell for
	ctrlRead atomic.Uint64 // the CANCEL, EXPIRE and REVOKE frames read (by the reading role)

	mu      sync.Mutex
	jobs    map[uint64]*job // received and not answered
	queue   []*job          // received while another ran, in order
	running bool            // a goroutine runs jobs
	readErr error           // why reading ended; nil while it goes on
	ended   bool            // reading ended
	done    chan struct{}   // closed once reading ended and no job runs or waits
}

// serveWorker runs the worker: HELLO, then jobs in arrival order until the
// pool closes the request pipe. It returns the exit status.
func serveWorker() int {
	// init moved the pipes (see there), close-on-exec: they must not leak
	// into programs a task starts, since a grandchild holding the result
	// pipe would hide this worker's death from the pool.
	if err := protocolFds.err; err != nil {
		fmt.Fprintf(os.Stderr, "subprocess: worker: %v (was this process started by a subprocess.Pool?)\n", err)
		return exitSetup
	}
	ws := &workerSide{
		out:  os.NewFile(uintptr(protocolFds.results), "subprocess-results"),
		fr:   newFrameReader(os.NewFile(uintptr(protocolFds.requests), "subprocess-requests")),
		bell: os.NewFile(uintptr(protocolFds.bell), "subprocess-bell"),
		jobs: make(map[uint64]*job),
		done: make(chan struct{}),
	}
	h := hello{version: protocolVersion, pid: os.Getpid(), hash: driver.RegistryHash()}
	if err := ws.send(frameHello, 0, h.append); err != nil {
		return exitWrite
	}
	go ws.listen()
	go ws.loop()
	ws.loop()
	<-ws.done
	if err := ws.readErr; err != io.EOF {
		fmt.Fprintf(os.Stderr, "subprocess: worker %d: reading requests: %v\n", os.Getpid(), err)
		return exitProtocol
	}
	return 0
}

// loop reads frames while it holds the reading role and runs the jobs it
// reads, until reading ended. Both goroutines run it.
func (ws *workerSide) loop() {
	ws.readMu.Lock()
	for {
		ws.mu.Lock()
		ended := ws.ended
		ws.mu.Unlock()
		if ended {
			ws.readMu.Unlock()
			return
		}
		j, err := ws.readOne()
		if err != nil {
			ws.mu.Lock()
			ws.readErr, ws.ended = err, true
			if !ws.running {
				close(ws.done)
			}
			ws.mu.Unlock()
			ws.readMu.Unlock()
			return
		}
		if j == nil {
			continue
		}
		ws.lend()
		ws.run(j)
		ws.reclaim()
	}
}

// lend lends the reading role while the caller, which holds it, runs a
// job: the bell's listener may hand it to the other goroutine (see
// listen). If the pool rang for a frame not read yet, it is handed over
// at once: that frame may be about the job.
func (ws *workerSide) lend() {
	ws.lent.Store(true)
	if ws.rung.Load() > ws.ctrlRead.Load() {
		ws.handOver()
	}
}

// handOver gives the lent reading role to the other goroutine, once per
// loan. (A mutex may be unlocked by a goroutine other than its holder's.)
func (ws *workerSide) handOver() {
	if ws.lent.CompareAndSwap(true, false) {
		ws.readMu.Unlock()
	}
}

// reclaim ends the loan once the job is answered: the caller holds the
// reading role again, waiting for it if it was handed over.
func (ws *workerSide) reclaim() {
	if !ws.lent.CompareAndSwap(true, false) {
		ws.readMu.Lock()
	}
}

// listen reads the bell until the pool closes it (or the process exits):
// the pool writes a byte for each CANCEL, EXPIRE and REVOKE frame, after
// the frame. While one of them is not read yet, a lent reading role is
// handed over, so that a running job's CANCEL is read while it runs. A
// frame read before its byte arrived asks for nothing.
func (ws *workerSide) listen() {
	var buf [512]byte
	for {
		n, err := ws.bell.Read(buf[:])
		if n > 0 {
			if ws.rung.Add(uint64(n)) > ws.ctrlRead.Load() {
				ws.handOver()
			}
		}
		if err != nil {
			return
		}
	}
}

// readOne reads one frame and handles it. It returns a job to run now
// (nil when there is none), or the error that ends reading.
func (ws *workerSide) readOne() (*job, error) {
	typ, id, payload, err := ws.fr.read()
	if err != nil {
		return nil, err
	}
	switch typ {
	case frameInit, frameCall, frameBatch:
		req, err := decodeRequest(payload)
		if err != nil {
			return nil, err
		}
		j := &job{id: id, req: req, batch: typ != frameCall}
		if j.batch && len(req.args) != 1 {
			return nil, fmt.Errorf("%w: a batch of %d arguments; want 1", ErrProtocol, len(req.args))
		}
		if req.deadline != 0 { // the caller's deadline, on the same clock: this machine's
			j.jc.Context, j.cancel = context.WithDeadline(context.Background(), time.Unix(0, req.deadline))
		} else {
			j.jc.Context, j.cancel = context.WithCancel(context.Background())
		}
		j.ctx = &j.jc
		ws.mu.Lock()
		defer ws.mu.Unlock()
		ws.jobs[id] = j
		if ws.running {
			ws.queue = append(ws.queue, j)
			return nil, nil
		}
		ws.running, j.started = true, true
		return j, nil
	case frameCancel, frameExpire, frameRevoke:
		ws.ctrlRead.Add(1)
		if len(payload) != 0 {
			return nil, fmt.Errorf("%w: a frame of type %d with a payload of %d bytes; want none", ErrProtocol, typ, len(payload))
		}
		if typ == frameRevoke {
			ws.revoke(id)
		} else {
			ws.cancel(id, typ == frameExpire)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: unexpected frame type %d from the pool", ErrProtocol, typ)
}

// run runs j, then the jobs queued meanwhile, until none is left. A
// function that ends its goroutine (runtime.Goexit, as t.FailNow does)
// would leave its call unanswered and the worker without a runner, and
// the caller waiting until its ctx ends: the worker says so on stderr and
// exits instead, so that the call fails at once with a *WorkerError
// carrying that line, and the pool runs the calls queued behind it on
// another worker.
func (ws *workerSide) run(j *job) {
	defer func() {
		if j == nil {
			return // every job answered
		}
		if r := recover(); r != nil {
			panic(r) // a bug of this package's own (functions' panics are recovered by driver.Invoke)
		}
		fmt.Fprintf(os.Stderr, "subprocess: worker %d: function %q called runtime.Goexit; the worker exits\n", os.Getpid(), j.req.name)
		os.Exit(exitGoexit)
	}()
	for j != nil {
		if j.req.limit > 0 && !j.batch { // a batch's items run under their policy here, each with its own limit
			j.jc.limitAt = time.Now().Add(time.Duration(j.req.limit))
		}
		var outs []outcome
		if j.batch {
			res, errs, err := link.InvokeBatch(j.ctx, j.req.name, j.req.args[0], ws.res)
			outs = batchOutcomes(j.req.name, res, errs, err)
			if cap(res) <= 1<<20 { // answered (copied) below, before the next job
				ws.res = res[:0]
			}
		} else {
			outs = make([]outcome, len(j.req.args))
			for i, arg := range j.req.args {
				if j.ctx.Err() != nil {
					outs[i] = outcomeOf(j.req.name, j.ctx.Err())
					continue
				}
				res, err := driver.Invoke(j.ctx, j.req.name, arg)
				if err != nil {
					outs[i] = outcomeOf(j.req.name, err)
				} else {
					outs[i] = outcome{kind: kindOK, data: res}
				}
			}
		}
		j.cancel()
		var err error
		if j, err = ws.finish(j, outs); err != nil {
			os.Exit(exitWrite) // the pool is gone
		}
	}
}

// finish answers j, which ran, with outs and takes the next job to run
// (nil when none is left), both under ws.mu, as revoke and cancel write
// their frames: so whether a queued job was given back or answered
// cancelled, or started, is decided in the order the pool reads. The
// pool starts a call's clock when the answer of the call ahead of it
// arrives (Pool.startedLocked): had a REVOKED or a cancelled answer of the
// next job been written between j's answer and the choice of the job
// after it, the pool would have started the clock of a job that never ran
// here (and, given back, waits for another worker with its TimeLimit
// running), and the clock of the job that did run late.
func (ws *workerSide) finish(j *job, outs []outcome) (*job, error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.jobs[j.id] == j {
		delete(ws.jobs, j.id)
	}
	if err := ws.answer(j.id, outs, j.jc.scope.counts()); err != nil {
		return nil, err
	}
	return ws.nextLocked(), nil
}

// nextLocked takes the next queued job that was neither cancelled nor
// given back, or marks that no job runs; ws.mu is held.
func (ws *workerSide) nextLocked() *job {
	for len(ws.queue) > 0 {
		j := ws.queue[0]
		ws.queue[0] = nil
		ws.queue = ws.queue[1:]
		// A job answered by CANCEL or given back by REVOKE is no longer
		// in jobs (the pool may even have sent it here again, as a new
		// job with the same id, further back in the queue).
		if ws.jobs[j.id] == j {
			j.started = true
			return j
		}
	}
	ws.queue = nil
	ws.running = false
	if ws.ended {
		close(ws.done)
	}
	return nil
}

// cancel handles a CANCEL frame (an EXPIRE when expired): a running job has its context cancelled;
// a job still waiting in the queue is answered at once as cancelled, so
// that it does not wait behind the running one.
func (ws *workerSide) cancel(id uint64, expired bool) {
	ws.mu.Lock()
	j, ok := ws.jobs[id]
	if !ok {
		ws.mu.Unlock()
		return // answered already
	}
	if expired {
		j.jc.expired.Store(true)
	}
	j.cancel()
	if j.started {
		ws.mu.Unlock()
		return
	}
	delete(ws.jobs, id)
	outs := make([]outcome, len(j.req.args))
	for i := range outs {
		outs[i] = outcomeOf(j.req.name, j.ctx.Err())
	}
	ws.answer(id, outs, policyCounts{}) // under ws.mu: see finish; a write error shows again at the runner's next answer
	ws.mu.Unlock()
}

// revoke handles a REVOKE frame: a job that has not started is given back
// to the pool (which runs it on another worker); one that started goes on,
// and the pool is told so (KEPT), also when it ended already, so that the
// worker that waits for it does not wait longer.
func (ws *workerSide) revoke(id uint64) {
	ws.mu.Lock()
	j, ok := ws.jobs[id]
	if !ok || j.started {
		ws.send(frameKept, id, nil) // under ws.mu: see finish; a write error shows again at the runner's next answer
		ws.mu.Unlock()
		return
	}
	delete(ws.jobs, id)
	ws.send(frameRevoked, id, nil) // under ws.mu: see finish; a write error shows again at the runner's next answer
	ws.mu.Unlock()
	j.cancel()
}

// answer sends the outcomes of call id. It writes at once: a result must
// be out before the next call starts, which might end the process. A result
// too large for one frame goes in pieces (see send).
func (ws *workerSide) answer(id uint64, outs []outcome, counts policyCounts) error {
	return ws.send(frameResult, id, func(b []byte) []byte { return appendOutcomes(b, outs, counts) })
}

// errWrite is the error of send when the result pipe is broken.
var errWrite = errors.New("subprocess: worker: writing to the pool failed")

// send writes one frame. A RESULT whose payload does not fit in a frame
// goes as MORE frames, each a piece of the payload, then the RESULT frame
// with the last piece, all written at once: the pool joins them, and
// decides whether the results are too large for the call (see
// resultsOf).
func (ws *workerSide) send(typ byte, id uint64, body func([]byte) []byte) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	b, err := appendFrame(ws.buf[:0], typ, id, body)
	if err != nil && typ == frameResult {
		return ws.sendPieces(id, body(nil))
	}
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

// sendPieces writes payload, the payload of the RESULT of call id, in
// pieces: see send.
func (ws *workerSide) sendPieces(id uint64, payload []byte) error {
	piece := maxFrame - (frameHeader - 4)
	for {
		n, typ := len(payload), frameResult
		if n > piece {
			n, typ = piece, frameMore
		}
		var hdr [frameHeader]byte
		binary.BigEndian.PutUint32(hdr[0:4], uint32(frameHeader-4+n))
		hdr[4] = typ
		binary.BigEndian.PutUint64(hdr[5:], id)
		if _, err := ws.out.Write(hdr[:]); err != nil {
			return errWrite
		}
		if _, err := ws.out.Write(payload[:n]); err != nil {
			return errWrite
		}
		if typ == frameResult {
			return nil
		}
		payload = payload[n:]
	}
}
