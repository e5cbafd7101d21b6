// Package executortest checks that an [execkit.Executor] keeps the
// contract, as testing/fstest does for file systems. Call [Run] from a test
// with a function that makes a fresh executor, and declare with options how
// it differs from the default (bounded admission, fail-fast group,
// process-crossing, synchronous):
//
//	func TestConformance(t *testing.T) {
//		executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
//			return mypkg.New(mypkg.OnError(onError))
//		}, executortest.Blocking(4))
//	}
//
// The suite's tasks are one function registered with [execkit.Register]
// ("executortest.job"), so they run on executors whose tasks run in another
// process too; they record what happens to them in files, which both sides
// of a process boundary see. The suite is itself tested against
// deliberately broken executors (one drops a task, one runs a task twice,
// one leaks a goroutine, one lets a panic escape, one ignores its ctx, one
// keeps accepting after Shutdown, two replace a task's error by its text,
// one tells the tasks it cancelled only after Shutdown returned, one
// panics on a nil ctx, one reports a Thread's error to onError too, one drops
// a running task's follow-up during Shutdown, one returns from Shutdown
// before such follow-ups finished, one refuses them though it declares
// [AdmitsFollowUp]), each of which it fails.
package executortest
