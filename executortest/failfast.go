package executortest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
)

// failFastRounds is how many groups checkFailFastReported fails, one per
// round.
const failFastRounds = 100

// checkFailFastReported: a group's failure is seen only once the group
// has failed. When the Future of the failing task returns its error, the
// other task's ctx has been cancelled, and a Submit made then is refused,
// its task not started: a caller who acts on the error (as Map does, or a
// loop over AsCompleted) finds the group failed, not still running. Each
// round uses a fresh group.
func checkFailFastReported(h *harness) {
	for r := range failFastRounds {
		ex := h.another()
		sibling := make(chan context.Context, 1)
		if err := h.submitTo(ex, execkit.TaskFunc(func(ctx context.Context) error {
			sibling <- ctx
			<-ctx.Done()
			return ctx.Err()
		})); err != nil {
			h.t.Fatalf("round %d: Submit = %v; want nil", r, err)
		}
		var sctx context.Context
		select {
		case sctx = <-sibling:
		case <-time.After(patience):
			h.t.Fatalf("round %d: a task did not start within %v", r, patience)
		}
		boom := fmt.Errorf("executortest: round %d failed", r)
		if _, err := wait(h, execkit.Go(h.bg, ex, func(context.Context) (int, error) { return 0, boom })); !errors.Is(err, boom) {
			h.t.Errorf("round %d: Future of the failing task: Wait = %v; want its error", r, err)
		}
		told := sctx.Err() != nil
		var started atomic.Bool
		serr := h.submitTo(ex, execkit.TaskFunc(func(context.Context) error {
			started.Store(true)
			return nil
		}))
		_ = within(h.t, "Shutdown", func() error { return ex.Shutdown(h.bg) })
		if !told {
			h.t.Errorf("round %d: the failing task's Future returned its error while another task of the group had a live ctx: the group must fail before its failure can be seen", r)
		}
		if serr == nil || started.Load() {
			h.t.Errorf("round %d: Submit after the failing task's Future returned its error = %v (its task started: %v); want an error, the task not started", r, serr, started.Load())
		}
		if h.t.Failed() {
			break
		}
	}
	h.end(nil)
}

// submitTo calls ex.Submit within patience.
func (h *harness) submitTo(ex execkit.Executor, t execkit.Task) error {
	h.t.Helper()
	return within(h.t, "Submit", func() error { return ex.Submit(h.bg, t) })
}

// checkFailFastWaiting: a Submit waiting for a slot of a bounded group
// when the group fails returns an error, and its task never starts: it
// does not wait on until a slot frees, to admit a task into a failed
// group.
func checkFailFastWaiting(h *harness) {
	for r := range failFastRounds / 10 {
		ex := h.another()
		release := make(chan struct{})
		for i := range h.cfg.capacity {
			fails := i == 0
			if err := h.submitTo(ex, execkit.TaskFunc(func(ctx context.Context) error {
				if fails {
					<-release
					return fmt.Errorf("executortest: round %d failed", r)
				}
				<-ctx.Done()
				return ctx.Err()
			})); err != nil {
				h.t.Fatalf("round %d: Submit %d = %v; want nil", r, i, err)
			}
		}
		var started atomic.Bool
		res := make(chan error, 1)
		go func() {
			res <- ex.Submit(h.bg, execkit.TaskFunc(func(context.Context) error {
				started.Store(true)
				return nil
			}))
		}()
		if !awaitParked("executortest.checkFailFastWaiting.func") {
			h.t.Fatalf("round %d: the Submit beyond the capacity did not wait", r)
		}
		close(release)
		var err error
		select {
		case err = <-res:
		case <-time.After(patience):
			h.t.Fatalf("round %d: a Submit waiting for a slot when the group failed did not return within %v", r, patience)
		}
		_ = within(h.t, "Shutdown", func() error { return ex.Shutdown(h.bg) })
		if err == nil || started.Load() {
			h.t.Errorf("round %d: a Submit waiting for a slot when the group failed = %v (its task started: %v); want an error, the task not started", r, err, started.Load())
		}
		if h.t.Failed() {
			break
		}
	}
	h.end(nil)
}

// awaitParked reports, within patience, when a goroutine whose stack
// shows fn is parked (waiting on a channel, a select or a lock).
func awaitParked(fn string) bool {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); runtime.Gosched() {
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			head, _, _ := strings.Cut(g, "\n")
			parked := strings.Contains(head, "[select") || strings.Contains(head, "[chan ") || strings.Contains(head, "[sync.") || strings.Contains(head, "[semacquire")
			if parked && strings.Contains(g, fn) && strings.Contains(g, "Submit") {
				return true
			}
		}
	}
	return false
}
