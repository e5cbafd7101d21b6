package fireforget

import (
	"context"
	"testing"

	"github.com/execkit/execkit"
)

// TestAllocs holds the allocation counts the package doc promises (Costs):
// a Submit (the closure its goroutine runs, as a go statement's own), a
// Thread from NewThread to its end, and a call of a Background function to
// the end of its job, each on an Executor without a limit.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := context.Background()
	ex, err := New(OnError(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ex.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	}()
	bg := Background(ex, func(context.Context, int) error { return nil })
	ran := make(chan struct{}, 1)
	signal := execkit.TaskFunc(func(context.Context) error { ran <- struct{}{}; return nil })
	tests := []struct {
		name string
		run  func() error
		want float64
	}{
		{"submit", func() error {
			// Wait for the task: a goroutine that has exited leaves its g
			// for the next one, where a backlog would make the runtime
			// allocate new ones.
			if err := ex.Submit(ctx, signal); err != nil {
				return err
			}
			<-ran
			return nil
		}, 1},
		{"thread start", func() error {
			th := NewThread("t", noopTask)
			if err := th.Start(ctx, ex); err != nil {
				return err
			}
			return th.Join(ctx)
		}, 3},
		{"background call", func() error { return bg(ctx, 1).Join(ctx) }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runErr error
			got := testing.AllocsPerRun(1000, func() {
				if err := tt.run(); err != nil && runErr == nil {
					runErr = err
				}
			})
			if runErr != nil {
				t.Fatalf("got error %v; want nil", runErr)
			}
			if got != tt.want {
				t.Errorf("got %v allocations; want %v", got, tt.want)
			}
		})
	}
}
