package execkit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInlineConformance(t *testing.T) {
	executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
		return &execkit.Inline{OnError: onError}
	}, executortest.Synchronous(), executortest.AdmitsFollowUp())
}

// held is an executor that keeps tasks until the test runs them, so tests
// control when (and in which order) tasks start.
type held struct {
	mu    sync.Mutex
	tasks []execkit.Task
}

func (h *held) Submit(_ context.Context, t execkit.Task) error {
	if execkit.IsNil(t) {
		return execkit.ErrNilTask
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tasks = append(h.tasks, t)
	return nil
}

func (h *held) Shutdown(context.Context) error { return nil }

// run runs the i-th task held and returns its error.
func (h *held) run(i int) error {
	h.mu.Lock()
	t := h.tasks[i]
	h.mu.Unlock()
	return execkit.Run(context.Background(), t)
}

func TestIsNil(t *testing.T) {
	tests := []struct {
		task execkit.Task
		want bool
	}{
		{nil, true},
		{execkit.TaskFunc(nil), true},
		{execkit.TaskFunc(func(context.Context) error { return nil }), false},
	}
	for _, tt := range tests {
		if got := execkit.IsNil(tt.task); got != tt.want {
			t.Errorf("IsNil(%#v) = %v; want %v", tt.task, got, tt.want)
		}
	}
}

func TestRunRecoversPanic(t *testing.T) {
	sentinel := errors.New("sentinel")
	err := execkit.Run(context.Background(), execkit.TaskFunc(func(context.Context) error { panic(sentinel) }))
	var pe *execkit.PanicError
	if !errors.As(err, &pe) || !errors.Is(err, sentinel) || len(pe.Stack) == 0 {
		t.Fatalf("Run(panicking task) = %v; want a *PanicError wrapping the value, with a stack", err)
	}
	err = execkit.Run(context.Background(), execkit.TaskFunc(func(context.Context) error { panic("text") }))
	if !errors.As(err, &pe) || pe.Unwrap() != nil || pe.Value != "text" {
		t.Fatalf("Run(panic(\"text\")) = %#v; want Value \"text\" and Unwrap nil", err)
	}
}

func TestHasFuture(t *testing.T) {
	ex := &held{}
	execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return 1, nil })
	addFunc.Go(context.Background(), ex, point{1, 2})
	_ = ex.Submit(context.Background(), addFunc.Task(point{1, 2}))
	_ = ex.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return nil }))
	want := []bool{true, true, false, false}
	for i, w := range want {
		if got := execkit.HasFuture(ex.tasks[i]); got != w {
			t.Errorf("HasFuture(task %d) = %v; want %v", i, got, w)
		}
	}
}
