package subprocess

import "slices"

// feed writes the worker's CALL and CANCEL frames: it keeps perWorker calls
// outstanding, lets the worker go when it is done with it (the pool stops,
// or it reached MaxTasksPerChild), and returns when it dies.
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
		rings := len(w.ctrl)
		w.ctrl = w.ctrl[:0]
		// A busy worker reads the calls sent ahead of its running one only
		// once that one ends: so no more of them than half its pipe holds,
		// and a write here never waits for a busy worker (a CANCEL queued
		// behind a write that waits would wait for the job it cancels).
		ahead := 0
		for _, c := range w.sent[min(1, len(w.sent)):] {
			ahead += len(c.frame)
		}
		for refill := len(w.sent) <= p.refillAt; refill && w.awaiting == 0 && p.mayTakeLocked(w); {
			c, ok := p.calls.peek()
			if !ok {
				break
			}
			if c.state != queued {
				p.calls.pop() // cancelled while queued
				continue
			}
			if err := p.ctxErr(c.ctx); err != nil {
				// Its context ended, and its caller has not cancelled it
				// yet (it hears of the end a moment later, see await):
				// it is not sent. A Future.Cancel that returned before
				// this point does not see its task start afterwards.
				p.calls.pop()
				p.resolveLocked(c, nil, err)
				continue
			}
			if n := len(w.sent); n > 0 && w.sent[n-1].seq > c.seq {
				// A call taken back from a worker (see requeueLocked) is
				// not sent behind calls placed after it, which w would
				// start first: it waits for a worker that falls idle, or
				// a replacement, as the calls queued after it do.
				break
			}
			if len(w.sent) > 0 {
				if ahead+len(c.frame) > w.ahead {
					break
				}
				ahead += len(c.frame)
			}
			p.calls.pop()
			p.sendLocked(w, c)
			calls = append(calls, c)
		}
		if len(calls) > 0 && p.calls.len() > 0 {
			for o := range p.workers { // they may prefetch now
				if o != w && len(o.sent) <= p.refillAt {
					o.signal()
				}
			}
		}
		if len(w.sent) == 0 && len(calls) == 0 && p.calls.len() == 0 && w.awaiting == 0 {
			p.stealLocked(w)
		}
		if len(buf) == 0 && len(calls) == 0 {
			letGo := len(w.sent) == 0 && w.awaiting == 0 && (p.stoppedLocked() || (p.cfg.maxTasks > 0 && w.assigned >= p.cfg.maxTasks))
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
		if err == nil && rings > 0 {
			w.ring(rings)
		}
		w.wmu.Unlock()
		clear(calls) // the calls are w's now: not kept here once resolved
		if err != nil {
			return // it died; serve sees its result pipe end
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}

// A ctrl is a CANCEL, EXPIRE or REVOKE frame waiting for a worker's feeder.
type ctrl struct {
	typ byte
	id  uint64
}

// stealLocked is called for an idle worker when no call is queued: it asks
// the busiest worker to give back half of the calls it holds and has not
// started, which then go to the idle one. So a call prefetched behind a
// slow one does not wait for it while a worker is idle.
//
// It asks for the oldest of them, and the idle worker takes no other call
// until each was given back to it or kept (it started meanwhile, or
// ended): so a call asked back is never overtaken by calls sent after it,
// which would otherwise take the idle workers while it travels back, and
// might then hold every worker while it waits (a call waits only behind
// calls sent before it; see runner).
//
// It asks for no more than idle may take (MaxTasksPerChild): a call given
// back that it may not take would go back to the queue, to wait there for
// another idle worker, and idle, let go, would wait for it first.
func (p *Pool) stealLocked(idle *worker) {
	room := p.roomLocked(idle)
	if room == 0 {
		return // it is let go (MaxTasksPerChild)
	}
	// First the calls asked back for a worker that died before they came
	// back: they are on their way, and older than any it could ask for.
	adopted := 0
	for o := range p.workers {
		for _, c := range o.sent {
			if c.revoking && c.thief.dead && adopted < room {
				c.thief = idle
				idle.awaiting++
				adopted++
			}
		}
	}
	if adopted > 0 {
		return
	}
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
	want := min((most+1)/2, room)
	for i := 1; i < len(victim.sent) && want > 0; i++ {
		if c := victim.sent[i]; !c.revoking && c.ctxErr == nil {
			c.revoking, c.thief = true, idle
			idle.awaiting++
			victim.ctrl = append(victim.ctrl, ctrl{frameRevoke, c.id})
			want--
		}
	}
	victim.signal()
}

// unrevokeLocked ends c's revoke, given back or kept: the worker it was
// asked back for waits no longer for it.
func (p *Pool) unrevokeLocked(c *call) {
	thief := c.thief
	c.revoking, c.thief = false, nil
	if thief != nil {
		thief.awaiting--
		if thief.awaiting == 0 {
			thief.signal()
		}
	}
}

// sendLocked records that c goes to w, and wakes w's serve if it waits
// for calls to read for (a caller that reads for itself sets
// w.callerReading first).
func (p *Pool) sendLocked(w *worker, c *call) {
	c.state, c.w = sent, w
	w.sent = append(w.sent, c)
	w.assigned++
	if len(w.sent) == 1 {
		w.startedLocked()
	}
	if w.serveIdle && !w.callerReading {
		w.wakeServe()
	}
}

// startedLocked is called when w's first held call, w.sent[0], is the one
// it runs: it was sent to w idle, or the calls before it were answered (a
// worker runs its calls one at a time, in the order it received them). It
// starts the call's clock: its TimeLimit runs from here. A hook called
// again (a call started, given back, and sent again) does nothing.
func (w *worker) startedLocked() {
	if len(w.sent) > 0 && w.sent[0].start != nil {
		w.sent[0].start.Start()
	}
}

// removeLocked takes w.sent[i] off the calls w holds: answered, failed or
// given back. When it was the first, the next one is the one w runs now.
func (w *worker) removeLocked(i int) {
	w.sent = slices.Delete(w.sent, i, i+1) // (which clears the slot it frees: the call, its frame, results and ctx are not kept)
	if i == 0 {
		w.startedLocked()
	}
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

func (p *Pool) hasRoomLocked(w *worker) bool { return p.roomLocked(w) > 0 }

// roomLocked returns how many more calls w may be sent now.
func (p *Pool) roomLocked(w *worker) int {
	n := p.perWorker - len(w.sent)
	if p.cfg.maxTasks > 0 {
		n = min(n, p.cfg.maxTasks-w.assigned)
	}
	return max(n, 0)
}

// feederHasWorkLocked reports whether w's feeder may have something to do
// after w answered a call, so that it is not woken for nothing after every
// result.
func (p *Pool) feederHasWorkLocked(w *worker) bool {
	switch {
	case len(w.ctrl) > 0:
		return true
	case len(w.sent) > p.refillAt:
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
