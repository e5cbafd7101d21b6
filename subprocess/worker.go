package subprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// A worker is the pool's side of one worker process.
type worker struct {
	pid    int
	cmd    *exec.Cmd
	reqW   *os.File // requests: the worker's fd 3
	resR   *os.File // results: the worker's fd 4
	fr     *frameReader
	stderr *tail
	wake   chan struct{} // capacity 1: something for the feeder to do
	fed    chan struct{} // closed when the feeder returned; nil until it starts

	wmu       sync.Mutex // held while frames are chosen and written to reqW
	closeOnce sync.Once
	killOnce  sync.Once
	killErr   error // why the pool killed it; set before the kill

	// Guarded by Pool.mu.
	sent     []*call // sent and not answered, in sending order: sent[0] is running
	ctrl     []ctrl  // CANCEL and REVOKE frames to send
	assigned int     // calls sent to this process so far
	answered int     // calls it answered
	dead     bool    // its result pipe ended: nothing more is sent to it
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
	w.closeOnce.Do(func() { w.reqW.Close() })
}

// supervise keeps one worker slot filled until the pool stops: start a
// worker, serve it, reap it, start a replacement. The result of the first
// start goes to ready; when it failed the slot is abandoned (New gives up).
func (p *Pool) supervise(ready chan<- error) {
	defer p.supervisors.Done()
	failures, crashes := 0, 0
	first := true
	for {
		w, killed, err := p.startWorker()
		if err != nil {
			if first {
				ready <- err
				return
			}
			if p.stopped() {
				return
			}
			p.cfg.onError(err)
			// A signal from outside is no reason to give up on the pool;
			// anything else (the program, the initializer, the registry)
			// fails the same way the next time.
			if killed {
				crashes++
			} else if failures++; failures >= maxStartFailures {
				p.breakPool(err)
				return
			}
			if !p.sleep(backoff(max(failures, crashes))) {
				return
			}
			continue
		}
		failures = 0

		p.mu.Lock()
		live := !p.stoppedLocked()
		if live {
			p.workers[w] = struct{}{}
		}
		p.mu.Unlock()
		if first { // New returns once every worker can take calls
			first = false
			ready <- nil
		}
		if !live {
			w.kill(nil)
			p.reap(w)
			return
		}
		w.fed = make(chan struct{})
		go p.feed(w)
		why := p.serve(w)
		if clean := p.retire(w, why); clean || w.answered > 0 {
			crashes = 0
		} else {
			crashes++
		}
		if p.stopped() {
			return
		}
		if crashes > 0 && !p.sleep(backoff(crashes)) {
			return
		}
	}
}

// startWorker starts a worker process and does its handshake: HELLO, then
// the initializer, if any. killed reports a worker killed by a signal from
// outside the pool during the handshake.
func (p *Pool) startWorker() (w *worker, killed bool, err error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	w = &worker{
		reqW:   reqW,
		resR:   resR,
		stderr: &tail{max: tailSize},
		wake:   make(chan struct{}, 1),
	}
	cmd := &exec.Cmd{
		Path:        selfExe,
		Args:        []string{os.Args[0]},
		Env:         environ(),
		ExtraFiles:  []*os.File{reqR, resW}, // fds 3 and 4
		Stderr:      w.stderr,
		SysProcAttr: sysProcAttr(),
		WaitDelay:   waitDelay,
	}
	if p.cfg.passthrough {
		cmd.Stdout = os.Stdout
		cmd.Stderr = io.MultiWriter(w.stderr, os.Stderr)
	}
	err = p.spawn(cmd)
	reqR.Close()
	resW.Close()
	if err != nil {
		reqW.Close()
		resR.Close()
		if err == errStopped {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("subprocess: starting a worker: %w", err)
	}
	w.cmd, w.pid = cmd, cmd.Process.Pid
	w.fr = newStallReader(resR, frameStall)
	if err := p.handshake(w); err != nil {
		w.kill(err)
		p.reap(w)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			st := cmd.ProcessState
			ws, _ := st.Sys().(syscall.WaitStatus)
			return nil, ws.Signaled(), fmt.Errorf("subprocess: worker %d %s before its handshake%s", w.pid, exitText(st), stderrText(w.stderr.bytes()))
		}
		return nil, false, err
	}
	return w, false, nil
}

// handshake reads the worker's HELLO and runs the initializer. It is
// bounded: the worker is killed if it has not said hello within
// helloTimeout, or finished starting within the start timeout, or when the
// pool stops meanwhile; handshake then returns why.
func (p *Pool) handshake(w *worker) error {
	helloed := make(chan struct{})
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		helloT := time.NewTimer(min(helloTimeout, p.cfg.startTimeout))
		defer helloT.Stop()
		startT := time.NewTimer(p.cfg.startTimeout)
		defer startT.Stop()
		for {
			select {
			case <-helloed:
				helloed = nil
				helloT.Stop()
				continue
			case <-helloT.C:
				w.kill(fmt.Errorf("subprocess: worker %d did not say hello within %v: %w", w.pid, min(helloTimeout, p.cfg.startTimeout), context.DeadlineExceeded))
			case <-startT.C:
				what := "its handshake"
				if p.cfg.initName != "" {
					what = fmt.Sprintf("the initializer %q", p.cfg.initName)
				}
				w.kill(fmt.Errorf("subprocess: worker %d did not finish starting within %v (StartTimeout): %s had not returned: %w", w.pid, p.cfg.startTimeout, what, context.DeadlineExceeded))
			case <-p.stopc:
				w.kill(errStopped)
			case <-done:
			}
			return
		}
	}()
	err := p.greet(w, helloed)
	close(done)
	<-exited
	if w.killErr != nil {
		return w.killErr // it was killed: not io.EOF, which means it died by itself
	}
	return err
}

// greet does the handshake for handshake; it closes helloed once the
// worker said hello.
func (p *Pool) greet(w *worker, helloed chan<- struct{}) error {
	typ, _, payload, err := w.fr.read()
	if err != nil {
		return err
	}
	if typ != frameHello {
		return fmt.Errorf("%w: worker %d sent frame type %d before HELLO", ErrProtocol, w.pid, typ)
	}
	h, err := decodeHello(payload)
	if err != nil {
		return fmt.Errorf("%w (from worker %d)", err, w.pid)
	}
	if h.version != protocolVersion {
		return fmt.Errorf("%w: worker %d speaks protocol version %d, the pool %d; refused", ErrProtocol, w.pid, h.version, protocolVersion)
	}
	if h.hash != p.hash {
		return fmt.Errorf("%w: worker %d registered other functions than the pool (registry hash %s, want %s); refused: register functions at package level, the same way in every run", ErrProtocol, w.pid, h.hash, p.hash)
	}
	close(helloed)
	if p.cfg.initName == "" {
		return nil
	}
	req := request{name: p.cfg.initName, args: [][]byte{p.cfg.initArg}}
	frame, err := appendFrame(nil, frameInit, 0, req.append)
	if err != nil {
		return fmt.Errorf("subprocess: initializer %q: %w", req.name, err)
	}
	if _, err := w.reqW.Write(frame); err != nil {
		return io.EOF // it died: the caller reports how
	}
	typ, id, payload, err := w.fr.read()
	if err != nil {
		return err
	}
	if typ != frameResult || id != 0 {
		return fmt.Errorf("%w: worker %d answered the initializer with frame type %d for call %d", ErrProtocol, w.pid, typ, id)
	}
	outs, err := decodeOutcomes(payload)
	if err != nil {
		return fmt.Errorf("%w (from worker %d)", err, w.pid)
	}
	if len(outs) != 1 && len(outs) != 2 { // a batch of one: see request
		return fmt.Errorf("%w: worker %d answered the initializer with %d outcomes", ErrProtocol, w.pid, len(outs))
	}
	err = errorOf(req.name, outs[0], nil)
	if err == nil && len(outs) == 2 {
		err = errorOf(req.name, outs[1], nil)
	}
	if err != nil {
		return fmt.Errorf("subprocess: initializer %q failed in worker %d: %w", req.name, w.pid, err)
	}
	return nil
}

// feed writes the worker's CALL and CANCEL frames: it keeps perWorker calls
// outstanding, lets the worker go when it is done with it (the pool stops,
// or it reached WithMaxTasksPerChild), and returns when it dies.
func (p *Pool) feed(w *worker) {
	defer close(w.fed)
	var (
		buf   []byte
		calls []*call
	)
	for {
		buf, calls = buf[:0], calls[:0]
		// The write lock is taken before p.mu, and kept until the frames
		// are written, so that the worker receives calls in the order they
		// were added to w.sent (Pool.enqueue writes some itself).
		w.wmu.Lock()
		p.mu.Lock()
		if w.dead {
			p.mu.Unlock()
			w.wmu.Unlock()
			return
		}
		for _, f := range w.ctrl {
			buf, _ = appendFrame(buf, f.typ, f.id, nil)
		}
		w.ctrl = w.ctrl[:0]
		for refill := len(w.sent) <= refillAt; refill && p.mayTakeLocked(w); {
			c, ok := p.calls.pop()
			if !ok {
				break
			}
			if c.state != queued {
				continue // cancelled while queued
			}
			p.sendLocked(w, c)
			calls = append(calls, c)
		}
		if len(calls) > 0 && p.calls.len() > 0 {
			for o := range p.workers { // they may prefetch now
				o.signal()
			}
		}
		if len(w.sent) == 0 && len(calls) == 0 && p.calls.len() == 0 {
			p.stealLocked(w)
		}
		if len(buf) == 0 && len(calls) == 0 {
			letGo := len(w.sent) == 0 && (p.stoppedLocked() || (p.cfg.maxTasks > 0 && w.assigned >= p.cfg.maxTasks))
			p.mu.Unlock()
			w.wmu.Unlock()
			if letGo {
				w.closeRequests() // it exits
				return
			}
			<-w.wake
			continue
		}
		p.mu.Unlock()
		for _, c := range calls {
			buf = append(buf, c.frame...)
		}
		_, err := w.reqW.Write(buf)
		w.wmu.Unlock()
		if err != nil {
			return // it died; serve sees its result pipe end
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

// A ctrl is a CANCEL or REVOKE frame waiting for a worker's feeder.
type ctrl struct {
	typ byte
	id  uint64
}

// stealLocked is called for an idle worker when no call is queued: it asks
// the busiest worker to give back half of the calls it holds and has not
// started, which then go to the idle one. So a call prefetched behind a
// slow one does not wait for it while a worker is idle.
func (p *Pool) stealLocked(idle *worker) {
	var victim *worker
	most := 0
	for o := range p.workers {
		if o == idle {
			continue
		}
		n := 0
		for _, c := range o.sent[min(1, len(o.sent)):] { // sent[0] is running
			if !c.revoking && c.ctxErr == nil {
				n++
			}
		}
		if n > most {
			victim, most = o, n
		}
	}
	if victim == nil {
		return
	}
	want := (most + 1) / 2
	for i := len(victim.sent) - 1; i >= 1 && want > 0; i-- {
		if c := victim.sent[i]; !c.revoking && c.ctxErr == nil {
			c.revoking = true
			victim.ctrl = append(victim.ctrl, ctrl{frameRevoke, c.id})
			want--
		}
	}
	victim.signal()
}

// sendLocked records that c goes to w.
func (p *Pool) sendLocked(w *worker, c *call) {
	c.state, c.w = sent, w
	w.sent = append(w.sent, c)
	w.assigned++
}

// mayTakeLocked reports whether w may be sent one more call: it has room,
// and it is idle or no other worker is. So calls spread over idle workers
// first, and a call is prefetched behind a running one only when every
// worker is busy.
func (p *Pool) mayTakeLocked(w *worker) bool {
	if !p.hasRoomLocked(w) {
		return false
	}
	if len(w.sent) == 0 {
		return true
	}
	for o := range p.workers {
		if o != w && len(o.sent) == 0 && p.hasRoomLocked(o) {
			return false
		}
	}
	return true
}

func (p *Pool) hasRoomLocked(w *worker) bool {
	return len(w.sent) < perWorker && (p.cfg.maxTasks == 0 || w.assigned < p.cfg.maxTasks)
}

// feederHasWorkLocked reports whether w's feeder may have something to do
// after w answered a call, so that it is not woken for nothing after every
// result.
func (p *Pool) feederHasWorkLocked(w *worker) bool {
	switch {
	case len(w.ctrl) > 0:
		return true
	case len(w.sent) > refillAt:
		return false
	case p.calls.len() > 0:
		return true
	case len(w.sent) > 0:
		return false
	}
	// Idle: it may have to let the worker go, or take back calls from a
	// busy worker.
	if p.stoppedLocked() || (p.cfg.maxTasks > 0 && w.assigned >= p.cfg.maxTasks) {
		return true
	}
	for o := range p.workers {
		if len(o.sent) > 1 {
			return true
		}
	}
	return false
}

// serve reads the worker's results until its result pipe ends. It returns
// nil at a clean end, or the protocol error that ended it.
func (p *Pool) serve(w *worker) error {
	var big bigResult
	for {
		typ, id, payload, err := w.fr.read()
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				return err
			}
			return nil // EOF, or the pipe closed under a kill
		}
		if big.n > 0 && (id != big.id || typ != frameMore && typ != frameResult) {
			return fmt.Errorf("%w: frame type %d for call %d from worker %d amid the pieces of the result of call %d", ErrProtocol, typ, id, w.pid, big.id)
		}
		if typ == frameRevoked && len(payload) == 0 {
			if err := p.takeBack(w, id); err != nil {
				return err
			}
			continue
		}
		if typ == frameMore {
			if err := big.add(p, w, id, payload); err != nil {
				return err
			}
			continue
		}
		if typ != frameResult {
			return fmt.Errorf("%w: unexpected frame type %d from worker %d", ErrProtocol, typ, w.pid)
		}
		if big.n > 0 {
			if err := big.add(p, w, id, payload); err != nil {
				return err
			}
			payload, err = big.payload, big.err
			big = bigResult{}
			if err != nil {
				if err := p.fail(w, id, err); err != nil {
					return err
				}
				continue
			}
		}
		outs, err := decodeOutcomes(payload)
		if err != nil {
			return err
		}
		if err := p.deliver(w, id, outs); err != nil {
			return err
		}
		if w.fr.r.Buffered() == 0 {
			// Let the caller just woken run now, on this thread, rather
			// than after this goroutine's next read, or on another
			// thread woken for it.
			runtime.Gosched()
		}
	}
}

// deliver resolves the call id sent to w with its outcomes.
func (p *Pool) deliver(w *worker, id uint64, outs []outcome) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range w.sent {
		if c.id != id {
			continue
		}
		if !c.wantOutcomes(len(outs)) {
			return fmt.Errorf("%w: %d outcomes for a call of %d arguments (%d items)", ErrProtocol, len(outs), len(c.req.args), c.items)
		}
		w.sent = append(w.sent[:i], w.sent[i+1:]...)
		w.answered++
		p.resolveLocked(c, outs, nil)
		if p.feederHasWorkLocked(w) {
			w.signal()
		}
		return nil
	}
	return fmt.Errorf("%w: a result for call %d, which worker %d does not hold", ErrProtocol, id, w.pid)
}

// bigResult joins the pieces of a RESULT too large for one frame (see
// workerSide.send). The results of a call may total 64 MiB per item (per
// argument of a CALL): past that, the pieces are dropped as they come, and
// the call fails with ErrTooLarge.
type bigResult struct {
	id      uint64
	n       int // bytes received
	limit   int
	payload []byte
	err     error
}

func (b *bigResult) add(p *Pool, w *worker, id uint64, piece []byte) error {
	if b.n == 0 {
		p.mu.Lock()
		c := w.heldLocked(id)
		limit := 0
		if c != nil {
			limit = max(1, c.items, len(c.req.args)) * maxFrame
		}
		p.mu.Unlock()
		if c == nil {
			return fmt.Errorf("%w: a result for call %d, which worker %d does not hold", ErrProtocol, id, w.pid)
		}
		*b = bigResult{id: id, limit: limit}
	}
	b.n += len(piece)
	switch {
	case b.err != nil:
	case b.n > b.limit:
		if n := b.limit / maxFrame; n > 1 {
			b.err = tooLarge("subprocess: the results of a chunk of %d items total more than %d bytes, over the %s frame limit per item", n, b.limit, limitText())
		} else {
			b.err = tooLarge("subprocess: the result makes more than %d bytes, over the %s frame limit", b.limit, limitText())
		}
		b.payload = nil
	default:
		b.payload = append(b.payload, piece...)
	}
	return nil
}

// heldLocked returns the call id that w holds, or nil.
func (w *worker) heldLocked(id uint64) *call {
	for _, c := range w.sent {
		if c.id == id {
			return c
		}
	}
	return nil
}

// fail resolves the call id sent to w with err: its results could not be
// received whole.
func (p *Pool) fail(w *worker, id uint64, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range w.sent {
		if c.id == id {
			w.sent = append(w.sent[:i], w.sent[i+1:]...)
			w.answered++
			p.resolveLocked(c, nil, err)
			if p.feederHasWorkLocked(w) {
				w.signal()
			}
			return nil
		}
	}
	return fmt.Errorf("%w: a result for call %d, which worker %d does not hold", ErrProtocol, id, w.pid)
}

// takeBack queues again the call id that w gave back unstarted.
func (p *Pool) takeBack(w *worker, id uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range w.sent {
		if c.id != id || !c.revoking {
			continue
		}
		w.sent = append(w.sent[:i], w.sent[i+1:]...)
		w.assigned-- // it did not run there (WithMaxTasksPerChild counts what did)
		c.revoking = false
		if c.ctxErr != nil { // cancelled meanwhile; it never ran
			p.resolveLocked(c, nil, c.ctxErr)
			return nil
		}
		c.state, c.w = queued, nil
		p.calls.pushFront(c)
		for o := range p.workers {
			if o != w && p.hasRoomLocked(o) {
				o.signal()
			}
		}
		return nil
	}
	return fmt.Errorf("%w: worker %d gave back call %d, which was not asked back", ErrProtocol, w.pid, id)
}

// retire handles the end of a worker's result pipe: it makes sure the
// process is gone and reaped, fails the call it was running with a
// *WorkerError, and queues the calls it held again. It reports whether the
// worker ended as planned (let go by the pool, holding nothing).
func (p *Pool) retire(w *worker, why error) (clean bool) {
	p.mu.Lock()
	w.dead = true
	delete(p.workers, w)
	held := w.sent
	w.sent = nil
	expected := p.stoppedLocked() || (p.cfg.maxTasks > 0 && w.assigned >= p.cfg.maxTasks)
	p.mu.Unlock()
	w.signal()

	clean = why == nil && len(held) == 0 && expected
	if !clean {
		w.kill(why) // keeps the first reason, if the pool killed it already; then killErr may be read
	}
	p.reap(w)

	p.mu.Lock()
	defer p.mu.Unlock()
	var again []*call
	for i, c := range held {
		switch {
		case c.state == resolved:
		case p.endErr != nil:
			p.resolveLocked(c, nil, p.endErr)
		case c.ctxErr != nil:
			p.resolveLocked(c, nil, fmt.Errorf("subprocess: the task's context ended and its worker %d was stopped: %w", w.pid, c.ctxErr))
		case i == 0:
			p.resolveLocked(c, nil, w.deathError())
		default:
			c.state, c.w = queued, nil
			again = append(again, c)
		}
	}
	p.calls.pushFront(again...)
	if p.calls.len() > 0 { // others may have declined them while this one looked idle
		for o := range p.workers {
			o.signal()
		}
	}
	return clean
}

// reap waits for the worker's process (killing it if it lingers after it
// was let go), then kills what is left of its process group.
func (p *Pool) reap(w *worker) {
	t := time.AfterFunc(exitGrace, func() {
		w.kill(fmt.Errorf("subprocess: worker did not exit within %v of being let go", exitGrace))
	})
	w.closeRequests()
	if w.fed != nil {
		<-w.fed
	}
	w.cmd.Wait()
	t.Stop()
	w.resR.Close()
	killGroup(w.pid) // strays the worker started; its pid stays reserved while its group lives
}

// deathError describes the worker's death for the call it was running.
func (w *worker) deathError() *WorkerError {
	e := &WorkerError{Pid: w.pid, ExitCode: -1, Stderr: w.stderr.bytes(), Err: w.killErr}
	if st := w.cmd.ProcessState; st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = ws.Signal()
		} else {
			e.ExitCode = st.ExitCode()
		}
	}
	return e
}

// exitText describes how a process ended.
func exitText(st *os.ProcessState) string {
	if st == nil {
		return "ended"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", st.ExitCode())
}

func stderrText(tail []byte) string {
	if s := stderrSummary(tail); s != "" {
		return " (stderr: " + s + ")"
	}
	return ""
}

// tail keeps the last max bytes written to it. It is safe for concurrent
// use.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return append([]byte(nil), b...)
}
