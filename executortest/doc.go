// Package executortest checks that an [execkit.Executor] keeps the
// contract, as testing/fstest does for file systems. It is the test kit of
// whoever writes an executor: execkit's own executors run it, and so should
// a new one.
//
// # Running the suite on your executor
//
// Call [Run] from a test with a [NewFunc], a function that makes a fresh
// executor for each check and passes the error of every task submitted
// without a Future to the onError it is given (the executor's error
// handler), and declare with options how the executor differs from the
// default:
//
//	func TestConformance(t *testing.T) {
//		executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
//			ex, err := mypkg.New(mypkg.OnError(onError))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return ex
//		}, executortest.Blocking(4))
//	}
//
// Each check is a subtest (go test -run 'TestConformance/Panic' runs one).
// A check fails the test when the executor breaks the contract, with what
// it saw and what it wanted; a call the contract says must return (Submit
// with an ended ctx, Shutdown) that hangs fails its check instead of the
// whole test. The checks run one after the other, not in parallel: the
// leak check after each one looks at every goroutine of the process, so
// call Run from a test that is not parallel. The package example is a
// whole executor that passes the suite.
//
// The suite's tasks are one function registered with [execkit.Register]
// ("executortest.job"), so they run on executors whose tasks run in
// another process too: such an executor's worker processes must link
// executortest (a blank import in the worker's main, or the test binary
// itself as the worker). The tasks record what happens to them in files,
// which both sides of a process boundary see.
//
// # What the options declare
//
// Without options the suite expects an executor that runs closures in
// this process, admits every task at once (no bound), reports each task's
// error on its own, and returns from Submit without waiting for the task. Each
// option declares one difference, and changes what the suite checks:
//
//   - [Blocking](n): Submit blocks while n admitted tasks are unfinished;
//     the suite checks that a blocked Submit returns ctx.Err() when its ctx
//     ends, and ErrClosed when Shutdown begins (not once a slot frees),
//     admitting nothing.
//   - [RejectWhenFull](n): Submit returns [execkit.ErrFull] at once while n
//     admitted tasks are unfinished.
//   - [FailFast]: a group; the first task error cancels the others, and
//     Shutdown returns it; task errors do not go to onError. The group
//     fails before the failing task's Future can report the error: once
//     Wait returned it, the other tasks' ctx is cancelled and Submit
//     admits nothing; with [Blocking], a Submit waiting for a slot when
//     the group fails returns an error, its task not started.
//   - [Portable]: tasks run in another process; only registered
//     functions' tasks are admitted (others get [execkit.ErrNotPortable]),
//     and an error keeps its identity only for declared sentinels.
//   - [Synchronous]: Submit runs the task before it returns (as
//     [execkit.Inline]); the checks that need Submit to return while the
//     task runs are skipped, and a task that calls runtime.Goexit is
//     submitted from a goroutine of its own, which it ends.
//   - [AdmitsFollowUp]: a running task's Submit is admitted during
//     Shutdown, which waits for it; without it that Submit must return
//     [execkit.ErrClosed].
//   - [HardTimeLimit](grace): a registered function's [execkit.TimeLimit]
//     stops even a function that never looks at its ctx, within grace
//     after the limit; the suite checks it with a busy loop and that the
//     executor goes on. Without it the limit is cooperative.
//   - [IgnoreTopFunction]: goroutines a dependency starts outside the
//     executor's control, which the leak check should not count.
//
// # How the suite is tested
//
// The suite is itself tested against deliberately broken executors (one
// drops a task, one runs a task twice, one leaks a goroutine, one lets a
// panic escape, one ignores its ctx, one keeps accepting after Shutdown,
// two replace a task's error by its text, one tells the tasks it cancelled
// only after Shutdown returned, one panics on a nil ctx, one on a nil
// receiver, one reports a Thread's error to onError too, one drops a running
// task's follow-up during
// Shutdown, one returns from Shutdown before such follow-ups finished, one
// refuses them though it declares [AdmitsFollowUp], one that does not
// carry a call's cancellation to where the function runs, one that
// carries it there as a plain cancel (the function's ctx says
// context.Canceled where a deadline passed), one that
// declares a hard time limit but only cancels the ctx, one that retries a
// failed task on top of its Retry policy, one that loses
// [execkit.ErrPermanent] on the way back and so retries a permanent error,
// one that gives each task a rate limiter of its own, one that counts a
// timeout for every error wrapping [execkit.ErrTimeLimit] that comes back
// from where the function ran (a nested call's limit too), a group that fails
// only once the failing task's Future has reported the failure, a bounded
// group that admits the Submits waiting for a slot after it failed, one
// whose Stats leaves a task that called runtime.Goexit Running, one whose
// Shutdown waits in its first call only and returns nil at once in the
// others, while tasks still run, one that keeps a Submit waiting for a slot
// through Shutdown), each
// of which it fails.
//
// # Stats
//
// An executor with a Stats method (returning an [execkit.Stats], or a
// struct that embeds one, as pool's and errgroup's do) is checked at the
// end of every check whose Shutdown waited for the tasks: every admitted
// task is counted ended, once (Queued and Running are 0, and Submitted is
// Succeeded+Failed+Panicked), whatever its outcome (a panic, a
// runtime.Goexit, a cancelled Future, a task the executor gave up on).
// The policy checks read Retries and Timeouts from the same method.
//
// # Task policies
//
// Every executor is checked against the table of guarantees in package
// execkit's doc: a function with a [execkit.TimeLimit] waiting on its ctx
// fails with [execkit.ErrTimeLimit] soon after the limit; with
// [execkit.Retry](2) a function that always fails runs exactly 3 times
// (through a Future and through a Task), and not again on an error
// wrapping [execkit.ErrPermanent]; 5 calls limited to 10/s take about
// 400ms, on the real clock; an executor with a Stats method counts the
// timeouts and retries: a timeout only for an attempt that passed the
// function's own limit, not for one that returned the error of a nested
// call's limit (which wraps ErrTimeLimit too), as is or wrapped, with or
// without a TimeLimit of its own. The policy tasks are registered functions too
// ("executortest.policy.*").
package executortest
