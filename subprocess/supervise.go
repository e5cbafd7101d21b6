package subprocess

import "time"

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

// sleep waits d, or until the pool stops; it reports whether to go on.
func (p *Pool) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stopc:
		return false
	}
}

func backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 10)
	return min(d, backoffMax)
}
