package executortest

import (
	"context"
	"errors"
	"time"

	"github.com/execkit/execkit"
)

func checkShutdownWaits(h *harness) {
	k := h.small(4)
	submitted := make([]func() *execkit.Future[int], k)
	for id := range k {
		submitted[id] = h.spawn(id, waitRelease, id == 0)
	}
	h.awaitLines(startedFile, k)
	done := make(chan error, 1)
	go func() { done <- h.ex.Shutdown(h.bg) }()
	select {
	case err := <-done:
		h.t.Errorf("Shutdown returned %v while %d admitted tasks were still running; want it to wait", err, k)
	case <-time.After(50 * time.Millisecond): // a chance for a broken Shutdown to return early
	}
	if err := h.submitJob(h.bg, 99, record); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Submit while Shutdown waits = %v; want ErrClosed", err)
	}
	h.release()
	select {
	case err := <-done:
		if err != nil {
			h.t.Errorf("Shutdown = %v; want nil", err)
		}
	case <-time.After(patience):
		h.t.Fatalf("Shutdown did not return within %v after its tasks finished", patience)
	}
	if got := total(h.lines(finishedFile)); got != k {
		h.t.Errorf("when Shutdown returned, %d of %d admitted tasks had finished", got, k)
	}
	for _, s := range submitted[1:] {
		s()
	}
	if got, err := wait(h, submitted[0]()); err != nil || got != 0 {
		h.t.Errorf("Future of a task admitted before Shutdown: Wait = %d, %v; want 0, nil", got, err)
	}
	h.end(nil)
}

func checkShutdownDeadline(h *harness) {
	k := h.small(3)
	submitted := make([]func() *execkit.Future[int], k)
	for id := range k {
		submitted[id] = h.spawn(id, waitCtx, id == 0)
	}
	h.awaitLines(startedFile, k)
	expired, cancel := context.WithCancel(h.bg)
	cancel()
	if err := h.shutdown(expired); !errors.Is(err, context.Canceled) {
		h.t.Errorf("Shutdown(expired ctx) = %v; want context.Canceled", err)
	}
	h.awaitLines(cancelledFile, k) // the tasks' contexts were cancelled
	for _, s := range submitted[1:] {
		s()
	}
	if _, err := wait(h, submitted[0]()); err == nil {
		h.t.Error("Future of a task cancelled by Shutdown: Wait = nil error; want the task's error")
	}
	if h.cfg.failFast {
		h.end(isCanceled)
	} else {
		h.end(nil)
	}
	if n := len(h.errs.all()); n > k-1 && !h.cfg.failFast {
		h.t.Errorf("onError received %d errors for %d tasks", n, k-1)
	}
}

// checkShutdownConcurrent: Shutdown called concurrently, while admitted
// tasks still run, returns in every call only once they have finished
// (not at once in every call but the first), and with nil.
func checkShutdownConcurrent(h *harness) {
	const quick = 5
	for id := range quick {
		if err := h.submitRetry(id, record); err != nil {
			h.t.Fatalf("Submit = %v; want nil", err)
		}
	}
	k := h.small(3)
	submitted := make([]func() *execkit.Future[int], k)
	for i := range k {
		if h.cfg.rejecting && !h.cfg.synchronous { // the quick tasks may hold their slots yet: retry ErrFull
			f := h.goAdmitted(quick+i, waitRelease)
			submitted[i] = func() *execkit.Future[int] { return f }
			continue
		}
		submitted[i] = h.spawn(quick+i, waitRelease, false)
	}
	h.awaitLines(startedFile, quick+k)
	const calls = 8
	type result struct {
		i        int
		err      error
		finished int // tasks finished when the call returned
	}
	results := make(chan result, calls)
	for i := range calls {
		go func() {
			err := h.ex.Shutdown(h.bg)
			c, _ := counts(h.dir, finishedFile)
			results <- result{i, err, total(c)}
		}()
	}
	select {
	case r := <-results:
		h.t.Errorf("concurrent Shutdown #%d returned %v while %d admitted tasks were still running; want every call to wait for them", r.i, r.err, k)
	case <-time.After(50 * time.Millisecond): // a chance for a broken Shutdown to return early
	}
	h.release()
	for range calls {
		select {
		case r := <-results:
			if r.err != nil {
				h.t.Errorf("concurrent Shutdown #%d = %v; want nil", r.i, r.err)
			}
			if r.finished != quick+k {
				h.t.Errorf("concurrent Shutdown #%d returned when %d of %d admitted tasks had finished; want all", r.i, r.finished, quick+k)
			}
		case <-time.After(patience):
			h.t.Fatalf("concurrent Shutdown calls did not return within %v after their tasks finished", patience)
		}
	}
	for _, s := range submitted {
		s()
	}
	h.end(nil) // and once more
	if got := total(h.lines(finishedFile)); got != quick+k {
		h.t.Errorf("%d of %d tasks ran", got, quick+k)
	}
}
