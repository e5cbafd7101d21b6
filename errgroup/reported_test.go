package errgroup_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
)

var (
	failing = execkit.Register("errgroup_test.failing", func(context.Context, int) (int, error) { return 0, errBoom })
)

// TestFailureFailsBeforeReported: a task that reports its own outcome (a
// Future, a Func's Future, a fireforget Thread) fails the group before its
// failure can be seen: once Wait (or Join) returned the error, the other
// tasks' ctx is cancelled and a Submit is refused, its task not started.
// The group failed only after the task had reported it: a caller who acted
// on the error found its other tasks running and started new ones.
func TestFailureFailsBeforeReported(t *testing.T) {
	reporters := []struct {
		name string
		fail func(g *errgroup.Group) error // submits a failing task, returns the error it reports
	}{
		{"Go", func(g *errgroup.Group) error {
			_, err := execkit.Go(context.Background(), g, func(context.Context) (int, error) { return 0, errBoom }).Wait(context.Background())
			return err
		}},
		{"Func.Go", func(g *errgroup.Group) error {
			_, err := failing.Go(context.Background(), g, 1).Wait(context.Background())
			return err
		}},
		{"panic", func(g *errgroup.Group) error {
			_, err := execkit.Go(context.Background(), g, func(context.Context) (int, error) { panic(errBoom) }).Wait(context.Background())
			return err
		}},
		{"Thread", func(g *errgroup.Group) error {
			th := fireforget.NewThread("failing", execkit.TaskFunc(func(context.Context) error { return errBoom }))
			if err := th.Start(context.Background(), g); err != nil {
				return err
			}
			return th.Join(context.Background())
		}},
		{"portable Thread", func(g *errgroup.Group) error {
			th := fireforget.NewThread("failing", failing.Task(1))
			if err := th.Start(context.Background(), g); err != nil {
				return err
			}
			return th.Join(context.Background())
		}},
	}
	for _, r := range reporters {
		for _, o := range []struct {
			name string
			opts []errgroup.Option
		}{{"", nil}, {"/Limit", []errgroup.Option{errgroup.Limit(3)}}, {"/AllErrors", []errgroup.Option{errgroup.AllErrors()}}} {
			opts := o.opts
			t.Run(r.name+o.name, func(t *testing.T) {
				for round := range 200 {
					g, err := errgroup.New(opts...)
					if err != nil {
						t.Fatal(err)
					}
					sibling := make(chan context.Context, 1)
					if err := g.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
						sibling <- ctx
						<-ctx.Done()
						return ctx.Err()
					})); err != nil {
						t.Fatalf("Submit = %v", err)
					}
					sctx := <-sibling
					if err := r.fail(g); !errors.Is(err, errBoom) {
						t.Fatalf("round %d: the failing task reported %v; want boom", round, err)
					}
					told := sctx.Err() != nil
					started := false
					serr := g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
						started = true // read after Shutdown returned
						return nil
					}))
					if err := g.Shutdown(context.Background()); !errors.Is(err, errBoom) {
						t.Errorf("round %d: Shutdown = %v; want boom", round, err)
					}
					if !told {
						t.Errorf("round %d: the failure was reported while another task's ctx was live", round)
					}
					if !errors.Is(serr, errgroup.ErrGroupFailed) || started {
						t.Errorf("round %d: Submit after the failure was reported = %v, task started: %v; want ErrGroupFailed, not started", round, serr, started)
					}
					if t.Failed() {
						return
					}
				}
			})
		}
	}
}

// TestParentEndRefusesWaiters: a Submit waiting for a slot of the Limit
// when the parent ctx of WithContext ends returns ErrGroupFailed then, as
// after a failure, and its task never starts; it waited until a running
// task (one that does not watch its ctx) freed a slot.
func TestParentEndRefusesWaiters(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := errgroup.WithContext(parent, errgroup.Limit(1))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	running := make(chan struct{})
	if err := g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
		close(running)
		<-release // does not watch its ctx
		return nil
	})); err != nil {
		t.Fatalf("Submit = %v", err)
	}
	<-running
	var started atomic.Bool
	res := make(chan error, 1)
	go func() {
		res <- g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
			started.Store(true)
			return nil
		}))
	}()
	awaitParked(t, "gate.(*Gate).Wait") // queued for the slot
	cancel()
	returned := false
	select {
	case err := <-res:
		returned = true
		if !errors.Is(err, errgroup.ErrGroupFailed) {
			t.Errorf("waiting Submit = %v; want ErrGroupFailed", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("a Submit waiting for a slot did not return within 10s of the parent's end")
	}
	close(release)
	if err := g.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown = %v; want nil", err)
	}
	if !returned {
		<-res
	}
	if started.Load() {
		t.Error("the waiting Submit's task started after the parent ended")
	}
}

// awaitParked waits until some goroutine is parked in fn (its stack shows
// fn below a wait of the runtime's).
func awaitParked(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, fn) && (strings.Contains(g, "[select") || strings.Contains(g, "[chan receive")) {
				return
			}
		}
	}
	t.Fatalf("no goroutine parked in %s within 10s", fn)
}
