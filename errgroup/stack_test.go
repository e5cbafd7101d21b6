package errgroup_test

import (
	"context"
	"sync"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/internal/benchwork"
)

// TestStackPerParkedTask holds the stack a task's goroutine spends on the
// group's own frames, against a bare go statement with a WaitGroup (what
// x/sync's Go runs), on the same Task: a parked task keeps a 2 KB stack
// unless its deepest call needs more. It runs in a child process whose
// goroutines all start on 2 KB stacks (see benchwork.InFixedStackChild).
func TestStackPerParkedTask(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's frames are larger")
	}
	if !benchwork.InFixedStackChild(t) {
		return
	}
	ctx := context.Background()
	g, err := errgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	}()
	task := func(fn func()) execkit.Task {
		return execkit.TaskFunc(func(context.Context) error { fn(); return nil })
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	bare := func(fn func()) error {
		t := task(fn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = t.Run(ctx)
		}()
		return nil
	}
	submit := func(fn func()) error { return g.Submit(ctx, task(fn)) }
	extra, hBare, err := benchwork.ExtraStack(2000, bare, submit)
	if err != nil {
		t.Fatal(err)
	}
	frame := benchwork.DescendFrame()
	t.Logf("headroom on a 2 KB stack: go %d frames of %d bytes: the group's frames take about %d bytes more", hBare, frame, extra)
	if max := 3 * frame; extra > max {
		t.Errorf("the group's frames take %d bytes of a task's stack; want at most %d", extra, max)
	}
}
