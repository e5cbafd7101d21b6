// Package compare answers "which strategy for my function?" by measuring
// it: a registered [execkit.Func], called on the user's own sample inputs,
// runs on every execkit strategy, and the advice names the executor and
// size to use with the measured numbers behind it.
//
// # From a benchmark
//
// Five lines in a _test.go file:
//
//	func TestMain(m *testing.M) { subprocess.Main(); os.Exit(m.Run()) } // optional: adds subprocess
//
//	func BenchmarkStrategies(b *testing.B) {
//		compare.Benchmark(b, resize, []Image{small, large})
//	}
//
// `go test -bench Strategies` runs one sub-benchmark per strategy, named
// strategy=<name>, reporting ns/op (per call of the function: the median
// of the sub-benchmark's five rounds, the number the advice uses), B/op,
// allocs/op, cpu-ns/op and peak-goroutines, then prints the advice;
// `go test -bench Strategies -count 6 | benchstat` compares them.
//
// # From a program
//
// [Run] does the same measurement and returns a [Report]: its String method
// renders a table and the advice, encoding/json renders it as JSON, and
// [Progress] reports on stderr as it goes.
//
// # The strategies
//
// Inline (the baseline: one call at a time, in the caller), pool at the core
// count, twice it, then eight times the previous size while the time per call
// keeps falling by more than 10% (up to [Batch], the most calls in flight),
// fireforget with a Limit of the best pool size and unbounded, errgroup, and
// subprocess with one worker per core when the binary calls subprocess.Main
// (the report says how to enable it when not, and why the function could
// not run in a worker when it could not). Every call goes through the
// function's Go method on the executor, in batches that are waited for, so
// what is measured is what a caller of the same executor would see.
//
// Every strategy but inline calls the function from many goroutines at
// once, up to [Batch] of them: it must be safe for concurrent use, as it
// must be to run on those executors at all (run the comparison under -race
// to check). A call that returns an error or panics (a *execkit.PanicError)
// stops [Run] with that error and fails [Benchmark]'s sub-benchmark, and
// so does a call that ends its goroutine (runtime.Goexit) in the inline
// strategy, which runs it in the measuring goroutine:
// numbers that mix failures with results would mislead.
//
// # The advice
//
// Each strategy is timed in five rounds; the spread of the rounds is its
// noise. The fastest strategy and every strategy within noise of it (the
// sum of their spreads, or 5%) are tied, and the advice says so; among them
// it recommends the one with the smallest footprint (in-process, then the
// fewest goroutines, peaks within 10% counting as the same, then the
// fewest calls at once, then the fastest), and when that is errgroup it
// says that errgroup's calls fail together. Every other reason is a
// measured number: the kind of work
// (CPU time over the wall time of one call, less the time it waited for a
// core taken by other work, which Linux reports: a busy machine does not
// make a CPU-bound function look like one that waits; the CPU time is the
// whole process's, so other work in it counts: when that passes the
// call's time, the advice says so rather than print a share over 100%),
// the cores saturated (CPU
// per call ≈ time per call × cores) or waits overlapped (how much faster
// than a pool of one worker per core), the goroutines held, what a
// call costs more in a worker process, and, for a function shorter than
// execkit's cost per task (inline calls go through &execkit.Inline{} and
// a Future, about a microsecond), what a direct call costs.
//
// # Cost
//
// [Run] spends about [TimePerStrategy] per strategy (half a second by
// default): the whole run over a 1 ms function takes about ten seconds on
// two cores. A round makes at least one wave of calls, so a function slower
// than a fifth of TimePerStrategy takes about ten calls' time per strategy
// instead: half a minute for a call of 300 ms. A round also calls the
// function on every sample, as many times each (whole passes over the
// samples, so that rounds differ by noise only, not by their inputs): with
// many slow samples, a round lasts at least a pass. [Benchmark] follows
// -benchtime (one second per sub-benchmark by default), its rounds whole
// passes too when b.N is at least five times the samples.
//
// The package imports only the standard library and execkit's packages, so
// it adds nothing to a user's go.sum beyond execkit's own requirements.
package compare
