package executortest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/execkit/execkit"
)

// checkFollowUp: a running task walks a tree after Shutdown began, each
// node submitting its children with its own ctx (a crawler, x/sync's
// recursive fan-out). An executor that declares [AdmitsFollowUp] admits
// each Submit (a rejecting one may say ErrFull at capacity), and Shutdown
// returns only after every admitted node has run; any other refuses each
// with ErrClosed. Either way every Submit that returned nil ran exactly
// once by the time Shutdown returned, no other ran, and a task's ctx kept
// after Shutdown returned admits nothing.
func checkFollowUp(h *harness) {
	const fanOut, depth = 3, 3
	const holder = 1 // the first follow-up: it waits on hold
	var (
		mu       sync.Mutex
		ran      = make(map[int]int)
		results  = make(map[int]error) // each follow-up's Submit result
		kept     = make(chan context.Context, 1)
		started  = make(chan struct{}) // the root runs
		release  = make(chan struct{}) // Shutdown has begun: the root submits
		holding  = make(chan struct{}) // the holder runs
		hold     = make(chan struct{})
		holdOnce sync.Once
	)
	unhold := func() { holdOnce.Do(func() { close(hold) }) }
	defer unhold()
	var node func(id, depth int) execkit.Task
	node = func(id, depth int) execkit.Task {
		return execkit.TaskFunc(func(ctx context.Context) error {
			mu.Lock()
			ran[id]++
			mu.Unlock()
			switch id {
			case 0:
				kept <- ctx
				close(started)
				<-release
			case holder:
				close(holding)
				<-hold
			}
			if depth == 0 {
				return nil
			}
			for i := range fanOut {
				child := id*fanOut + i + 1
				err := h.ex.Submit(ctx, node(child, depth-1))
				for child == holder && errors.Is(err, execkit.ErrFull) && h.cfg.followUp {
					time.Sleep(100 * time.Microsecond) // until a probe of the check leaves
					err = h.ex.Submit(ctx, node(child, depth-1))
				}
				mu.Lock()
				results[child] = err
				mu.Unlock()
			}
			return nil
		})
	}
	rootDone := make(chan error, 1)
	go func() { rootDone <- h.ex.Submit(h.bg, node(0, depth)) }() // Inline runs it in Submit
	select {
	case <-started:
	case <-time.After(patience):
		h.t.Fatalf("the root task did not start within %v", patience)
	}
	shutDone := make(chan error, 1)
	go func() { shutDone <- h.ex.Shutdown(h.bg) }()
	h.awaitClosed()
	close(release)

	var shutErr error
	returned := false
	if h.cfg.followUp {
		select {
		case <-holding:
		case shutErr = <-shutDone:
			returned = true
			h.t.Errorf("Shutdown returned (%v) before the first follow-up ran; want it to wait for the follow-ups", shutErr)
		case <-time.After(patience):
			h.t.Fatalf("the first follow-up did not run within %v (Submit = %v)", patience, lookup(&mu, results, holder))
		}
		if !returned {
			select {
			case shutErr = <-shutDone:
				returned = true
				h.t.Errorf("Shutdown returned (%v) while an admitted follow-up was still running; want it to wait for the follow-ups", shutErr)
			case <-time.After(50 * time.Millisecond): // a chance for a broken Shutdown to return early
			}
		}
	}
	var ranAtReturn map[int]int
	if returned {
		ranAtReturn = snapshot(&mu, ran)
		unhold()
	} else {
		unhold()
		select {
		case shutErr = <-shutDone:
			ranAtReturn = snapshot(&mu, ran)
		case <-time.After(patience):
			h.t.Fatalf("Shutdown did not return within %v", patience)
		}
	}
	if shutErr != nil {
		h.t.Errorf("Shutdown = %v; want nil", shutErr)
	}
	select {
	case err := <-rootDone:
		if err != nil {
			h.t.Errorf("Submit(root) = %v; want nil", err)
		}
	case <-time.After(patience):
		h.t.Fatalf("Submit(root) did not return within %v", patience)
	}

	mu.Lock()
	defer mu.Unlock()
	wrong := 0
	report := func(format string, args ...any) {
		if wrong++; wrong <= 8 {
			h.t.Errorf(format, args...)
		}
	}
	admitted := 0
	for id, err := range results {
		switch {
		case err == nil:
			admitted++
			if !h.cfg.followUp {
				report("follow-up %d: Submit during Shutdown = nil; want ErrClosed (the executor does not declare AdmitsFollowUp)", id)
			}
			if n := ranAtReturn[id]; n != 1 {
				report("follow-up %d: Submit returned nil, but the task had run %d times when Shutdown returned; want 1", id, n)
			}
		case errors.Is(err, execkit.ErrClosed):
			if h.cfg.followUp {
				report("follow-up %d: Submit from a running task during Shutdown = ErrClosed; want it admitted (the executor declares AdmitsFollowUp)", id)
			}
			if n := ran[id]; n != 0 {
				report("follow-up %d: Submit = ErrClosed, but the task ran %d times", id, n)
			}
		case errors.Is(err, execkit.ErrFull) && h.cfg.rejecting && h.cfg.followUp:
			if n := ran[id]; n != 0 {
				report("follow-up %d: Submit = ErrFull, but the task ran %d times", id, n)
			}
		default:
			report("follow-up %d: Submit from a running task during Shutdown = %v; want nil or ErrClosed as declared", id, err)
		}
	}
	if h.cfg.followUp && admitted == 0 {
		h.t.Error("no follow-up was admitted; want them admitted (the executor declares AdmitsFollowUp)")
	}
	for id, n := range ran {
		if _, submitted := results[id]; id != 0 && !submitted {
			report("task %d ran %d times though no Submit of it returned yet", id, n)
		}
	}

	// A task's ctx that outlived the executor admits nothing.
	late := execkit.TaskFunc(func(context.Context) error {
		h.t.Error("a task submitted with a kept task ctx after Shutdown returned ran")
		return nil
	})
	if err := h.submit(<-kept, late); !errors.Is(err, execkit.ErrClosed) {
		h.t.Errorf("Submit with a task's ctx after Shutdown returned = %v; want ErrClosed", err)
	}
	h.end(nil)
}

// awaitClosed probes with no-op tasks until Submit says ErrClosed: then
// Shutdown has begun. The probes use an ended ctx, so that none waits at
// capacity.
func (h *harness) awaitClosed() {
	h.t.Helper()
	ended, cancel := context.WithCancel(h.bg)
	cancel()
	deadline := time.Now().Add(patience)
	for {
		err := h.submit(ended, execkit.TaskFunc(func(context.Context) error { return nil }))
		if errors.Is(err, execkit.ErrClosed) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("Submit did not return ErrClosed within %v of Shutdown's call (last: %v)", patience, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func lookup(mu *sync.Mutex, m map[int]error, id int) error {
	mu.Lock()
	defer mu.Unlock()
	if err, ok := m[id]; ok {
		return err
	}
	return fmt.Errorf("not returned yet")
}

func snapshot(mu *sync.Mutex, m map[int]int) map[int]int {
	mu.Lock()
	defer mu.Unlock()
	c := make(map[int]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
