package errgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
)

var (
	boom    = errors.New("boom")
	failing = execkit.Register("errgroup_test.failing", func(context.Context, int) (int, error) { return 0, boom })
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
			_, err := execkit.Go(context.Background(), g, func(context.Context) (int, error) { return 0, boom }).Wait(context.Background())
			return err
		}},
		{"Func.Go", func(g *errgroup.Group) error {
			_, err := failing.Go(context.Background(), g, 1).Wait(context.Background())
			return err
		}},
		{"panic", func(g *errgroup.Group) error {
			_, err := execkit.Go(context.Background(), g, func(context.Context) (int, error) { panic(boom) }).Wait(context.Background())
			return err
		}},
		{"Thread", func(g *errgroup.Group) error {
			th := fireforget.NewThread("failing", execkit.TaskFunc(func(context.Context) error { return boom }))
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
					if err := r.fail(g); !errors.Is(err, boom) {
						t.Fatalf("round %d: the failing task reported %v; want boom", round, err)
					}
					told := sctx.Err() != nil
					started := false
					serr := g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
						started = true // read after Shutdown returned
						return nil
					}))
					if err := g.Shutdown(context.Background()); !errors.Is(err, boom) {
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
