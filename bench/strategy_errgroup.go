package bench

import (
	"context"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// errgroupStrategy is execkit's fail-fast group on x/sync errgroup.
func errgroupStrategy() *Strategy {
	return &Strategy{
		Name: StratErrgroup, Family: FamilyGroup, Lang: LangGo, Baseline: "xsync-errgroup", Python: "py-threadpool",
		Doc:   "execkit errgroup.New(Limit(workers)) per batch (on x/sync errgroup): the first error cancels the rest, later tasks are skipped",
		Kinds: inProcess, FullOnly: quickSkipsMass,
		New: func(w *Workload) (Runner, error) {
			return &groupRunner{w: w, new: func(context.Context) (execkit.Executor, error) {
				return errgroup.New(errgroup.Limit(w.PoolSize()))
			}}, nil
		},
	}
}

// groupRunner runs each batch on a fresh single-use executor (a fail-fast
// group) and returns what its Shutdown returns.
type groupRunner struct {
	w   *Workload
	new func(ctx context.Context) (execkit.Executor, error)
}

func (r *groupRunner) Run(ctx context.Context, n int) error {
	ex, err := r.new(ctx)
	if err != nil {
		return err
	}
	b := newBatch(ctx, n)
	unsent, _ := produce(ctx, r.w, n, func(i int) error {
		return ex.Submit(ctx, &execTask{b: b, w: r.w, i: i})
	})
	b.skip(unsent) // submitted after the failure: skipped
	err = ex.Shutdown(context.Background())
	// Every task that started has ended and called b.done; one admitted
	// before the failure that had not started by then never starts, and
	// never will.
	b.abandon()
	berr := b.wait()
	if err == nil {
		err = berr
	}
	return err
}

func (r *groupRunner) Close() error { return nil }
