package errgroup_test

// The test patterns of golang.org/x/sync/errgroup (errgroup_test.go,
// v0.19.0), re-expressed through xgroup, a thin adapter with x/sync's
// method set over a Group. What could not be expressed:
//   - reuse after Wait (TestZeroGroup calls Wait after each Go, TestTryGo
//     goes on after Wait): Shutdown is final; each prefix gets a group.
//   - SetLimit after construction, SetLimit(0) (TryGo always false) and
//     SetLimit(-1): the limit is an option of New, at least 1.
//   - the context that x/sync's WithContext returns to the caller: a
//     Group hands its context to its tasks only; these tests read it from
//     inside a task.
//   - Go after a failure: x/sync starts the function; a Group skips it
//     (ErrGroupFailed), so "first error" cases need the tasks in order
//     (Limit(1), each Submit waiting for the previous task).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// xgroup has x/sync's errgroup.Group method set.
type xgroup struct {
	t *testing.T
	g *errgroup.Group
}

func xWithContext(t *testing.T, ctx context.Context, opts ...errgroup.Option) *xgroup {
	g, err := errgroup.WithContext(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &xgroup{t, g}
}

// Go submits f; x/sync's Go has no error, so a refusal other than the
// documented skip after a failure fails the test.
func (x *xgroup) Go(f func() error) {
	err := x.g.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error { return f() }))
	if err != nil && !errors.Is(err, errgroup.ErrGroupFailed) {
		x.t.Errorf("Go: Submit = %v", err)
	}
}

// TryGo is Submit with an ended ctx: a free slot admits, else false.
func (x *xgroup) TryGo(f func() error) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return x.g.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return f() })) == nil
}

func (x *xgroup) Wait() error { return x.g.Shutdown(context.Background()) }

// TestXSyncZeroGroup: Wait returns the first error, per prefix of errs.
func TestXSyncZeroGroup(t *testing.T) {
	err1 := errors.New("errgroup_test: 1")
	err2 := errors.New("errgroup_test: 2")
	cases := [][]error{{}, {nil}, {err1}, {err1, nil}, {err1, nil, err2}}
	for _, errs := range cases {
		for n := range len(errs) + 1 {
			g := xWithContext(t, context.Background(), errgroup.Limit(1))
			var first error
			for _, err := range errs[:n] {
				g.Go(func() error { return err })
				if first == nil {
					first = err
				}
			}
			if got := g.Wait(); got != first {
				t.Errorf("after Go for err in %v: Wait() = %v; want %v", errs[:n], got, first)
			}
		}
	}
}

// TestXSyncWithContext: Wait returns the first error and the group's
// context is done afterwards, with the error (or context.Canceled) as its
// cause, which is x/sync's TestCancelCause too.
func TestXSyncWithContext(t *testing.T) {
	errDoom := errors.New("group_test: doomed")
	cases := []struct {
		errs []error
		want error
	}{
		{want: nil},
		{errs: []error{nil}, want: nil},
		{errs: []error{errDoom}, want: errDoom},
		{errs: []error{errDoom, nil}, want: errDoom},
	}
	for _, tc := range cases {
		g := xWithContext(t, context.Background(), errgroup.Limit(1))
		ctxs := make(chan context.Context, len(tc.errs))
		for _, err := range tc.errs {
			if err := g.g.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
				ctxs <- ctx
				return err
			})); err != nil && !errors.Is(err, errgroup.ErrGroupFailed) {
				t.Fatal(err)
			}
		}
		if err := g.Wait(); err != tc.want {
			t.Errorf("after Go for err in %v: Wait() = %v; want %v", tc.errs, err, tc.want)
		}
		close(ctxs)
		want := tc.want
		if want == nil {
			want = context.Canceled
		}
		for ctx := range ctxs {
			if ctx.Err() == nil {
				t.Errorf("after Go for err in %v: ctx.Done() was not closed", tc.errs)
			}
			if c := context.Cause(ctx); c != want {
				t.Errorf("after Go for err in %v: context.Cause(ctx) = %v; want %v", tc.errs, c, want)
			}
		}
	}
}

// TestXSyncTryGo: with Limit(42), 42 TryGo calls succeed and the 43rd
// fails while they run; with Limit(1) the second fails.
func TestXSyncTryGo(t *testing.T) {
	for _, n := range []int{42, 1} {
		g := xWithContext(t, context.Background(), errgroup.Limit(n))
		ch := make(chan struct{})
		fn := func() error { ch <- struct{}{}; return nil }
		for i := range n {
			if !g.TryGo(fn) {
				t.Fatalf("TryGo should succeed but got fail at %d-th call.", i)
			}
		}
		if g.TryGo(fn) {
			t.Fatalf("TryGo is expected to fail but succeeded.")
		}
		go func() {
			for range n {
				<-ch
			}
		}()
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestXSyncGoLimit: never more than the limit of tasks run at once.
func TestXSyncGoLimit(t *testing.T) {
	const limit = 10
	g := xWithContext(t, context.Background(), errgroup.Limit(limit))
	var active atomic.Int32
	for range 1<<10 + 1 {
		g.Go(func() error {
			n := active.Add(1)
			if n > limit {
				return fmt.Errorf("saw %d active goroutines; want ≤ %d", n, limit)
			}
			runtime.Gosched() // x/sync sleeps 1µs: give other goroutines a chance to increment active
			active.Add(-1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestXSyncParallelSearch is x/sync's ExampleGroup_parallel: a
// request-scoped group whose results arrive in order.
func TestXSyncParallelSearch(t *testing.T) {
	search := func(kind string) func(context.Context, string) (string, error) {
		return func(_ context.Context, q string) (string, error) {
			return fmt.Sprintf("%s result for %q", kind, q), nil
		}
	}
	searches := []func(context.Context, string) (string, error){search("web"), search("image"), search("video")}
	g, err := errgroup.WithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	results := make([]string, len(searches))
	for i, s := range searches {
		if err := g.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
			r, err := s(ctx, "golang")
			results[i] = r
			return err
		})); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(results) != `[web result for "golang" image result for "golang" video result for "golang"]` {
		t.Errorf("results = %v", results)
	}
}
