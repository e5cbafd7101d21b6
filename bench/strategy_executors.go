package bench

import (
	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
	"github.com/execkit/execkit/pool"
)

// executorRow makes the row of a long-lived execkit executor: newEx makes
// one per sample, and the generic adapter (execRunner) drives it.
func executorRow(s Strategy, newEx func(w *Workload) (execkit.Executor, error)) *Strategy {
	s.Lang = LangGo
	s.New = func(w *Workload) (Runner, error) {
		ex, err := newEx(w)
		if err != nil {
			return nil, err
		}
		return &execRunner{w: w, ex: ex}, nil
	}
	return &s
}

// fireforgetStrategy is execkit's goroutine per task, the threading.Thread
// and @background counterpart.
func fireforgetStrategy() *Strategy {
	return executorRow(Strategy{
		Name: StratFireforget, Family: FamilyGoroutine, Baseline: "raw-go", Python: "py-decorator",
		Doc:   "execkit fireforget.New(): a goroutine per task; fail-fast by the batch's context, as for raw go",
		Kinds: inProcess,
	}, func(*Workload) (execkit.Executor, error) {
		return fireforget.New(fireforget.OnError(ignoreError))
	})
}

// poolStrategy is execkit's bounded pool on ants, the ThreadPoolExecutor
// counterpart.
func poolStrategy() *Strategy {
	return executorRow(Strategy{
		Name: StratPool, Family: FamilyPool, Baseline: "ants", Python: "py-threadpool",
		Doc:   "execkit pool.New(workers) (on ants): Submit blocks while every worker is busy; fail-fast by the batch's context",
		Kinds: inProcess,
	}, func(w *Workload) (execkit.Executor, error) {
		return pool.New(w.PoolSize(), pool.OnError(ignoreError))
	})
}
