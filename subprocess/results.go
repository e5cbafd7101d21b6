package subprocess

import (
	"errors"
	"fmt"
	"runtime"
)

// serve reads the worker's results until its result pipe ends. It returns
// nil at a clean end, or the protocol error that ended it.
//
// It shares the reading role (worker.rmu) with callers: a call sent by
// its own goroutine to an idle worker is read by that goroutine (see
// Pool.readFor), the raw pipe's path, with no goroutine to wake in
// between. So serve reads only while the worker holds calls that no caller
// reads for; otherwise it waits for such calls, or for the process to
// exit, and then reads the pipe to its end.
func (p *Pool) serve(w *worker) error {
	exited := false
	held := false // this goroutine holds w.rmu
	read := false // it read frames since it last yielded
	for {
		// Frames already buffered are read at once; before waiting for
		// more, see whether anything is to be read for.
		if !held || w.fr.r.Buffered() == 0 {
			p.mu.Lock()
			err := w.readErr // a caller's read ended it
			idle := err == nil && !exited && (len(w.sent) == 0 || w.callerReading)
			w.serveIdle = idle
			p.mu.Unlock()
			if err != nil {
				if held {
					w.rmu.Unlock()
				}
				return pipeEnd(err)
			}
			if idle {
				if held {
					w.rmu.Unlock() // before the caller just woken sends again
					held = false
				}
				read = false
				select {
				case <-w.serveWake:
				case <-w.exited:
					exited = true // read what it wrote, up to the pipe's end
				}
				continue
			}
			if !held {
				w.rmu.Lock()
				held = true
				continue // a caller may have read for them meanwhile
			}
			if read {
				// Let the callers just woken run now, on this thread,
				// rather than after this goroutine's next read, or on
				// another thread woken for them.
				read = false
				runtime.Gosched()
			}
		}
		if err := p.readFrame(w); err != nil {
			p.mu.Lock()
			if w.readErr == nil {
				w.readErr = err
			}
			p.mu.Unlock()
			w.rmu.Unlock()
			return pipeEnd(err)
		}
		read = true
	}
}

// pipeEnd is serve's result for the error that ended reading: the
// protocol error, or nil (EOF, or the pipe closed under a kill).
func pipeEnd(err error) error {
	if errors.Is(err, ErrProtocol) {
		return err
	}
	return nil
}

// wakeServe tells serve that w holds calls no caller reads for, or that
// reading ended; it never blocks.
func (w *worker) wakeServe() {
	select {
	case w.serveWake <- struct{}{}:
	default:
	}
}

// readFrame reads one frame from w and acts on it; the caller holds
// w.rmu. An error ends reading from w: the pipe's end, or a protocol
// error.
func (p *Pool) readFrame(w *worker) error {
	typ, id, payload, err := w.fr.read()
	if err != nil {
		return err
	}
	big := &w.big
	if big.n > 0 && (id != big.id || typ != frameMore && typ != frameResult) {
		return fmt.Errorf("%w: frame type %d for call %d from worker %d amid the pieces of the result of call %d", ErrProtocol, typ, id, w.pid, big.id)
	}
	if typ == frameRevoked && len(payload) == 0 {
		return p.takeBack(w, id)
	}
	if typ == frameKept && len(payload) == 0 {
		p.kept(w, id)
		return nil
	}
	if typ == frameMore {
		return big.add(p, w, id, payload)
	}
	if typ != frameResult {
		return fmt.Errorf("%w: unexpected frame type %d from worker %d", ErrProtocol, typ, w.pid)
	}
	if big.n > 0 {
		if err := big.add(p, w, id, payload); err != nil {
			return err
		}
		payload, err = big.payload, big.err
		*big = bigResult{}
		if err != nil {
			return p.deliver(w, id, nil, policyCounts{}, err)
		}
	}
	outs, counts, err := decodeOutcomes(payload)
	if err != nil {
		return err
	}
	return p.deliver(w, id, outs, counts, nil)
}

// deliver resolves the call id sent to w with its outcomes, or, when err
// is not nil, with err: its results could not be received whole. The
// policy counts of the call's functions in the worker go into Stats
// first, so that a caller who reads Stats once its call returned sees them.
func (p *Pool) deliver(w *worker, id uint64, outs []outcome, counts policyCounts, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range w.sent {
		if c.id != id {
			continue
		}
		if err == nil && !c.wantOutcomes(len(outs)) {
			return fmt.Errorf("%w: %d outcomes for a call of %d arguments (%d items)", ErrProtocol, len(outs), len(c.req.args), c.items)
		}
		w.removeLocked(i)
		w.answered++
		p.counters.Add(int64(counts.retries), int64(counts.timeouts)) // bounded by decodeOutcomes
		p.resolveLocked(c, outs, err)
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

// kept records that w kept the call id it was asked back (it started, or
// ended): the worker it was asked for waits no longer. An id w no longer
// holds is one whose result came first.
func (p *Pool) kept(w *worker, id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := w.heldLocked(id); c != nil && c.revoking {
		p.unrevokeLocked(c)
	}
}

// takeBack hands the call id that w gave back unstarted to the worker it
// was asked back for, or, when that one can no longer take it (it died),
// queues it again in its place (requeueLocked).
func (p *Pool) takeBack(w *worker, id uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range w.sent {
		if c.id != id || !c.revoking {
			continue
		}
		w.removeLocked(i)
		w.assigned-- // it did not run there (MaxTasksPerChild counts what did)
		p.unrevokeLocked(c)
		if c.ctxErr != nil { // cancelled meanwhile; it never ran
			p.resolveLocked(c, nil, c.ctxErr)
			return nil
		}
		// Queued again in its place, at the front: older than any call
		// queued. The worker that asked for it takes it once each call it
		// asked for came back or was kept (it takes no other call
		// meanwhile, see stealLocked), unless another fell idle first.
		p.requeueLocked(c)
		for o := range p.workers {
			if o != w && p.hasRoomLocked(o) {
				o.signal()
			}
		}
		return nil
	}
	return fmt.Errorf("%w: worker %d gave back call %d, which was not asked back", ErrProtocol, w.pid, id)
}
