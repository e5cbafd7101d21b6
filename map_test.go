package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
)

func TestMapOrder(t *testing.T) {
	ex := &held{}
	items := []int{1, 2, 3, 4}
	done := make(chan struct{})
	var got []int
	var err error
	go func() {
		defer close(done)
		got, err = execkit.Map(context.Background(), ex, items, func(_ context.Context, i int) (int, error) { return i * 10, nil })
	}()
	// Complete the tasks in reverse; Map still returns input order.
	for i := len(items) - 1; i >= 0; i-- {
		for {
			ex.mu.Lock()
			n := len(ex.tasks)
			ex.mu.Unlock()
			if n == len(items) {
				break
			}
		}
		_ = ex.run(i)
	}
	<-done
	if err != nil || !slices.Equal(got, []int{10, 20, 30, 40}) {
		t.Errorf("Map = %v, %v; want [10 20 30 40], nil", got, err)
	}
}

func TestMapStopsAtFirstError(t *testing.T) {
	ex := &execkit.Inline{}
	var calls atomic.Int64
	boom := errors.New("boom")
	_, err := execkit.Map(context.Background(), ex, []int{0, 1, 2, 3, 4, 5}, func(_ context.Context, i int) (int, error) {
		calls.Add(1)
		if i == 2 {
			return 0, fmt.Errorf("item %d: %w", i, boom)
		}
		return i, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("Map = %v; want the failing item's error", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("Map called fn %d times; want 3 (it stops submitting after the failure)", n)
	}
}

func TestMapCancelsRunning(t *testing.T) {
	ex := &held{}
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		_, err := execkit.Map(context.Background(), ex, []int{0, 1}, func(ctx context.Context, i int) (int, error) {
			if i == 1 {
				return 0, boom
			}
			<-ctx.Done() // cancelled by Map when item 1 fails
			return 0, ctx.Err()
		})
		done <- err
	}()
	for {
		ex.mu.Lock()
		n := len(ex.tasks)
		ex.mu.Unlock()
		if n == 2 {
			break
		}
	}
	go func() { _ = ex.run(0) }()
	_ = ex.run(1)
	if err := <-done; !errors.Is(err, boom) {
		t.Errorf("Map = %v; want boom, not the cancellation it caused", err)
	}
}

func TestMapBadInput(t *testing.T) {
	if _, err := execkit.Map[int, int](context.Background(), &held{}, []int{1}, nil); !errors.Is(err, execkit.ErrNilTask) {
		t.Errorf("Map(nil fn) = %v; want ErrNilTask", err)
	}
	got, err := execkit.Map(context.Background(), &held{}, nil, func(context.Context, int) (int, error) { return 0, nil })
	if err != nil || len(got) != 0 {
		t.Errorf("Map(no items) = %v, %v; want [], nil", got, err)
	}
	closed := &execkit.Inline{}
	_ = closed.Shutdown(context.Background())
	if _, err := execkit.Map(context.Background(), closed, []int{1}, func(context.Context, int) (int, error) { return 0, nil }); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Map on a closed executor = %v; want ErrClosed", err)
	}
}
