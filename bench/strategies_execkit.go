package bench

import (
	"context"
	"fmt"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// execkitStrategies are the execkit executors, each behind the same
// adapter: a batch of tasks submitted with Submit and counted as they end.
// A strategy appears here once its package is on main.
func execkitStrategies() []*Strategy {
	return []*Strategy{fireforgetStrategy(), poolStrategy(), errgroupStrategy(), subprocessStrategy(), subprocessVarintStrategy(), {
		Name: "execkit-inline", Family: FamilyGoroutine, Lang: LangGo, Baseline: "raw-go",
		Doc:   "execkit.Inline: Submit runs the task in the caller (no concurrency; the floor of the Task call)",
		Kinds: []Kind{KindBatch}, Only: []string{"noop", "cpu1us", "cpu100us"},
		New: func(w *Workload) (Runner, error) {
			return &execRunner{w: w, ex: &execkit.Inline{OnError: ignoreError}}, nil
		},
	}}
}

// ignoreError is the error handler of the executors under test: the
// adapter's task records every error in its batch already.
func ignoreError(error) {}

// execRunner runs batches on one long-lived execkit executor.
type execRunner struct {
	w     *Workload
	ex    execkit.Executor
	after func() // when not nil, called by Close after Shutdown
}

func (r *execRunner) Run(ctx context.Context, n int) error {
	if r.w.Kind == KindRoundTrip {
		for i := range n {
			b := newBatch(ctx, 1)
			if err := r.ex.Submit(ctx, &execTask{b: b, w: r.w, i: i, batchCtx: true}); err != nil {
				b.skip(1)
				b.wait()
				return fmt.Errorf("bench: submit: %w", err)
			}
			if err := b.wait(); err != nil {
				return err
			}
		}
		return nil
	}
	return submitBatch(ctx, r.w, n, r.ex)
}

func (r *execRunner) Close() error {
	err := r.ex.Shutdown(context.Background())
	if r.after != nil {
		r.after()
		r.after = nil
	}
	return err
}

// submitBatch submits n tasks of w to ex and waits until all of them
// ended.
func submitBatch(ctx context.Context, w *Workload, n int, ex execkit.Executor) error {
	b := newBatch(ctx, n)
	unsent, serr := produce(b.ctx, w, n, func(i int) error {
		return ex.Submit(ctx, &execTask{b: b, w: w, i: i, batchCtx: true})
	})
	b.skip(unsent)
	err := b.wait()
	if serr != nil && w.Kind != KindFailFast {
		return fmt.Errorf("bench: submit: %w", serr)
	}
	return err
}

// execTask is task i of a batch: it calls the workload's registered
// function and records the outcome. It is Portable, so process-crossing
// executors run it by name in a worker.
type execTask struct {
	b *batch
	w *Workload
	i int
	// batchCtx makes the task run with the batch's context, which the
	// first failure cancels (the hand-rolled fail-fast of an executor that
	// has none), instead of the executor's.
	batchCtx bool
}

// Run calls the function in this process.
func (t *execTask) Run(ctx context.Context) error {
	if t.batchCtx {
		ctx = t.b.ctx
	}
	err := t.w.Call(ctx, t.i)
	t.b.done(err)
	return err
}

// RunVia calls the function through invoke (in a worker process).
func (t *execTask) RunVia(ctx context.Context, invoke driver.Invoker) error {
	if t.batchCtx {
		ctx = t.b.ctx
	}
	err := t.w.Task(t.i).(driver.Portable).RunVia(ctx, invoke)
	t.b.done(err)
	return err
}

var _ driver.Portable = (*execTask)(nil)
