package bench

import (
	"context"
	"fmt"
	"runtime"

	"github.com/execkit/execkit/subprocess"
)

// subprocessStrategy is execkit's pool of worker processes, the
// multiprocessing.Pool counterpart, on the workloads where crossing a
// process boundary is the question, with the functions' default codec
// (gob).
func subprocessStrategy() *Strategy {
	return &Strategy{
		Name: StratSubprocess, Family: FamilyProcess, Lang: LangGo, Baseline: "raw-pipe", Python: "py-mp-pool",
		Doc:   "execkit subprocess.New(GOMAXPROCS): worker processes re-executing this binary; Submit(Func.Task) per task, subprocess.Apply one at a time, subprocess.Map (chunked like Pool.map); the default gob codec",
		Kinds: processKinds, Only: processWorkloads,
		New: newSubprocessRunner,
	}
}

// subprocessVarintStrategy is the same pool running the varint twins of
// the functions: what the default codec costs.
func subprocessVarintStrategy() *Strategy {
	return &Strategy{
		Name: StratSubprocessVarint, Family: FamilyProcess, Lang: LangGo, Baseline: "raw-pipe", Python: "py-mp-pool",
		Doc:   "execkit-subprocess running the same functions registered with a varint codec (execkit.UseCodec) instead of gob",
		Kinds: processKinds, Only: processWorkloads,
		New: func(w *Workload) (Runner, error) { return newSubprocessRunner(withVarint(w)) },
	}
}

var (
	processKinds     = []Kind{KindBatch, KindRoundTrip, KindMap}
	processWorkloads = []string{"noop", "cpu100us", "roundtrip", "map"}
)

type subprocessRunner struct {
	w     *Workload
	p     *subprocess.Pool
	items []int
}

func newSubprocessRunner(w *Workload) (Runner, error) {
	p, err := subprocess.New(runtime.GOMAXPROCS(0), subprocess.OnError(ignoreError))
	if err != nil {
		return nil, err
	}
	return &subprocessRunner{w: w, p: p}, nil
}

func (r *subprocessRunner) Run(ctx context.Context, n int) error {
	switch r.w.Kind {
	case KindRoundTrip:
		for i := range n {
			got, err := subprocess.Apply(ctx, r.p, r.w.Func, r.w.Arg(i))
			if err != nil {
				return err
			}
			if r.w.Arg(i) == i && got != i { // a no-op echoes its argument
				return fmt.Errorf("bench: subprocess: got %d; want %d", got, i)
			}
		}
		return nil
	case KindMap:
		for i := len(r.items); i < n; i++ {
			r.items = append(r.items, r.w.Arg(i))
		}
		out, err := subprocess.Map(ctx, r.p, r.w.Func, r.items[:n])
		if err == nil && len(out) != n {
			err = fmt.Errorf("bench: subprocess: Map returned %d results; want %d", len(out), n)
		}
		return err
	}
	return submitBatch(ctx, r.w, n, r.p)
}

func (r *subprocessRunner) Close() error { return r.p.Shutdown(context.Background()) }
