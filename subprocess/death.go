package subprocess

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// retire handles the end of a worker's result pipe: it makes sure the
// process is gone and reaped, fails the call it was running with a
// *WorkerError, and queues the calls it held again. It reports whether the
// worker ended as planned (let go by the pool, holding nothing).
func (p *Pool) retire(w *worker, why error) (clean bool) {
	p.mu.Lock()
	w.dead = true
	delete(p.workers, w)
	if p.warm == w {
		p.warm = nil
	}
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
			if c.revoking {
				p.unrevokeLocked(c)
			}
			again = append(again, c)
		}
	}
	p.requeueLocked(again...)
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
	<-w.exited // (so that its goroutine is gone too)
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
