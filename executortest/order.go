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
//
// On a bounded executor those holders may fill its admission bound, so
// that nothing admitted after the quick task competes for the slots; a
// round of startOrderBounded comes first there.
func checkStartOrder(h *harness) {
	if h.cfg.capacity > 0 && !startOrderBounded(h) {
		h.end(nil)
		return
	}
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
		first := h.goAdmitted(id+5000, record)
		// On a bounded executor that blocks, Go blocks now: submit the
		// later holders from goroutines, which Go returns in as slots free.
		after := make([]func() *execkit.Future[int], n)
		for i := range after {
			if h.cfg.capacity > 0 && !h.cfg.rejecting {
				after[i] = h.spawn(id+5001+i, waitCtx, true)
			} else {
				f := h.goJob(id+5001+i, waitCtx)
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
		if v, err := first.Wait(h.bg); err != nil || v != id+5000 {
			h.t.Errorf("round %d: Wait = %d, %v; want %d, nil", round, v, err, id+5000)
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

// startOrderBounded is checkStartOrder's round for an executor whose
// admission is bounded (capacity C): it counts the executor's slots S,
// admitting holders one at a time until one does not start (the first to
// wait), then admits a quick task and as many holders as the bound still
// admits after it, and frees exactly one slot: the quick task must take
// it. An executor that gives a freed slot to the newest waiting task gives
// it to the last holder, and the quick task waits for ever. With fewer
// than S+3 admitted tasks no holder waits behind the quick task, and the
// round is skipped. It reports whether the check may go on.
func startOrderBounded(h *harness) bool {
	capacity := h.cfg.capacity
	const id = 10000
	var holders []*execkit.Future[int]
	defer func() {
		for _, f := range holders {
			f.Cancel()
			_, _ = wait(h, f)
		}
	}()
	// A task starts within settle, or waits for a slot: settle grows with
	// the slowest start seen (a durable queue starts tasks in milliseconds).
	settle := 100 * time.Millisecond
	slots := -1
	for len(holders) < capacity-2 {
		begin := time.Now()
		f := h.goAdmitted(id+len(holders), waitCtx)
		holders = append(holders, f)
		if !h.startsWithin(id+len(holders)-1, settle) {
			slots = len(holders) - 1
			break
		}
		settle = max(settle, 10*time.Since(begin))
	}
	if slots < 0 || capacity < slots+3 {
		return true // no room for a holder behind the quick task
	}
	quick := h.goAdmitted(id+5000, record)
	later := capacity - slots - 2
	for i := range later {
		// Within the bound, Submit admits them at once: a blocking one is
		// called from a goroutine all the same, in case it does not.
		var f *execkit.Future[int]
		if h.cfg.rejecting {
			f = h.goAdmitted(id+5001+i, waitCtx)
		} else if f = h.spawn(id+5001+i, waitCtx, true)(); f == nil {
			return false // Submit panicked: spawn said so
		}
		holders = append(holders, f)
	}
	// The holder that waits is cancelled first (it never starts), then
	// one that runs: one slot is free, and the quick task waits first.
	holders[slots].Cancel()
	holders[0].Cancel()
	if _, _, ok := waitWithin(quick, patience); !ok {
		h.t.Errorf("a task did not finish within %v of a slot being freed, while the %d tasks admitted after it waited (an executor must give its slots to tasks in the order it admitted them; %d slots, capacity %d)", patience, later, slots, capacity)
		return false
	}
	if v, err := quick.Wait(h.bg); err != nil || v != id+5000 {
		h.t.Errorf("bounded round: Wait = %d, %v; want %d, nil", v, err, id+5000)
	}
	return true
}

// startsWithin reports whether task id recorded its start within d.
func (h *harness) startsWithin(id int, d time.Duration) bool {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if h.lines(startedFile)[id] > 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}
