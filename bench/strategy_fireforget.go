package bench

import (
	"github.com/execkit/execkit/fireforget"
)

// fireforgetStrategy is execkit's goroutine per task, the threading.Thread
// and @background counterpart.
func fireforgetStrategy() *Strategy {
	return &Strategy{
		Name: StratFireforget, Family: FamilyGoroutine, Lang: LangGo, Baseline: "raw-go", Python: "py-decorator",
		Doc:   "execkit fireforget.New(): a goroutine per task; fail-fast by the batch's context, as for raw go",
		Kinds: inProcess,
		New: func(w *Workload) (Runner, error) {
			ex, err := fireforget.New(fireforget.OnError(ignoreError))
			if err != nil {
				return nil, err
			}
			return &execRunner{w: w, ex: ex}, nil
		},
	}
}
