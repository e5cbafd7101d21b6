package subprocess

import (
	"fmt"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"

	"github.com/execkit/execkit/internal/xrun"
)

// An Option configures [New]. Options are made by the functions of this
// package only; a nil Option, or an invalid one, makes New return an error.
type Option interface{ apply(*config) }

type config struct {
	initName     string
	initArg      []byte
	maxTasks     int
	passthrough  bool
	onError      func(error)
	grace        time.Duration
	startTimeout time.Duration
	prefetch     int
	err          error // the first invalid option
}

const (
	defaultGrace        = time.Second
	defaultStartTimeout = time.Minute
)

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Initializer makes every worker process call f(arg) once, when it
// starts and before it runs any task: the counterpart of Pool's
// initializer and initargs. Use it to open what the worker's tasks share
// (a connection, a loaded model), kept in package variables of the worker.
// When it fails in a new worker, that worker is refused: [New] returns the
// error, and a replacement that fails counts toward [ErrBroken]. A nil f
// makes New fail with an error wrapping [execkit.ErrNotRegistered].
func Initializer[In, Out any](f *execkit.Func[In, Out], arg In) Option {
	return optionFunc(func(c *config) {
		if f.Name() == "" { // nil, or a zero Func: not made by Register
			c.fail(fmt.Errorf("subprocess: Initializer with a nil Func: %w", execkit.ErrNotRegistered))
			return
		}
		b, err := driver.EncodeBatch(f, []In{arg}) // a batch of one: see request
		if err != nil {
			c.fail(fmt.Errorf("subprocess: Initializer(%q): %w", f.Name(), err))
			return
		}
		c.initName, c.initArg = f.Name(), b
	})
}

// MaxTasksPerChild makes each worker process exit after it ran n calls
// (a task, an Apply, or one chunk of a Map), and the pool start a fresh one:
// the counterpart of maxtasksperchild, for code that leaks. n must be
// positive.
func MaxTasksPerChild(n int) Option {
	return optionFunc(func(c *config) {
		if n <= 0 {
			c.fail(fmt.Errorf("subprocess: MaxTasksPerChild(%d): want a positive count", n))
			return
		}
		c.maxTasks = n
	})
}

// Passthrough copies what the workers write to their stdout and stderr
// to this process's. By default their stdout is discarded and their stderr
// only kept (its last 8 KiB, in a [WorkerError]).
func Passthrough() Option {
	return optionFunc(func(c *config) { c.passthrough = true })
}

// OnError makes the pool call fn with the error of every task
// submitted without a Future (Func.Task), and with the error of every
// replacement worker that fails to start. fn is called from the pool's
// goroutines, possibly concurrently, and must not block for long; a panic in
// fn is recovered and logged with its stack. The default logs the error
// with log/slog at level Error. A nil fn makes [New] return an error.
func OnError(fn func(error)) Option {
	return optionFunc(func(c *config) {
		if fn == nil {
			c.fail(fmt.Errorf("subprocess: OnError(nil)"))
			return
		}
		c.onError = xrun.Guard("subprocess", fn)
	})
}

// CancelGrace sets how long a task whose context ended may take to
// return after its worker was told to cancel it, before the pool kills the
// worker's process group and starts a replacement. That holds for a
// registered function's [execkit.TimeLimit] too: a call that ignores its
// ctx is killed CancelGrace after its limit, which runs from when its
// worker starts it (not while it waits for a free or respawned worker).
// The default is one second. d must be positive.
func CancelGrace(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail(fmt.Errorf("subprocess: CancelGrace(%v): want a positive duration", d))
			return
		}
		c.grace = d
	})
}

// StartTimeout bounds the start of every worker process, the first ones
// and their replacements: from its spawn until it said hello and its
// initializer ([Initializer]) returned. A worker that takes longer is
// killed with its process group: [New] then stops the other workers and
// returns an error wrapping context.DeadlineExceeded that names the
// initializer; a replacement that times out counts toward [ErrBroken]. The
// default is one minute. d must be positive.
func StartTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail(fmt.Errorf("subprocess: StartTimeout(%v): want a positive duration", d))
			return
		}
		c.startTimeout = d
	})
}

// Prefetch sets how many calls a busy worker holds besides the one it
// runs: 15 by default, and no more of them than half its pipe holds (32
// KiB of frames, on Linux's default pipes: larger calls wait for an idle
// worker). They are sent ahead, in batches, so that a worker
// never waits for the pool between two short calls: pipelined tasks that
// do nothing cost about 11 µs each with the default, and 42 µs with none
// (BenchmarkThroughput, workers=2/arg=int and its prefetch=0, on the 2-core
// VM of the bench report).
//
// The price is order. A call held by a busy worker waits for the call that
// worker runs (one admitted before it), while a worker that finishes
// first starts the next call it holds, admitted later. A worker that
// falls idle takes held calls back, so that matters only while every
// worker is busy: a task held behind a long one waits for it, and a task
// that waits for a task admitted after it may wait for ever (a pool of
// two workers, one running a task until Shutdown: a task held behind it
// waits until then, while the other worker runs the tasks after it).
// A cancelled call a worker holds may also start before its CANCEL
// reaches the worker (its ctx then ends as it does).
// With Prefetch(0) a worker is sent a call only when it is idle, and
// calls start in the order they were admitted, as in an in-process pool
// and in multiprocessing.Pool, and none waits in a worker for its CANCEL. Use it for tasks that run long or wait for
// one another. n must be between 0 and 1024.
func Prefetch(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 || n > maxPrefetch {
			c.fail(fmt.Errorf("subprocess: Prefetch(%d): want a count between 0 and %d", n, maxPrefetch))
			return
		}
		c.prefetch = n
	})
}

// A MapOption configures [Map] and [MapUnordered]; a nil one makes Map
// return an error, and MapUnordered yield one.
type MapOption interface{ applyMap(*mapConfig) }

type mapConfig struct{ chunk int }

type chunkOption int

func (o chunkOption) applyMap(c *mapConfig) { c.chunk = int(o) }

// ChunkSize makes [Map] and [MapUnordered] send items to the workers in
// chunks of n (the last may be smaller) instead of the default: Python's
// rule for Map, ceil(len(items) / (4 * workers)), and 1 for MapUnordered.
// Values below 1 mean 1. A chunk whose items do not fit in one frame
// (64 MiB) together is split until they do, whatever n says.
func ChunkSize(n int) MapOption { return chunkOption(max(n, 1)) }
