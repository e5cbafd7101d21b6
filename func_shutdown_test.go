package execkit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
)

var afterShutdownSquare = execkit.Register("execkit_test.after_shutdown_square", func(_ context.Context, x int) (int, error) { return x * x, nil })

// TestFuncAfterShutdown holds what the docs of Func.Go, Func.Map and
// Inline.Stats say of an executor that has shut down: the calls are refused
// with ErrClosed, and Stats still returns the final counts.
func TestFuncAfterShutdown(t *testing.T) {
	ctx := context.Background()
	ex := &execkit.Inline{}
	if got, err := afterShutdownSquare.Go(ctx, ex, 3).Wait(ctx); err != nil || got != 9 {
		t.Fatalf("Go before Shutdown = %v, %v; want 9, nil", got, err)
	}
	if err := ex.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := afterShutdownSquare.Go(ctx, ex, 2).Wait(ctx); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Func.Go after Shutdown: Wait = %v; want ErrClosed", err)
	}
	if _, err := afterShutdownSquare.Map(ctx, ex, []int{1, 2}); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Func.Map after Shutdown = %v; want ErrClosed", err)
	}
	if err := ex.Submit(ctx, afterShutdownSquare.Task(4)); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit of Func.Task after Shutdown = %v; want ErrClosed", err)
	}
	if s := ex.Stats(); s.Submitted != 1 || s.Succeeded != 1 {
		t.Errorf("Stats after Shutdown = %+v; want the one call before it, submitted and succeeded", s)
	}
}
