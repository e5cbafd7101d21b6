package executortest

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Run checks that the executors newExecutor makes keep the [execkit.Executor]
// contract, each check in its own subtest with a fresh executor: nil tasks
// are refused; every admitted task runs exactly once under concurrent
// submitters; Submit after (and racing with) Shutdown returns ErrClosed and
// loses nothing admitted; Shutdown waits for admitted tasks; Shutdown with
// an expired ctx cancels the tasks' contexts and returns the ctx error; a
// blocked Submit returns when its ctx ends (or a rejecting one returns
// ErrFull); a panic becomes a *execkit.PanicError with a stack, delivered to
// the Future or to onError; a task waiting for a slot gets one once the
// tasks admitted before it let theirs go, whatever the tasks admitted after
// it hold; task errors are never swallowed, a typed nil whose methods panic
// included; a task's ctx
// ends as one of package context does (context.Canceled when cancelled,
// context.DeadlineExceeded when its caller's deadline or its TimeLimit
// passed, on every executor); Future.Cancel and Future.Wait behave; Map and AsCompleted behave; Shutdown is
// idempotent and safe concurrently (every concurrent call waits for the
// tasks); no goroutine is left after Shutdown.
// Options declare the executor's semantics (bounded, fail-fast, portable).
//
// Run must not be called from parallel tests: the leak check looks at every
// goroutine of the process. A nil newExecutor, a nil option or an invalid
// one fails the test at once, saying so.
func Run(t *testing.T, newExecutor NewFunc, opts ...Option) {
	t.Helper()
	if newExecutor == nil {
		t.Fatal("executortest: Run with a nil NewFunc")
	}
	var cfg config
	for i, o := range opts {
		if o == nil {
			t.Fatalf("executortest: Run with a nil Option (option %d)", i+1)
		}
		o.apply(&cfg)
		if cfg.invalid != "" {
			t.Fatalf("executortest: Run with an invalid option: %s", cfg.invalid)
		}
	}
	for _, c := range checks {
		if c.when != nil && !c.when(cfg) {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			c.run(cfg.start(t, newExecutor))
		})
	}
}

type check struct {
	name string
	when func(config) bool
	run  func(h *harness)
}

var checks = []check{
	{name: "NilTask", run: checkNilTask},
	{name: "NilArguments", run: checkNilArguments},
	{name: "Threads", run: checkThreads},
	{name: "ExactlyOnce", run: checkExactlyOnce},
	{name: "SubmitAfterShutdown", run: checkSubmitAfterShutdown},
	{name: "SubmitDuringShutdown", run: checkSubmitDuringShutdown},
	{name: "ShutdownWaits", run: checkShutdownWaits},
	{name: "ShutdownDeadline", run: checkShutdownDeadline},
	{name: "ShutdownConcurrent", run: checkShutdownConcurrent},
	{name: "BlockedSubmit", when: func(c config) bool { return c.capacity > 0 && !c.rejecting }, run: checkBlockedSubmit},
	{name: "ShutdownWakesWaiters", when: func(c config) bool { return c.capacity > 0 && !c.rejecting && !c.synchronous }, run: checkShutdownWakesWaiters},
	{name: "RejectWhenFull", when: func(c config) bool { return c.capacity > 0 && c.rejecting }, run: checkRejectWhenFull},
	{name: "Panic", run: checkPanic},
	{name: "PanicSentinel", run: checkPanicSentinel},
	{name: "Goexit", run: checkGoexit},
	{name: "TaskError", when: func(c config) bool { return !c.failFast }, run: checkTaskError},
	{name: "FailFast", when: func(c config) bool { return c.failFast }, run: checkFailFast},
	{name: "FailFastWaiting", when: func(c config) bool {
		return c.failFast && !c.portable && !c.synchronous && !c.rejecting && c.capacity > 1
	}, run: checkFailFastWaiting},
	{name: "FailFastReported", when: func(c config) bool { return c.failFast && !c.portable && !c.synchronous && c.capacity != 1 }, run: checkFailFastReported},
	{name: "FutureCancel", when: func(c config) bool { return !c.synchronous }, run: checkFutureCancel},
	{name: "CtxDeadline", run: checkCtxDeadline},
	{name: "FutureWaitExpired", when: func(c config) bool { return !c.synchronous }, run: checkFutureWaitExpired},
	{name: "Map", run: checkMap},
	{name: "CancelMap", run: checkCancelMap},
	{name: "StartOrder", when: func(c config) bool { return !c.synchronous }, run: checkStartOrder},
	{name: "CancelFuture", when: func(c config) bool { return !c.synchronous }, run: checkCancelFuture},
	{name: "CancelShutdown", run: checkCancelShutdown},
	{name: "AsCompleted", run: checkAsCompleted},
	{name: "Closures", when: func(c config) bool { return !c.portable }, run: checkClosures},
	{name: "NotPortable", when: func(c config) bool { return c.portable }, run: checkNotPortable},
	{name: "Errors", run: checkErrors},
	{name: "TypedNilError", run: checkTypedNilError},
	{name: "FollowUp", when: func(c config) bool { return !c.portable }, run: checkFollowUp},
	{name: "TimeLimit", run: checkTimeLimit},
	{name: "NestedTimeLimit", run: checkNestedTimeLimit},
	{name: "HardTimeLimit", when: func(c config) bool { return c.hardLimit }, run: checkHardTimeLimit},
	{name: "Retry", run: checkRetry},
	{name: "RetryPermanent", run: checkRetryPermanent},
	{name: "RateLimit", run: checkRateLimit},
}

// small returns n, or the capacity less one when that is smaller, so that
// a check's blocked tasks never fill a bounded executor.
func (h *harness) small(n int) int {
	if c := h.cfg.capacity; c > 0 && c-1 < n {
		return max(c-1, 1)
	}
	return n
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

func mentions(s string) func(error) bool {
	return func(err error) bool { return err != nil && strings.Contains(err.Error(), s) }
}
