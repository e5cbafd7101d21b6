package subprocess

import (
	"errors"
	"fmt"
	"runtime"
)

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
		w.assigned-- // it did not run there (MaxTasksPerChild counts what did)
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
