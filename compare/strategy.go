package compare

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
	"github.com/execkit/execkit/pool"
	"github.com/execkit/execkit/subprocess"
)

// The executors a strategy uses, as they appear in [Result.Executor].
const (
	ExecInline     = "inline"
	ExecPool       = "pool"
	ExecFireforget = "fireforget"
	ExecErrgroup   = "errgroup"
	ExecSubprocess = "subprocess"
)

// subprocessHint says how to include the subprocess strategy.
const subprocessHint = "subprocess not measured: call subprocess.Main() first in TestMain " +
	"(func TestMain(m *testing.M) { subprocess.Main(); os.Exit(m.Run()) }) or in main"

// A strategy is one way of running the function: an executor and its size.
type strategy struct {
	executor string
	size     int // workers or limit; 0: unbounded (inline: 1)
}

// name is the strategy's name in sub-benchmarks and reports: inline,
// pool-8, fireforget, fireforget-limit-8, errgroup, subprocess-2.
func (s strategy) name() string {
	switch {
	case s.executor == ExecFireforget && s.size > 0:
		return fmt.Sprintf("fireforget-limit-%d", s.size)
	case s.executor == ExecPool || s.executor == ExecSubprocess:
		return fmt.Sprintf("%s-%d", s.executor, s.size)
	}
	return s.executor
}

// code is the Go expression that makes the strategy's executor.
func (s strategy) code() string {
	switch s.executor {
	case ExecInline:
		return "&execkit.Inline{} (or call the function directly)"
	case ExecPool:
		return fmt.Sprintf("pool.New(%d)", s.size)
	case ExecFireforget:
		if s.size > 0 {
			return fmt.Sprintf("fireforget.New(fireforget.Limit(%d))", s.size)
		}
		return "fireforget.New()"
	case ExecErrgroup:
		return "errgroup.New()"
	case ExecSubprocess:
		return fmt.Sprintf("subprocess.New(%d)", s.size)
	}
	return s.executor
}

// errNoSubprocess is returned by newExecutor for the subprocess strategy
// when subprocess.Main was never called.
var errNoSubprocess = errors.New("compare: " + subprocessHint)

// newExecutor makes the strategy's executor, with the user-facing
// constructors only. Task errors never reach the executors' handlers: every
// task is submitted with a Future.
func (s strategy) newExecutor() (execkit.Executor, error) {
	switch s.executor {
	case ExecInline:
		return &execkit.Inline{}, nil
	case ExecPool:
		return pool.New(s.size)
	case ExecFireforget:
		if s.size > 0 {
			return fireforget.New(fireforget.Limit(s.size))
		}
		return fireforget.New()
	case ExecErrgroup:
		return errgroup.New()
	case ExecSubprocess:
		ex, err := subprocess.New(s.size)
		if errors.Is(err, subprocess.ErrNoMain) {
			return nil, errNoSubprocess
		}
		return ex, err
	}
	return nil, fmt.Errorf("compare: unknown executor %q", s.executor)
}

// wave is the most calls the strategy runs at once with batches of batch.
func (s strategy) wave(batch int) int {
	switch {
	case s.executor == ExecInline:
		return 1
	case s.size > 0:
		return min(s.size, batch)
	}
	return batch
}

// cores is the parallelism the strategies are sized against.
func cores() int { return runtime.GOMAXPROCS(0) }

// nextPoolSize returns the pool size to try after prev (0: the first), up
// to batch, or 0 when batch was reached: the core count, twice it, then
// eight times the previous size.
func nextPoolSize(prev, batch int) int {
	var n int
	switch c := cores(); {
	case prev == 0:
		n = c
	case prev == c:
		n = 2 * c
	default:
		n = 8 * prev
	}
	if n >= batch {
		if prev >= batch {
			return 0
		}
		n = batch
	}
	return n
}

// growthGain is the fall in time per task a larger pool must bring for the
// pools to keep growing: below it, the size is where the gains stopped.
const growthGain = 0.10

// keepGrowing reports whether a pool whose median time per task is cur,
// after one with prev, is worth growing further.
func keepGrowing(prev, cur float64) bool {
	return prev > 0 && cur > 0 && cur < prev*(1-growthGain)
}
