package subprocess

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// A worker is the pool's side of one worker process.
type worker struct {
	pid    int
	cmd    *exec.Cmd
	reqW   *os.File // requests: the worker's fd 3
	resR   *os.File // results: the worker's fd 4
	bellW  *os.File // the bell: the worker's fd 5 (see ring)
	ahead  int      // the most bytes of frames sent ahead of a busy worker's running call (see feed)
	fr     *frameReader
	stderr *tail
	wake   chan struct{} // capacity 1: something for the feeder to do
	fed    chan struct{} // closed when the feeder returned; nil until it starts
	exited chan struct{} // closed once the process exited (not yet reaped: see waitExit)

	serveWake chan struct{} // capacity 1: calls for serve to read, or reading ended

	wmu       sync.Mutex // held while frames are chosen and written to reqW
	rmu       sync.Mutex // the reading role: held while reading fr (by serve, or a caller: see Pool.readFor)
	big       bigResult  // the pieces of a result read so far; guarded by rmu
	closeOnce sync.Once
	killOnce  sync.Once
	killErr   error // why the pool killed it; set before the kill

	// Guarded by Pool.mu.
	sent     []*call // sent and not answered, in sending order: sent[0] is running
	ctrl     []ctrl  // CANCEL and REVOKE frames to send
	assigned int     // calls sent to this process so far
	answered int     // calls it answered
	dead     bool    // its result pipe ended: nothing more is sent to it
	awaiting int     // calls asked back from other workers for it (see stealLocked): it takes no other call meanwhile

	callerReading bool  // a caller holds rmu and reads for its own call
	serveIdle     bool  // serve waits for calls to read for (or the exit)
	readErr       error // why reading ended (io.EOF at the pipe's end); nil while it goes on
}

// signal wakes the feeder; it never blocks.
func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// kill kills the worker's process group, recording why (the first reason
// wins). It is idempotent and never blocks.
func (w *worker) kill(why error) {
	w.killOnce.Do(func() {
		w.killErr = why
		killGroup(w.pid)
	})
}

// closeRequests closes the request pipe: the worker finishes what it holds
// and exits. It also unblocks a feeder stuck writing to a dead worker.
func (w *worker) closeRequests() {
	w.closeOnce.Do(func() {
		w.reqW.Close()
		w.bellW.Close()
	})
}

// ring tells the worker that n CANCEL, EXPIRE or REVOKE frames were
// written to it (a byte each, after the frames): a job it runs meanwhile
// has lent the reading role, which the bell makes it hand over, so that
// the frames are read while the job runs (see workerSide.listen). Only the
// feeder rings, after its write. It never blocks: a bell the worker does
// not read (its bytes fill the pipe) means a worker too busy or gone, and
// the call's grace ends it (see cancelCall).
func (w *worker) ring(n int) {
	var b [64]byte
	rc, err := w.bellW.SyscallConn()
	if err != nil {
		return
	}
	for n > 0 {
		k := min(n, len(b))
		n -= k
		_ = rc.Write(func(fd uintptr) bool {
			_, _ = syscall.Write(int(fd), b[:k])
			return true // never wait for room
		})
	}
}
