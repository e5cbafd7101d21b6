package fireforget

import (
	"context"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/benchwork"
)

// TestStackPerParkedTask holds the stack a task's goroutine spends on the
// Executor's own frames, against a bare go statement: the memory of a
// backlog of pending tasks (the bench's pending1e6 workload) is mostly
// their goroutines' stacks, 2 KB each unless a task's deepest call needs
// more, when it is 4 KB. It runs in a child process whose goroutines all
// start on 2 KB stacks (see benchwork.InFixedStackChild), so the figures
// do not depend on the machine's load or on what ran before.
func TestStackPerParkedTask(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's frames are larger")
	}
	if !benchwork.InFixedStackChild(t) {
		return
	}
	ctx := context.Background()
	e, err := New(OnError(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	}()
	// Both run the same Task; the baseline as BenchmarkSubmit's does.
	task := func(fn func()) execkit.Task {
		return execkit.TaskFunc(func(context.Context) error { fn(); return nil })
	}
	bare := func(fn func()) error {
		t := task(fn)
		go func() { _ = t.Run(ctx) }()
		return nil
	}
	submit := func(fn func()) error { return e.Submit(ctx, task(fn)) }
	extra, hBare, err := benchwork.ExtraStack(2000, bare, submit)
	if err != nil {
		t.Fatal(err)
	}
	frame := benchwork.DescendFrame()
	t.Logf("headroom on a 2 KB stack: go %d frames of %d bytes: the Executor's frames take about %d bytes more", hBare, frame, extra)
	// A task as deep as the deepest a bare go statement parks on 2 KB:
	// the worst case, where any frame more costs a 4 KB stack.
	for _, n := range []int{10_000, 100_000} {
		b, err := benchwork.ParkedStack(n, hBare, bare)
		if err != nil {
			t.Fatal(err)
		}
		s, err := benchwork.ParkedStack(n, hBare, submit)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d parked tasks at depth %d: go %.0f stack bytes per task, Submit %.0f", n, hBare, b, s)
	}
	if max := 3 * frame; extra > max {
		t.Errorf("the Executor's frames take %d bytes of a task's stack; want at most %d", extra, max)
	}
}
