package driver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// recorder is a Failer that records the failures it was told of.
type recorder struct{ failed chan error }

func (r *recorder) TaskFailed(err error) { r.failed <- err }

// failFast is the least of a fail-fast executor: it runs each task in a
// goroutine with a ctx carrying its Failer.
type failFast struct {
	ctx   context.Context
	done  chan error
	tells bool // the last task submitted tells its failure itself
}

func (e *failFast) Submit(_ context.Context, t execkit.Task) error {
	e.tells = driver.TellsFailure(t)
	go func() { e.done <- driver.Run(e.ctx, t) }()
	return nil
}

func (e *failFast) Shutdown(context.Context) error { return nil }

// TestWithFailer: an executor written outside this module can fail fast as
// executortest's FailFast checks require: the task of a Future tells the
// Failer in its ctx of its failure before Wait returns it, and says that
// it does (TellsFailure), so the executor does not act on it again.
func TestWithFailer(t *testing.T) {
	rec := &recorder{failed: make(chan error, 1)}
	ex := &failFast{ctx: driver.WithFailer(context.Background(), rec), done: make(chan error, 1)}
	boom := errors.New("boom")
	f := execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return 0, boom })
	if _, err := f.Wait(context.Background()); err != boom {
		t.Fatalf("Wait = %v; want boom", err)
	}
	select {
	case err := <-rec.failed:
		if err != boom {
			t.Errorf("TaskFailed(%v); want boom", err)
		}
	default:
		t.Fatal("Wait returned the task's error before the Failer was told of it")
	}
	if err := <-ex.done; err != boom {
		t.Errorf("Run = %v; want boom", err)
	}
	if !ex.tells {
		t.Error("TellsFailure of a Future's task = false; want true")
	}
	if driver.TellsFailure(execkit.TaskFunc(func(context.Context) error { return nil })) || driver.TellsFailure(nil) {
		t.Error("TellsFailure of a TaskFunc, or of nil = true; want false")
	}
}

// TestWithFailerNil: a nil ctx is context.Background(), as everywhere in
// execkit; a nil Failer adds nothing, and a failing Future's task then
// tells no one (it panicked in context.WithValue before).
func TestWithFailerNil(t *testing.T) {
	//lint:ignore SA1012 a nil ctx is what this test passes
	ctx := driver.WithFailer(nil, nil)
	if ctx == nil || ctx.Err() != nil {
		t.Fatalf("WithFailer(nil, nil) = %v; want a live ctx", ctx)
	}
	ex := &failFast{ctx: ctx, done: make(chan error, 1)}
	boom := errors.New("boom")
	if _, err := execkit.Go(context.Background(), ex, func(context.Context) (int, error) { return 0, boom }).Wait(context.Background()); err != boom {
		t.Errorf("Wait = %v; want boom", err)
	}
	<-ex.done
}
