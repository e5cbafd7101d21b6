package executortest

import (
	"context"
	"errors"
	"sync"
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

func checkShutdownConcurrent(h *harness) {
	for id := range 5 {
		if err := h.submitRetry(id, record); err != nil {
			h.t.Fatalf("Submit = %v; want nil", err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = h.ex.Shutdown(h.bg) }()
	}
	_ = within(h.t, "8 concurrent Shutdown calls", func() error { wg.Wait(); return nil })
	for i, err := range errs {
		if err != nil {
			h.t.Errorf("concurrent Shutdown #%d = %v; want nil", i, err)
		}
	}
	h.end(nil) // and once more
	if got := total(h.lines(finishedFile)); got != 5 {
		h.t.Errorf("%d of 5 tasks ran", got)
	}
}
