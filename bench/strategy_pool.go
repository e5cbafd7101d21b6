package bench

import (
	"github.com/execkit/execkit/pool"
)

// poolStrategy is execkit's bounded pool on ants, the ThreadPoolExecutor
// counterpart.
func poolStrategy() *Strategy {
	return &Strategy{
		Name: StratPool, Family: FamilyPool, Lang: LangGo, Baseline: "ants", Python: "py-threadpool",
		Doc:   "execkit pool.New(workers) (on ants): Submit blocks while every worker is busy; fail-fast by the batch's context",
		Kinds: inProcess,
		New: func(w *Workload) (Runner, error) {
			ex, err := pool.New(w.PoolSize(), pool.OnError(ignoreError))
			if err != nil {
				return nil, err
			}
			return &execRunner{w: w, ex: ex}, nil
		},
	}
}
