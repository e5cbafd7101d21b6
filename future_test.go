package execkit_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

func TestFutureCancelBeforeStart(t *testing.T) {
	ex := &held{}
	ran := false
	f := execkit.Go(context.Background(), ex, func(context.Context) (int, error) { ran = true; return 1, nil })
	f.Cancel()
	select {
	case <-f.Done():
	default:
		t.Fatal("Done not closed after Cancel of a task that had not started")
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v; want context.Canceled", err)
	}
	if err := ex.run(0); !errors.Is(err, context.Canceled) {
		t.Errorf("running the cancelled task returned %v; want context.Canceled", err)
	}
	if ran {
		t.Error("a task whose Future was cancelled before it started ran")
	}
}

func TestFutureCancelRunning(t *testing.T) {
	ex := &held{}
	started := make(chan struct{})
	f := execkit.Go(context.Background(), ex, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		return 7, ctx.Err()
	})
	errc := make(chan error, 1)
	go func() { errc <- ex.run(0) }()
	<-started
	f.Cancel()
	if got, err := f.Wait(context.Background()); got != 7 || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %d, %v; want what the task returned: 7, context.Canceled", got, err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("task returned %v to the executor; want context.Canceled", err)
	}
	f.Cancel() // finished: a no-op
}

func TestFutureWaitExpiredStaysUsable(t *testing.T) {
	ex := &held{}
	f := execkit.Go(context.Background(), ex, func(context.Context) (string, error) { return "ok", nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(expired) = %v; want context.Canceled", err)
	}
	if err := ex.run(0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := f.Wait(ctx); got != "ok" || err != nil {
			t.Errorf("Wait after completion = %q, %v; want ok, nil (even with an expired ctx)", got, err)
		}
	}
}

func TestGoSubmitErrors(t *testing.T) {
	closed := &execkit.Inline{}
	if err := closed.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ex   execkit.Executor
		fn   func(context.Context) (int, error)
		want error
	}{
		{"nil function", &held{}, nil, execkit.ErrNilTask},
		{"closed executor", closed, func(context.Context) (int, error) { return 1, nil }, execkit.ErrClosed},
	}
	for _, tt := range tests {
		if _, err := execkit.Go(context.Background(), tt.ex, tt.fn).Wait(context.Background()); !errors.Is(err, tt.want) {
			t.Errorf("%s: Wait = %v; want %v", tt.name, err, tt.want)
		}
	}
}

func TestAsCompletedOrder(t *testing.T) {
	ex := &held{}
	var futures []*execkit.Future[int]
	for i := range 5 {
		futures = append(futures, execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return i, nil }))
	}
	order := []int{3, 0, 4, 1, 2}
	next := make(chan struct{})
	go func() {
		for _, i := range order {
			<-next
			_ = ex.run(i)
		}
	}()
	var got []int
	next <- struct{}{}
	for f := range execkit.AsCompleted(futures) {
		v, _ := f.Wait(context.Background())
		got = append(got, v)
		if len(got) < len(order) {
			next <- struct{}{}
		}
	}
	if !slices.Equal(got, order) {
		t.Errorf("AsCompleted yielded %v; want completion order %v", got, order)
	}
}

func TestAsCompletedBreakEarly(t *testing.T) {
	ex := &held{}
	f1 := execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return 1, nil })
	f2 := execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return 2, nil })
	_ = ex.run(1)
	for f := range execkit.AsCompleted([]*execkit.Future[int]{f1, f2}) {
		if f != f2 {
			t.Errorf("first yielded the future that is not done")
		}
		break
	}
	_ = ex.run(0) // completing f1 later must not block on the abandoned iterator
	if _, err := f1.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestGoWaitAllocs(t *testing.T) {
	ex := &execkit.Inline{}
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := execkit.Go(ctx, ex, fn).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	})
	// The Future (which holds its Task), its done channel, and the task's
	// cancellable context with its cancel function.
	const budget = 4
	if allocs > budget {
		t.Errorf("Go + Wait on Inline: %v allocs per task; want at most %d", allocs, budget)
	}
}

func BenchmarkGoWait(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.Run("executor=Inline", func(b *testing.B) {
		ex := &execkit.Inline{}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := execkit.Go(ctx, ex, fn).Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("executor=none", func(b *testing.B) { // the function called directly, for scale
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDeadlineReachesTask: the deadline of the ctx given to Go and Map
// reaches the task's ctx; without one the task has none; cancelling that
// ctx does not cancel a Future's task (Future.Cancel does).
func TestDeadlineReachesTask(t *testing.T) {
	var ex execkit.Inline
	dl := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	defer cancel()
	got, err := execkit.Go(ctx, &ex, func(ctx context.Context) (time.Time, error) {
		d, _ := ctx.Deadline()
		return d, nil
	}).Wait(ctx)
	if err != nil || !got.Equal(dl) {
		t.Errorf("Go: the task's deadline = %v, %v; want %v", got, err, dl)
	}
	ds, err := execkit.Map(ctx, &ex, []int{1, 2}, func(ctx context.Context, _ int) (bool, error) {
		d, ok := ctx.Deadline()
		return ok && d.Equal(dl), nil
	})
	if err != nil || !ds[0] || !ds[1] {
		t.Errorf("Map: the tasks saw the deadline: %v, %v; want [true true]", ds, err)
	}
	if _, err := execkit.Go(context.Background(), &ex, func(ctx context.Context) (int, error) {
		if _, ok := ctx.Deadline(); ok {
			return 0, errors.New("a deadline out of nowhere")
		}
		return 0, nil
	}).Wait(ctx); err != nil {
		t.Error(err)
	}
}

// TestAsCompletedZeroFuture: a zero Future (not made by Go) is done, so
// AsCompleted yields it at once, as its doc says, instead of waiting for
// ever.
func TestAsCompletedZeroFuture(t *testing.T) {
	zero := new(execkit.Future[int])
	n := 0
	for f := range execkit.AsCompleted([]*execkit.Future[int]{zero, nil}) {
		if f != zero {
			t.Errorf("AsCompleted yielded %p; want the zero Future %p", f, zero)
		}
		if _, err := f.Wait(context.Background()); !errors.Is(err, execkit.ErrNilTask) {
			t.Errorf("zero Future: Wait = %v; want ErrNilTask", err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("AsCompleted yielded %d futures; want 1", n)
	}
}
