package executortest

import (
	"context"
	"errors"

	"github.com/execkit/execkit"
)

func checkFutureCancel(h *harness) {
	f := h.goJob(1, waitCtx)
	h.awaitLines(startedFile, 1)
	f.Cancel()
	if _, err := wait(h, f); err == nil {
		h.t.Error("Wait after Cancel of a running task = nil error; want the task's error")
	}
	h.awaitLines(cancelledFile, 1)
	h.ctxEndedWith(1, ctxCanceledFile)
	f.Cancel() // again: a no-op
	// Cancelling one Future stops that task only: even a fail-fast group
	// goes on, and its Shutdown returns nil.
	if got, err := wait(h, h.goJob(2, record)); err != nil || got != 2 {
		h.t.Errorf("after a Future was cancelled, Wait = %d, %v; want 2, nil (Cancel stops one task)", got, err)
	}
	h.end(nil)
}

func checkFutureWaitExpired(h *harness) {
	f := h.goJob(1, waitRelease)
	expired, cancel := context.WithCancel(h.bg)
	cancel()
	if _, err := f.Wait(expired); !isCanceled(err) {
		h.t.Errorf("Wait(expired ctx) = %v; want context.Canceled", err)
	}
	h.release()
	if got, err := wait(h, f); err != nil || got != 1 {
		h.t.Errorf("Wait after an expired Wait = %d, %v; want 1, nil (the Future stays usable)", got, err)
	}
	h.end(nil)
}

func checkMap(h *harness) {
	n := 30
	if h.cfg.rejecting { // Map submits every item at once: ErrFull past capacity
		n = min(n, h.cfg.capacity)
	}
	jobs := make([]job, n)
	for i := range jobs {
		jobs[i] = h.job(i, record)
	}
	var got []int
	err := within(h.t, "Map", func() (err error) {
		got, err = jobFunc.Map(h.bg, h.ex, jobs)
		return err
	})
	if err != nil || len(got) != len(jobs) {
		h.t.Fatalf("Map = %v, %v; want %d results", got, err, len(jobs))
	}
	for i, v := range got {
		if v != i {
			h.t.Errorf("Map result %d = %d; want %d (input order)", i, v, i)
		}
	}
	// A failure stops Map, cancels what runs, and is what Map returns.
	if h.cfg.rejecting && h.cfg.capacity < 20 {
		h.end(nil)
		return
	}
	jobs = make([]job, 20)
	for i := range jobs {
		jobs[i] = h.job(100+i, map[bool]mode{true: waitCtx, false: record}[i > 5])
	}
	jobs[5].Mode = fail
	err = within(h.t, "Map", func() error {
		_, err := jobFunc.Map(h.bg, h.ex, jobs)
		return err
	})
	if !mentions("job 105 failed")(err) {
		h.t.Errorf("Map with a failing item = %v; want that item's error", err)
	}
	started, cancelled := h.lines(startedFile), h.lines(cancelledFile)
	for id := 106; id < 120; id++ {
		if started[id] != cancelled[id] {
			h.t.Errorf("task %d started but was not cancelled by the time Map returned", id)
		}
	}
	if h.cfg.failFast {
		h.end(mentions("job 105 failed"))
	} else {
		h.end(nil)
	}
}

func checkAsCompleted(h *harness) {
	var futures []*execkit.Future[int]
	for id := range 10 {
		futures = append(futures, h.goJob(id, record))
	}
	if !h.cfg.failFast {
		futures = append(futures, h.goJob(10, fail))
	}
	seen := make(map[*execkit.Future[int]]int)
	_ = within(h.t, "AsCompleted", func() error {
		for f := range execkit.AsCompleted(futures) {
			select {
			case <-f.Done():
			default:
				h.t.Error("AsCompleted yielded a Future that is not done")
			}
			seen[f]++
		}
		for range execkit.AsCompleted(futures) {
			break // leaves nothing behind (the leak check at the end)
		}
		return nil
	})
	for i, f := range futures {
		if seen[f] != 1 {
			h.t.Errorf("AsCompleted yielded future %d %d times; want 1", i, seen[f])
		}
	}
	h.end(nil)
}

// checkCtxDeadline: a task whose ctx (the one given to Go) has a deadline
// sees that ctx end with context.DeadlineExceeded when it passes, and the
// Future's error wraps it.
func checkCtxDeadline(h *harness) {
	ctx, cancel := context.WithTimeout(h.bg, policyLimit)
	defer cancel()
	f := jobFunc.Go(ctx, h.ex, h.job(1, waitCtx))
	if _, err := wait(h, f); !errors.Is(err, context.DeadlineExceeded) {
		h.t.Errorf("Wait = %v; want an error wrapping context.DeadlineExceeded", err)
	}
	h.awaitLines(cancelledFile, 1)
	h.ctxEndedWith(1, ctxExpiredFile)
	h.endFailed(func(err error) bool { return errors.Is(err, context.DeadlineExceeded) })
}

// ctxEndedWith checks that job id, waiting for its ctx, saw it end once,
// with the error that file stands for (see ctxCanceledFile).
func (h *harness) ctxEndedWith(id int, file string) {
	h.t.Helper()
	var saw []string
	for _, name := range []string{ctxCanceledFile, ctxExpiredFile, ctxOtherFile} {
		for range h.lines(name)[id] {
			saw = append(saw, name)
		}
	}
	if len(saw) != 1 || saw[0] != file {
		h.t.Errorf("job %d saw its ctx end as %v; want once, as %s (a task's ctx ends as one of package context does, on every executor; a ctx derived from it alike)", id, saw, file)
	}
}
