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
		Kinds: inProcess, Holds: true,
	}, func(*Workload) (execkit.Executor, error) {
		return fireforget.New(fireforget.OnError(ignoreError))
	})
}

// poolStrategy is execkit's bounded pool on ants, the ThreadPoolExecutor
// counterpart.
func poolStrategy() *Strategy {
	return executorRow(Strategy{
		Name: StratPool, Family: FamilyPool, Baseline: "ants", Python: "py-threadpool",
		Doc:   "execkit pool.New(workers, pool.Queue(1024)) (on ants): Submit queues while the bounded queue has room, then blocks; on a holding workload the queue is sized for the batch; fail-fast by the batch's context",
		Kinds: inProcess, Holds: true,
	}, func(w *Workload) (execkit.Executor, error) {
		return pool.New(w.PoolSize(), pool.Queue(poolQueue(w)), pool.OnError(ignoreError))
	})
}

// poolQueue is the capacity of the pool row's queue: bounded, and sized for
// the whole batch when the workload holds every task pending.
func poolQueue(w *Workload) int {
	if w.hold {
		return w.Full
	}
	return 1024
}
