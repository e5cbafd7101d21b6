package subprocess_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
)

// A fireforget.Thread of a registered function's task runs in a worker, and
// its handle, here, gets the outcome; a Thread of a closure is refused.
func TestThreadOfFuncTask(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	tests := []struct {
		name  string
		task  execkit.Task
		check func(error) bool
	}{
		{"ok", double.Task(21), func(err error) bool { return err == nil }},
		{"error", fail.Task("failed in the worker"), func(err error) bool {
			return err != nil && err.Error() == "failed in the worker"
		}},
		{"panic", boom.Task("panicked in the worker"), func(err error) bool {
			var pe *execkit.PanicError
			return errors.As(err, &pe) && pe.Value == "panicked in the worker"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := fireforget.NewThread(tt.name, tt.task)
			if err := th.Start(ctx, p); err != nil {
				t.Fatalf("Start = %v; want nil", err)
			}
			if err := th.Join(ctx); !tt.check(err) {
				t.Errorf("Join = %v; not the outcome of the task in the worker", err)
			}
			if th.Alive() {
				t.Error("Alive after Join = true; want false")
			}
		})
	}
	th := fireforget.NewThread("closure", execkit.TaskFunc(func(context.Context) error { return nil }))
	if err := th.Start(ctx, p); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Start(a Thread of a closure) = %v; want ErrNotPortable", err)
	}
	if err := th.Join(ctx); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Join(a Thread of a closure) = %v; want ErrNotPortable", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if s := p.Stats(); s.Succeeded != 1 || s.Failed != 1 || s.Panicked != 1 {
		t.Errorf("Stats = %+v; want 1 succeeded, 1 failed, 1 panicked (a Thread's task counts as any task)", s)
	}
}
