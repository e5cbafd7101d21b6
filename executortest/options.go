package executortest

import (
	"fmt"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"go.uber.org/goleak"
)

// NewFunc makes a fresh executor for one check of the suite. The executor
// must pass the error of every task submitted without a Future to onError
// (its error-handler option), so the suite can see that nothing is
// swallowed. Cleanup registered on t runs after the check.
type NewFunc func(t *testing.T, onError func(error)) execkit.Executor

// An Option declares how the executor under test differs from the default:
// unbounded admission, errors reported per task, tasks in this process. A
// nil Option, or a capacity below 1, fails the test at once ([Run] calls
// t.Fatal).
type Option interface{ apply(*config) }

type config struct {
	capacity    int  // > 0: admission is bounded at this many unfinished tasks
	rejecting   bool // at capacity Submit returns ErrFull instead of blocking
	failFast    bool
	portable    bool
	synchronous bool
	followUp    bool // a running task's Submit is admitted during Shutdown
	hardLimit   bool // a task ignoring its ctx is stopped at its TimeLimit plus grace
	grace       time.Duration
	leakOpts    []goleak.Option
	invalid     string // why an option is invalid; Run fails the test
}

func (c *config) setCapacity(name string, capacity int, rejecting bool) {
	if capacity < 1 {
		c.invalid = fmt.Sprintf("%s(%d): the capacity must be at least 1", name, capacity)
		return
	}
	c.capacity, c.rejecting = capacity, rejecting
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Blocking declares that Submit blocks once capacity admitted tasks are
// unfinished, until a slot frees, its ctx ends or Shutdown begins. The
// suite then checks that a blocked Submit returns ctx.Err() when its ctx
// ends, and [execkit.ErrClosed] when Shutdown begins (while the admitted
// tasks still run), and admits nothing.
func Blocking(capacity int) Option {
	return optionFunc(func(c *config) { c.setCapacity("Blocking", capacity, false) })
}

// RejectWhenFull declares that Submit returns [execkit.ErrFull] at once when
// capacity admitted tasks are unfinished (the executor's own RejectWhenFull
// option).
func RejectWhenFull(capacity int) Option {
	return optionFunc(func(c *config) { c.setCapacity("RejectWhenFull", capacity, true) })
}

// FailFast declares a group: the first task error (or panic) cancels the
// other tasks' contexts, Shutdown returns that error, tasks' errors are not
// passed to onError, and Submit after the failure admits nothing; all of
// this holds by the time the failing task's Future reports the error
// (run the tasks with a ctx from
// [github.com/execkit/execkit/driver.WithFailer], and a Future's task
// tells the group first).
func FailFast() Option { return optionFunc(func(c *config) { c.failFast = true }) }

// Portable declares an executor that runs tasks in another process: it
// accepts only tasks made by a registered [execkit.Func], and returns
// [execkit.ErrNotPortable] for any other. The suite's own tasks are
// registered functions, so they run on it. A task's error then keeps its
// identity only for the sentinels its function declares with
// [execkit.Errors]; any other arrives as an [*execkit.RemoteError] with its
// text and type name. Without Portable, the suite wants every error to
// keep its identity (errors.Is and errors.As), through a Future and Map.
func Portable() Option { return optionFunc(func(c *config) { c.portable = true }) }

// Synchronous declares an executor whose Submit runs the task before it
// returns ([execkit.Inline]). The suite then submits blocking tasks from
// goroutines of its own and skips the checks that need Go to return while
// its task runs (cancelling a running task through its Future).
func Synchronous() Option { return optionFunc(func(c *config) { c.synchronous = true }) }

// AdmitsFollowUp declares that a Submit from one of the executor's running
// tasks, with the task's ctx, is admitted after Shutdown began, until the
// executor has finished, and that Shutdown waits for that work (a task
// that walks a tree, submitting each child from its parent). Without it
// the suite expects such a Submit to return [execkit.ErrClosed], as any
// other after Shutdown began. Either way nothing may be lost: every
// follow-up admitted runs before Shutdown returns. The check applies to
// executors whose tasks run in this process (not [Portable] ones: a task
// in another process cannot reach the submitting executor).
func AdmitsFollowUp() Option { return optionFunc(func(c *config) { c.followUp = true }) }

// HardTimeLimit declares that the executor enforces a registered
// function's [execkit.TimeLimit] even on a function that never looks at its
// ctx: it stops the function within grace after the limit (subprocess.Pool
// kills the worker after its CancelGrace), and goes on serving tasks.
// Without it the suite expects a cooperative limit, as in-process
// executors keep: the function's ctx is cancelled at the limit and the
// call fails with [execkit.ErrTimeLimit], but a function that ignores its
// ctx runs on. A negative grace fails the test at once.
func HardTimeLimit(grace time.Duration) Option {
	return optionFunc(func(c *config) {
		if grace < 0 {
			c.invalid = fmt.Sprintf("HardTimeLimit(%v): the grace must not be negative", grace)
			return
		}
		c.hardLimit, c.grace = true, grace
	})
}

// IgnoreTopFunction tells the leak check to ignore goroutines whose top
// function is one of names, for goroutines a dependency starts outside the
// executor's control (ants starts some at import time). Goroutines running
// before the check began are ignored anyway.
func IgnoreTopFunction(names ...string) Option {
	return optionFunc(func(c *config) {
		for _, n := range names {
			c.leakOpts = append(c.leakOpts, goleak.IgnoreTopFunction(n))
		}
	})
}
