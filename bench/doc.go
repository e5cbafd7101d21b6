// Package bench is execkit's comparison matrix: every way of running a task
// in the background, measured side by side on the same workloads, on the
// machine at hand. It is a module of its own, so the peer libraries it
// measures execkit against (ants, conc, pond, workerpool) and its plotting
// library never enter the library's go.mod.
//
// Two entry points run it:
//
//	go test -bench . ./...        # the Go cells as benchmarks, workload=X/strategy=Y
//	go run ./cmd/compare          # every cell, Python's included: tables, JSON, charts
//
// # The matrix
//
// A [Workload] is a column: a function registered with execkit.Register at
// package level ([Noop], [Spin], [Sleep], [FailOrSleep]), the argument of
// each call, the batch size and how the batch is driven ([Kind]): a batch
// waited for as a whole, a fail-fast batch, one call at a time (round
// trip), a map, or a batch in a child process measured for peak memory.
// Because the functions are registered, the same function runs on every
// strategy, in this process or in a worker process.
//
// A [Strategy] is a row: a small adapter whose Runner runs batches of a
// workload. The rows are raw goroutines, the peers used directly the way
// their documentation shows, execkit's executors behind one adapter (any
// execkit.Executor submits an execTask that records its end in the batch),
// a raw pipe to re-executed children as the floor of crossing a process
// boundary, and the Python originals, which bench/python/bench.py runs
// from a JSON plan, printing JSON lines that [ParsePython] reads. Adding an
// executor is adding one Strategy value (executorRow makes one for any
// execkit.Executor); the riverexec rows (riverexec.go) run on an embedded
// SQLite file always and on PostgreSQL when EXECKIT_PG_URL names a
// database, beside their Python original, Celery on a Redis broker
// (celery.go: where /usr/bin/python3 has Celery and redis-server is
// installed), driven from Go through a client process.
//
// # Measuring honestly on a busy machine
//
// [Compare] runs every cell once per round, the strategies of a workload
// alternating within the round and starting one later each round
// ([Schedule]), and reports the [Median] of the rounds. A sample runs one
// untimed warm-up batch of the full size (so that it starts from memory
// its strategy used, not from what the previous cell left or returned to
// the OS), then timed batches until a minimum time has passed; allocations come from runtime.MemStats around the timed part and
// peak goroutines from a sampler ticking every millisecond. Memory cells
// re-execute the binary ([ChildMain] serves as the child) so that one case
// cannot inflate another's peak RSS, which the parent reads from the
// child's rusage.
//
// Each [Result] carries its ratio to its family's baseline (raw go; the
// library an adapter wraps; the raw pipe floor) and to its Python original;
// [Targets] checks the project's promised ratios (PASS, MISS or N/A).
// [WriteMarkdown] and [WriteCharts] render a [Report]; results.json is the
// Report itself, whose layout [SchemaVersion] versions.
package bench
