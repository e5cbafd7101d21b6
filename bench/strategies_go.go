package bench

import (
	"context"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/gammazero/workerpool"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// goStrategies are the baselines written with the language alone.
func goStrategies() []*Strategy {
	return []*Strategy{{
		Name: "raw-go", Family: FamilyGoroutine, Lang: LangGo, Python: "py-thread",
		Doc:   "`go f()` per task + sync.WaitGroup; fail-fast by hand: context.WithCancelCause, the loop stops submitting once it is cancelled",
		Kinds: inProcess, Holds: true,
		New: func(w *Workload) (Runner, error) { return rawGo{w}, nil },
	}}
}

type rawGo struct{ w *Workload }

func (r rawGo) Run(ctx context.Context, n int) error {
	b := newBatch(ctx, n)
	unsent, _ := produce(b.ctx, r.w, n, func(i int) error {
		go b.call(r.w, i)
		return nil
	})
	b.skip(unsent)
	return b.wait()
}

func (rawGo) Close() error { return nil }

// peerStrategies are the libraries execkit is measured against, each used
// directly the way its documentation shows.
func peerStrategies() []*Strategy {
	return []*Strategy{{
		Name: "ants", Family: FamilyPool, Lang: LangGo, Baseline: "raw-go", Python: "py-threadpool",
		Module: "github.com/panjf2000/ants/v2",
		Doc:    "ants.NewPool(workers), Submit(closure) + WaitGroup; fail-fast by the batch's context, as for raw go",
		Kinds:  inProcess,
		New: func(w *Workload) (Runner, error) {
			p, err := ants.NewPool(w.PoolSize())
			if err != nil {
				return nil, err
			}
			return &antsRunner{w: w, p: p}, nil
		},
	}, {
		Name: "conc", Family: FamilyPool, Lang: LangGo, Baseline: "raw-go", Python: "py-threadpool",
		Module: "github.com/sourcegraph/conc",
		Doc:    "conc pool.New().WithMaxGoroutines(workers) per batch, Go + Wait; fail-fast WithContext().WithCancelOnError() (its context is the tasks' only: the loop submits every task)",
		Kinds:  inProcess, FullOnly: quickSkipsMass,
		New: func(w *Workload) (Runner, error) { return concRunner{w}, nil },
	}, {
		Name: "pond", Family: FamilyPool, Lang: LangGo, Baseline: "raw-go", Python: "py-threadpool",
		Module: "github.com/alitto/pond/v2",
		Doc:    "pond.NewPool(workers), Go(closure) + WaitGroup; fail-fast NewGroupContext, the loop stops once the group's context is done",
		Kinds:  inProcess, FullOnly: quickSkipsMass, Holds: true,
		New: func(w *Workload) (Runner, error) {
			return &pondRunner{w: w, p: pond.NewPool(w.PoolSize())}, nil
		},
	}, {
		Name: "workerpool", Family: FamilyPool, Lang: LangGo, Baseline: "raw-go", Python: "py-threadpool",
		Module: "github.com/gammazero/workerpool",
		Doc:    "workerpool.New(workers), Submit(closure) + WaitGroup; fail-fast by the batch's context, as for raw go",
		Kinds:  inProcess, FullOnly: quickSkipsMass, Holds: true,
		New: func(w *Workload) (Runner, error) {
			return &workerpoolRunner{w: w, p: workerpool.New(w.PoolSize())}, nil
		},
	}, {
		Name: "xsync-errgroup", Family: FamilyGroup, Lang: LangGo, Baseline: "raw-go", Python: "py-threadpool",
		Module: "golang.org/x/sync",
		Doc:    "errgroup.WithContext + SetLimit(workers) per batch, Go + Wait; the loop stops submitting once the group's context is done",
		Kinds:  inProcess, FullOnly: quickSkipsMass,
		New: func(w *Workload) (Runner, error) { return errgroupRunner{w}, nil },
	}}
}

type antsRunner struct {
	w *Workload
	p *ants.Pool
}

func (r *antsRunner) Run(ctx context.Context, n int) error {
	return runClosures(ctx, r.w, n, r.p.Submit)
}

func (r *antsRunner) Close() error { return r.p.ReleaseTimeout(time.Minute) }

type concRunner struct{ w *Workload }

func (r concRunner) Run(ctx context.Context, n int) error {
	w := r.w
	if w.Kind == KindFailFast {
		// conc keeps its context to the tasks: the loop cannot see the
		// failure and submits every task (each returns at once).
		p := pool.New().WithMaxGoroutines(w.PoolSize()).WithContext(ctx).WithCancelOnError().WithFirstError()
		_, _ = produce(ctx, w, n, func(i int) error {
			p.Go(func(ctx context.Context) error { return w.Call(ctx, i) })
			return nil
		})
		return p.Wait()
	}
	p := pool.New().WithMaxGoroutines(w.PoolSize())
	b := newBatch(ctx, n)
	unsent, _ := produce(b.ctx, w, n, func(i int) error {
		p.Go(func() { b.call(w, i) })
		return nil
	})
	b.skip(unsent)
	p.Wait()
	return b.wait()
}

func (concRunner) Close() error { return nil }

type pondRunner struct {
	w *Workload
	p pond.Pool
}

func (r *pondRunner) Run(ctx context.Context, n int) error {
	w := r.w
	if w.Kind == KindFailFast {
		g := r.p.NewGroupContext(ctx)
		gctx := g.Context()
		_, _ = produce(gctx, w, n, func(i int) error {
			g.SubmitErr(func() error { return w.Call(gctx, i) })
			return nil
		})
		return g.Wait()
	}
	return runClosures(ctx, w, n, r.p.Go)
}

func (r *pondRunner) Close() error { r.p.StopAndWait(); return nil }

type workerpoolRunner struct {
	w *Workload
	p *workerpool.WorkerPool
}

func (r *workerpoolRunner) Run(ctx context.Context, n int) error {
	return runClosures(ctx, r.w, n, func(f func()) error { r.p.Submit(f); return nil })
}

func (r *workerpoolRunner) Close() error { r.p.StopWait(); return nil }

type errgroupRunner struct{ w *Workload }

func (r errgroupRunner) Run(ctx context.Context, n int) error {
	w := r.w
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.PoolSize())
	_, _ = produce(gctx, w, n, func(i int) error {
		g.Go(func() error { return w.Call(gctx, i) })
		return nil
	})
	return g.Wait()
}

func (errgroupRunner) Close() error { return nil }
