package executortest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
)

func checkNilTask(h *harness) {
	for _, task := range []execkit.Task{nil, execkit.TaskFunc(nil)} {
		if err := h.submit(h.bg, task); !errors.Is(err, execkit.ErrNilTask) {
			h.t.Errorf("Submit(%#v) = %v; want ErrNilTask", task, err)
		}
	}
	if _, err := wait(h, execkit.Go[int](h.bg, h.ex, nil)); !errors.Is(err, execkit.ErrNilTask) {
		h.t.Errorf("Go(nil).Wait = %v; want ErrNilTask", err)
	}
	h.end(nil)
}

// checkExactlyOnce: many submitters, half the tasks with Futures; after
// Shutdown every admitted task ran exactly once and no other did.
func checkExactlyOnce(h *harness) {
	const submitters, each = 8, 64
	var (
		mu       sync.Mutex
		admitted = make(map[int]bool)
		futures  = make(map[int]*execkit.Future[int])
		wg       sync.WaitGroup
	)
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := s*each + i
				if id%2 == 0 {
					for {
						f := jobFunc.Go(h.bg, h.ex, h.job(id, record))
						select {
						case <-f.Done():
							if _, err := f.Wait(h.bg); errors.Is(err, execkit.ErrFull) {
								time.Sleep(100 * time.Microsecond)
								continue
							}
						default:
						}
						mu.Lock()
						futures[id] = f
						mu.Unlock()
						break
					}
					continue
				}
				err := h.submitRetry(id, record)
				if err != nil {
					h.t.Errorf("Submit(task %d) = %v; want nil", id, err)
					continue
				}
				mu.Lock()
				admitted[id] = true
				mu.Unlock()
			}
		}()
	}
	if err := within(h.t, "the submitters", func() error { wg.Wait(); return nil }); err != nil {
		h.t.Fatal(err)
	}
	for id, f := range futures {
		got, err := wait(h, f)
		if err != nil || got != id {
			h.t.Errorf("future of task %d: Wait = %d, %v; want %d, nil", id, got, err, id)
		}
		admitted[id] = true
	}
	h.end(nil)
	ran := h.lines(finishedFile)
	wrong := 0
	for id := range submitters * each {
		if want := map[bool]int{true: 1}[admitted[id]]; ran[id] != want && wrong < 5 {
			wrong++
			h.t.Errorf("task %d ran %d times; want %d (admitted: %v)", id, ran[id], want, admitted[id])
		}
	}
	if errs := h.errs.all(); len(errs) > 0 {
		h.t.Errorf("onError received %v; want nothing", errs)
	}
}

func checkSubmitAfterShutdown(h *harness) {
	if err := h.submitRetry(1, record); err != nil {
		h.t.Fatalf("Submit = %v; want nil", err)
	}
	h.end(nil)
	if err := h.submitJob(h.bg, 2, record); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Submit after Shutdown = %v; want ErrClosed", err)
	}
	if _, err := wait(h, h.goJob(3, record)); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Go after Shutdown: Wait = %v; want ErrClosed", err)
	}
	if got := h.lines(finishedFile); got[1] != 1 || got[2] != 0 || got[3] != 0 {
		h.t.Errorf("tasks ran %v; want task 1 once, no other", got)
	}
}

// checkSubmitDuringShutdown races submitters with Shutdown: every Submit
// that returned nil ran; every one that returned ErrClosed did not.
func checkSubmitDuringShutdown(h *harness) {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		admitted = make(map[int]bool)
		wg       sync.WaitGroup
		some     = make(chan struct{})
		once     sync.Once
		returned atomic.Bool // Shutdown has returned
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id := int(next.Add(1))
				after := returned.Load()
				err := h.submitJob(h.bg, id, record)
				switch {
				case err == nil && after:
					h.t.Errorf("Submit after Shutdown returned = nil; want ErrClosed")
					return
				case err == nil:
					mu.Lock()
					admitted[id] = true
					n := len(admitted)
					mu.Unlock()
					if n >= 20 {
						once.Do(func() { close(some) })
					}
				case errors.Is(err, execkit.ErrFull):
					time.Sleep(100 * time.Microsecond)
				case errors.Is(err, execkit.ErrClosed):
					return
				default:
					h.t.Errorf("Submit during Shutdown = %v; want nil or ErrClosed", err)
					return
				}
			}
		}()
	}
	select {
	case <-some:
	case <-time.After(patience):
		h.t.Fatal("20 tasks were not admitted in time")
	}
	if err := h.shutdown(h.bg); err != nil {
		h.t.Errorf("Shutdown = %v; want nil", err)
	}
	returned.Store(true)
	ran := h.lines(finishedFile) // Shutdown returned: everything admitted has run
	_ = within(h.t, "Submit after Shutdown returned", func() error { wg.Wait(); return nil })
	mu.Lock()
	defer mu.Unlock()
	wrong := 0
	for id := range admitted {
		if ran[id] != 1 && wrong < 5 {
			wrong++
			h.t.Errorf("admitted task %d ran %d times by the time Shutdown returned; want 1", id, ran[id])
		}
	}
	for id, n := range ran {
		if !admitted[id] && wrong < 10 {
			wrong++
			h.t.Errorf("task %d ran %d times though Submit did not admit it", id, n)
		}
	}
	h.end(nil)
}

func checkBlockedSubmit(h *harness) {
	c := h.cfg.capacity
	for id := range c {
		if err := h.submitJob(h.bg, id, waitRelease); err != nil {
			h.t.Fatalf("Submit %d of capacity %d = %v; want nil", id+1, c, err)
		}
	}
	ctx, cancel := context.WithTimeout(h.bg, 50*time.Millisecond)
	defer cancel()
	if err := h.submitJob(ctx, c, record); !errors.Is(err, context.DeadlineExceeded) {
		h.t.Errorf("Submit at capacity = %v; want it to block until its ctx ends and return context.DeadlineExceeded", err)
	}
	h.release()
	h.end(nil)
	ran := h.lines(finishedFile)
	if ran[c] != 0 {
		h.t.Errorf("the task whose Submit returned an error ran %d times; want 0", ran[c])
	}
	if total(ran) != c {
		h.t.Errorf("%d tasks ran; want the %d admitted", total(ran), c)
	}
}

func checkRejectWhenFull(h *harness) {
	c := h.cfg.capacity
	for id := range c {
		if err := h.submitJob(h.bg, id, waitRelease); err != nil {
			h.t.Fatalf("Submit %d of capacity %d = %v; want nil", id+1, c, err)
		}
	}
	if err := h.submitJob(h.bg, c, record); !errors.Is(err, execkit.ErrFull) {
		h.t.Errorf("Submit at capacity = %v; want ErrFull", err)
	}
	h.release()
	h.end(nil)
	if ran := h.lines(finishedFile); ran[c] != 0 || total(ran) != c {
		h.t.Errorf("tasks ran %v; want the %d admitted, not the rejected one", ran, c)
	}
}

// checkShutdownWakesWaiters: a Submit blocked at capacity when Shutdown
// begins returns ErrClosed then, without waiting for a slot (which may
// free only when Shutdown is long over, or never), and its task never
// runs: after Shutdown began, Submit returns ErrClosed.
func checkShutdownWakesWaiters(h *harness) {
	c := h.cfg.capacity
	for id := range c {
		if err := h.submitJob(h.bg, id, waitRelease); err != nil {
			h.t.Fatalf("Submit %d of capacity %d = %v; want nil", id+1, c, err)
		}
	}
	blocked := make(chan error, 1)
	go func() { blocked <- h.ex.Submit(h.bg, jobFunc.Task(h.job(c, record))) }()
	select {
	case err := <-blocked:
		h.t.Fatalf("Submit at capacity = %v; want it to block", err)
	case <-time.After(50 * time.Millisecond): // a chance to reach its wait
	}
	shut := make(chan error, 1)
	go func() { shut <- h.ex.Shutdown(h.bg) }()
	returned := false
	select {
	case err := <-blocked:
		returned = true
		if !errors.Is(err, execkit.ErrClosed) {
			h.t.Errorf("a Submit blocked at capacity when Shutdown began = %v; want ErrClosed", err)
		}
	case <-time.After(patience):
		h.t.Errorf("a Submit blocked at capacity did not return within %v after Shutdown began (while the admitted tasks still ran); want ErrClosed at once", patience)
	}
	h.release()
	if !returned {
		select {
		case err := <-blocked:
			if err == nil {
				h.t.Errorf("a Submit blocked at capacity when Shutdown began admitted its task once a slot freed")
			}
		case <-time.After(patience):
			h.t.Fatalf("a Submit blocked at capacity did not return within %v after the tasks finished", patience)
		}
	}
	select {
	case err := <-shut:
		if err != nil && !h.cfg.failFast {
			h.t.Errorf("Shutdown = %v; want nil", err)
		}
	case <-time.After(patience):
		h.t.Fatalf("Shutdown did not return within %v after its tasks finished", patience)
	}
	h.end(nil)
	if ran := h.lines(finishedFile); ran[c] != 0 || total(ran) != c {
		h.t.Errorf("tasks ran %v; want the %d admitted, not the one whose Submit waited when Shutdown began", ran, c)
	}
}
