package executortest

import (
	"errors"
	"time"

	"github.com/execkit/execkit"
)

// checkStartOrder: a task is never left waiting for a slot that a task
// admitted after it took. Each round fills the executor's slots with tasks
// that hold them until cancelled, admits one quick task, then more holders
// (more of each than most executors have slots), and cancels the first
// holders: the quick task must take one of the slots they free, and finish,
// while the later holders wait. An executor that hands freed slots to the
// newest task, or whose goroutines race from its queue to its workers,
// lets the later holders take every slot, and the quick task (Map's
// failing item, a task a later one waits for) then never runs. A race
// shows in some rounds only, hence many.
func checkStartOrder(h *harness) {
	const maxRounds = 30
	n := h.small(16)
	begin := time.Now()
	for round := range maxRounds {
		if round >= 1 && time.Since(begin) > 3*time.Second {
			break // enough rounds on a slow executor (a durable queue)
		}
		id := 1000 + 100*round
		before := make([]*execkit.Future[int], n)
		for i := range before {
			before[i] = h.goAdmitted(id+i, waitCtx)
		}
		first := h.goAdmitted(id+50, record)
		// On a bounded executor that blocks, Go blocks now: submit the
		// later holders from goroutines, which Go returns in as slots free.
		after := make([]func() *execkit.Future[int], n)
		for i := range after {
			if h.cfg.capacity > 0 && !h.cfg.rejecting {
				after[i] = h.spawn(id+51+i, waitCtx, true)
			} else {
				f := h.goJob(id+51+i, waitCtx)
				after[i] = func() *execkit.Future[int] { return f }
			}
		}
		for _, f := range before {
			f.Cancel()
		}
		_, _, ok := waitWithin(first, patience)
		for _, f := range before {
			_, _ = wait(h, f)
		}
		for _, get := range after {
			f := get()
			f.Cancel()
			_, _ = wait(h, f)
		}
		if !ok {
			h.t.Errorf("round %d: a task did not finish within %v of the slots being freed, while the %d tasks admitted after it held them (an executor must give its slots to tasks in the order it admitted them)", round, patience, n)
			break
		}
		if v, err := first.Wait(h.bg); err != nil || v != id+50 {
			h.t.Errorf("round %d: Wait = %d, %v; want %d, nil", round, v, err, id+50)
		}
	}
	h.end(nil)
}

// goAdmitted is goJob, retrying while a rejecting executor is full (the
// slots of the tasks just waited for may be let go a moment after their
// Futures completed).
func (h *harness) goAdmitted(id int, m mode) *execkit.Future[int] {
	h.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		f := h.goJob(id, m)
		if !h.cfg.rejecting || time.Now().After(deadline) {
			return f
		}
		select {
		case <-f.Done():
			if _, err := f.Wait(h.bg); errors.Is(err, execkit.ErrFull) {
				time.Sleep(time.Millisecond)
				continue
			}
		default:
		}
		return f
	}
}
